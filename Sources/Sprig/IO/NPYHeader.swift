/// The header of a `.npy` file: a Python dict literal with the keys `descr` (a dtype string),
/// `fortran_order` (`True`/`False`) and `shape` (a tuple of integers), e.g.
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
struct NPYHeader: Equatable {
    var descriptor: String
    var fortranOrder: Bool
    var shape: [Int]

    /// Why a header could not be parsed.
    struct ParseError: Error {
        var reason: String
    }

    /// Parses the literal; unknown keys are an error, as in NumPy.
    init(parsing text: String) throws {
        var scanner = Scanner(Array(text.utf8))
        var descriptor: String?
        var fortranOrder: Bool?
        var shape: [Int]?
        try scanner.expect(UInt8(ascii: "{"))
        while true {
            scanner.skipSpaces()
            if scanner.consume(UInt8(ascii: "}")) { break }
            let key = try scanner.string()
            try scanner.expect(UInt8(ascii: ":"))
            switch key {
            case "descr": descriptor = try scanner.string()
            case "fortran_order": fortranOrder = try scanner.boolean()
            case "shape": shape = try scanner.integerTuple()
            default: throw ParseError(reason: "unexpected key '\(key)'")
            }
            scanner.skipSpaces()
            if scanner.consume(UInt8(ascii: ",")) { continue }
            try scanner.expect(UInt8(ascii: "}"))
            break
        }
        scanner.skipSpaces()
        guard scanner.atEnd else { throw ParseError(reason: "text after the closing brace") }
        guard let descriptor else { throw ParseError(reason: "missing 'descr'") }
        guard let fortranOrder else { throw ParseError(reason: "missing 'fortran_order'") }
        guard let shape else { throw ParseError(reason: "missing 'shape'") }
        self.descriptor = descriptor
        self.fortranOrder = fortranOrder
        self.shape = shape
    }

    /// A cursor over the header's bytes that reads the few Python literals a header contains.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        mutating func skipSpaces() {
            while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipSpaces()
            guard position < bytes.count, bytes[position] == byte else { return false }
            position += 1
            return true
        }

        mutating func expect(_ byte: UInt8) throws {
            guard consume(byte) else {
                throw ParseError(reason: "expected '\(Character(Unicode.Scalar(byte)))' at offset \(position)")
            }
        }

        /// A quoted string ('…' or "…", without escapes).
        mutating func string() throws -> String {
            skipSpaces()
            guard position < bytes.count, bytes[position] == 0x27 || bytes[position] == 0x22 else {
                throw ParseError(reason: "expected a quoted string at offset \(position)")
            }
            let quote = bytes[position]
            let start = position + 1
            guard let end = bytes[start...].firstIndex(of: quote) else {
                throw ParseError(reason: "unterminated string")
            }
            position = end + 1
            return String(decoding: bytes[start ..< end], as: UTF8.self)
        }

        mutating func boolean() throws -> Bool {
            skipSpaces()
            for (word, value) in [("True", true), ("False", false)] {
                let letters = Array(word.utf8)
                if bytes.count - position >= letters.count,
                   Array(bytes[position ..< position + letters.count]) == letters {
                    position += letters.count
                    return value
                }
            }
            throw ParseError(reason: "expected True or False at offset \(position)")
        }

        /// A tuple of non-negative integers: `()`, `(3,)`, `(3, 4)`, `(3, 4,)`.
        mutating func integerTuple() throws -> [Int] {
            try expect(UInt8(ascii: "("))
            var values: [Int] = []
            while true {
                if consume(UInt8(ascii: ")")) { return values }
                values.append(try integer())
                if consume(UInt8(ascii: ",")) { continue }
                try expect(UInt8(ascii: ")"))
                return values
            }
        }

        mutating func integer() throws -> Int {
            skipSpaces()
            var value = 0
            let start = position
            while position < bytes.count, (0x30 ... 0x39).contains(bytes[position]) {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (next, overflow2) = times10.addingReportingOverflow(Int(bytes[position] - 0x30))
                guard !overflow1, !overflow2 else { throw ParseError(reason: "dimension too large") }
                value = next
                position += 1
            }
            // Python 2 era headers may write long integers as `3L`.
            if position < bytes.count, bytes[position] == UInt8(ascii: "L") { position += 1 }
            guard position > start else {
                throw ParseError(reason: "expected a non-negative integer at offset \(start)")
            }
            return value
        }
    }
}
