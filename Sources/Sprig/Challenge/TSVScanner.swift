import Foundation

/// Strict reading of the Graph Challenge's tab-separated files, straight from the bytes:
/// every line is `INT TAB INT TAB NUMBER` (or one INT for truth files), `\r\n` allowed, a
/// final newline optional. Any other byte is an error naming the file and the line.
struct TSVScanner {
    private var bytes: [UInt8]
    private(set) var position = 0
    private(set) var line = 1
    let path: String

    init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.bytes.append(0)   // a terminator, so number parsing never reads past the end
        self.path = path
    }

    var atEnd: Bool { position >= bytes.count - 1 }

    func error(_ reason: String, line: Int? = nil) -> SprigError { .format(path: path, reason: "line \(line ?? self.line): \(reason)") }

    /// A non-negative decimal integer.
    mutating func integer() throws -> Int {
        var value = 0, digits = 0
        while position < bytes.count - 1, bytes[position] >= 48, bytes[position] <= 57 {
            value = value &* 10 &+ Int(bytes[position] - 48)
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw error("expected an integer, found \(describe(position))") }
        guard digits <= 18 else { throw error("integer too long") }
        return value
    }

    /// A decimal floating-point number (e.g. `1`, `6.250000e-02`, `-0.3`).
    mutating func number() throws -> Double {
        let start = position
        let value: Double = bytes.withUnsafeBufferPointer { buffer in
            var end: UnsafeMutablePointer<CChar>?
            let base = UnsafeRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)
            let v = strtod(base, &end)
            position = start + (end.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? 0)
            return v
        }
        guard position > start, value.isFinite else { throw error("expected a number, found \(describe(start))") }
        return value
    }

    mutating func tab() throws {
        guard position < bytes.count - 1, bytes[position] == 9 else { throw error("expected a tab, found \(describe(position))") }
        position += 1
    }

    /// The end of a line (or of the file).
    mutating func endOfLine() throws {
        if position < bytes.count - 1, bytes[position] == 13 { position += 1 }
        if atEnd { return }
        guard bytes[position] == 10 else { throw error("expected the end of the line, found \(describe(position))") }
        position += 1
        line += 1
    }

    private func describe(_ at: Int) -> String {
        guard at < bytes.count - 1 else { return "the end of the file" }
        let b = bytes[at]
        switch b {
        case 9: return "a tab"
        case 10: return "the end of the line"
        case 32..<127: return "'\(Character(UnicodeScalar(b)))'"
        default: return "byte 0x\(String(b, radix: 16))"
        }
    }
}
