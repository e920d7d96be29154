import Foundation
import ZlibC

/// Reads a file in the layout of `ContainerFormat`. `init` checks the size, magic, version,
/// end marker and CRC-32 before anything is parsed; every later read is bounded by the
/// file's size. Every failure is `SprigError.format` naming the file: "not a valid
/// checkpoint: …".
struct ContainerReader {
    let path: String
    let format: ContainerFormat
    /// The file's format version (within `format.oldestReadable ... format.version`).
    let version: UInt32
    private let bytes: [UInt8]
    private let headerRange: Range<Int>
    private var position: Int
    /// Where the sections end (the CRC-32 starts).
    private let end: Int

    init(_ bytes: [UInt8], format: ContainerFormat, path: String) throws {
        self.path = path
        self.format = format
        self.bytes = bytes
        func bad(_ reason: String) -> SprigError { .format(path: path, reason: "not a valid \(format.name): \(reason)") }
        let minimum = ContainerFormat.prefixSize + ContainerFormat.suffixSize
        guard bytes.count >= minimum else { throw bad("only \(bytes.count) bytes (truncated)") }
        guard Array(bytes[0..<8]) == format.magic else {
            throw bad("wrong magic number (not a Sprig \(format.name))")
        }
        version = Self.integer(bytes, at: 8)
        guard (format.oldestReadable...format.version).contains(version) else {
            let readable = format.oldestReadable == format.version ? "version \(format.version)"
                : "versions \(format.oldestReadable) to \(format.version)"
            throw bad("format version \(version), this Sprig reads \(readable)")
        }
        // The end marker and the checksum cover the whole file: check them before parsing it.
        guard Array(bytes[(bytes.count - 4)...]) == ContainerFormat.endMarker else {
            throw bad("missing end marker (truncated or overwritten)")
        }
        let payloadEnd = bytes.count - ContainerFormat.suffixSize
        let stored: UInt32 = Self.integer(bytes, at: payloadEnd)
        let actual = bytes.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32(payloadEnd))) }
        guard stored == actual else { throw bad("checksum mismatch (stored \(stored), computed \(actual)): the file is corrupted") }
        let headerLength: UInt64 = Self.integer(bytes, at: 12)
        guard headerLength <= UInt64(payloadEnd - ContainerFormat.prefixSize) else {
            throw bad("header length \(headerLength) exceeds the file (truncated)")
        }
        end = payloadEnd
        headerRange = ContainerFormat.prefixSize ..< ContainerFormat.prefixSize + Int(headerLength)
        position = headerRange.upperBound
    }

    /// An error about this file's contents.
    func invalid(_ reason: String) -> SprigError {
        .format(path: path, reason: "not a valid \(format.name): \(reason)")
    }

    /// The JSON header.
    func header<Header: Decodable>(_ type: Header.Type) throws -> Header {
        do { return try JSONDecoder().decode(type, from: Data(bytes[headerRange])) }
        catch { throw invalid("unreadable header (\(error))") }
    }

    /// The next section: `count` elements of `T`; `what` names it in errors.
    mutating func read<T: BitwiseCopyable>(_ count: Int, of type: T.Type = T.self, what: String) throws -> [T] {
        let (size, overflow) = count.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard count >= 0, !overflow, size <= end - position else {
            throw invalid("\(what): \(count) elements do not fit in the \(end - position) bytes left (truncated or corrupted header)")
        }
        let start = position
        position += size
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start ..< start + size]))
            }
            initialized = count
        }
    }

    /// Throws unless every section has been read.
    func finish() throws {
        guard position == end else { throw invalid("\(end - position) bytes after the last section (trailing bytes)") }
    }

    private static func integer<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int) -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset ..< offset + MemoryLayout<T>.size])) }
        }
        return T(littleEndian: value)
    }
}
