/// A file in the IDX format used by MNIST and Fashion-MNIST, plain or gzip-compressed.
///
/// Layout (all integers big-endian): bytes 0 and 1 are zero; byte 2 is the element type
/// (only 0x08, unsigned byte, is supported); byte 3 is the number of dimensions `d`; then
/// `d` UInt32 sizes; then exactly `size₀ × … × size_{d−1}` elements in row-major order.
public struct IDXFile: Sendable, Equatable {
    /// The sizes of the dimensions, outermost first (e.g. `[60000, 28, 28]`).
    public let dimensions: [Int]
    /// The elements in row-major order; `bytes.count` is the product of `dimensions`.
    public let bytes: [UInt8]

    public init(dimensions: [Int], bytes: [UInt8]) {
        self.dimensions = dimensions
        self.bytes = bytes
    }

    /// Reads and checks the IDX file at `path` (gzip-compressed or not).
    public static func read(path: String) throws -> IDXFile {
        try parse(GzipFile.readAll(path: path), path: path)
    }

    /// Checks and splits the contents of an IDX file; `path` only names it in errors.
    public static func parse(_ contents: [UInt8], path: String) throws -> IDXFile {
        guard contents.count >= 4 else {
            throw SprigError.format(path: path, reason: "truncated IDX header: the file has \(contents.count) "
                                    + "bytes, fewer than the 4-byte magic number")
        }
        guard contents[0] == 0, contents[1] == 0 else {
            throw SprigError.format(path: path, reason: "bad IDX magic number: the first two bytes are "
                                    + "\(hex(contents[0])) \(hex(contents[1])), expected 0x00 0x00 "
                                    + "(not an IDX file, or a compressed file that is not gzip)")
        }
        let typeCode = contents[2]
        guard typeCode == 0x08 else {
            throw SprigError.format(path: path, reason: "unsupported IDX element type \(hex(typeCode))"
                                    + " (\(typeName(typeCode))); only 0x08 (unsigned byte) is supported")
        }
        let rank = Int(contents[3])
        guard rank >= 1 else {
            throw SprigError.format(path: path, reason: "IDX header declares 0 dimensions")
        }
        let headerSize = 4 + 4 * rank
        guard contents.count >= headerSize else {
            throw SprigError.format(path: path, reason: "truncated IDX header: \(rank) dimensions need "
                                    + "\(headerSize) header bytes but the file has \(contents.count)")
        }
        var dimensions: [Int] = []
        var elementCount = 1
        var overflow = false
        for axis in 0 ..< rank {
            let at = 4 + 4 * axis
            let size = Int(contents[at]) << 24 | Int(contents[at + 1]) << 16
                | Int(contents[at + 2]) << 8 | Int(contents[at + 3])
            dimensions.append(size)
            let product = elementCount.multipliedReportingOverflow(by: size)
            overflow = overflow || product.overflow
            elementCount = product.partialValue
        }
        let shape = dimensions.map(String.init).joined(separator: " × ")
        let dataSize = contents.count - headerSize
        guard !overflow, dataSize == elementCount else {
            let expected = overflow ? "more than \(Int.max)" : "\(elementCount)"
            let problem = overflow || dataSize < elementCount
                ? "truncated"
                : "\(dataSize - elementCount) trailing byte\(dataSize - elementCount == 1 ? "" : "s")"
            throw SprigError.format(path: path, reason: "IDX data size mismatch: dimensions \(shape) need "
                                    + "\(expected) data bytes after the \(headerSize)-byte header but \(dataSize) "
                                    + "follow (\(problem))")
        }
        return IDXFile(dimensions: dimensions, bytes: Array(contents[headerSize...]))
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }

    /// The IDX standard's name for an element type code.
    private static func typeName(_ code: UInt8) -> String {
        switch code {
        case 0x08: return "unsigned byte"
        case 0x09: return "signed byte"
        case 0x0B: return "16-bit integer"
        case 0x0C: return "32-bit integer"
        case 0x0D: return "32-bit float"
        case 0x0E: return "64-bit float"
        default: return "not an IDX type code"
        }
    }
}
