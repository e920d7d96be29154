import Foundation

/// Strict reading of the Graph Challenge's tab-separated files, straight from the bytes:
/// every line is `INT TAB INT TAB NUMBER` (or one INT for truth files), `\r\n` allowed, a
/// final newline optional. Any other byte is an error naming the file and the line.
struct TSVScanner {
    private var bytes: [UInt8]
    private(set) var position = 0
    private(set) var line = 1
    let path: String

    /// `firstLine`: the file's line number of the first byte (when scanning a piece of a file).
    init(bytes: [UInt8], path: String, firstLine: Int = 1) {
        self.bytes = bytes
        self.line = firstLine
        self.bytes.append(0)   // a terminator, so number parsing never reads past the end
        self.path = path
    }

    /// The bytes scanned (without the terminator), leaving the scanner empty: lets a reader
    /// reuse the storage for the next piece.
    mutating func takeBytes() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &bytes)
        if !taken.isEmpty { taken.removeLast() }
        position = 0
        return taken
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

    /// A decimal floating-point number (e.g. `1`, `6.250000e-02`, `-0.3`). Plain decimals with
    /// up to 15 significant digits and |exponent| ≤ 22 are read directly — one correctly
    /// rounded operation on exact operands (Clinger's fast path), so the same double as
    /// `strtod` — and anything else goes to `strtod`.
    mutating func number() throws -> Double {
        if let value = fastDecimal() { return value }
        let start = position
        let value: Double = bytes.withUnsafeBufferPointer { buffer in
            var end: UnsafeMutablePointer<CChar>?
            let base = UnsafeRawPointer(buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)
            let v = strtod(base, &end)
            position = start + (end.map { UnsafeRawPointer($0) - UnsafeRawPointer(base) } ?? 0)
            return v
        }
        guard position > start else { throw error("expected a number, found \(describe(start))") }
        guard value.isFinite else { throw error("value \(text(start..<position)) is not a finite number") }
        return value
    }

    /// A number stored as a 32-bit float: one that overflows it (e.g. `1e300`) is refused, as
    /// are `nan` and `inf`.
    @inline(__always) mutating func float() throws -> Float {
        let start = position
        let value = Float(try number())
        guard value.isFinite else { throw error("value \(text(start..<position)) is not finite as a 32-bit float") }
        return value
    }

    private static let powers: [Double] = (0...22).map { pow(10, Double($0)) }

    /// [-]digits[.digits][e[±]digits] with ≤ 15 significant digits and |exponent| ≤ 22, else nil
    /// (position unchanged).
    private mutating func fastDecimal() -> Double? {
        var p = position
        let negative = bytes[p] == 45
        if negative || bytes[p] == 43 { p += 1 }
        var mantissa: Int64 = 0, digits = 0, scale = 0
        while bytes[p] >= 48 && bytes[p] <= 57 { mantissa = mantissa * 10 + Int64(bytes[p] - 48); digits += 1; p += 1; if digits > 15 { return nil } }
        if bytes[p] == 46 {
            p += 1
            while bytes[p] >= 48 && bytes[p] <= 57 { mantissa = mantissa * 10 + Int64(bytes[p] - 48); digits += 1; scale -= 1; p += 1; if digits > 15 { return nil } }
        }
        guard digits > 0 else { return nil }
        if bytes[p] == 101 || bytes[p] == 69 {
            p += 1
            let minus = bytes[p] == 45
            if minus || bytes[p] == 43 { p += 1 }
            var exponent = 0, expDigits = 0
            while bytes[p] >= 48 && bytes[p] <= 57 { exponent = exponent * 10 + Int(bytes[p] - 48); expDigits += 1; p += 1; if expDigits > 3 { return nil } }
            guard expDigits > 0 else { return nil }
            scale += minus ? -exponent : exponent
        }
        guard abs(scale) <= 22 else { return nil }
        // Both the mantissa (< 2^53) and 10^|scale| (≤ 10^22) are exact doubles: one rounding.
        let magnitude = scale >= 0 ? Double(mantissa) * TSVScanner.powers[scale] : Double(mantissa) / TSVScanner.powers[-scale]
        position = p
        return negative ? -magnitude : magnitude
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

    /// The bytes in `range` as text, for messages.
    private func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

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
