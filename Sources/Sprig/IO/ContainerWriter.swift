import Foundation
import ZlibC

/// Builds a file in the layout of `ContainerFormat`: the prefix and JSON header first, then
/// the array sections as they are appended, then the CRC-32 and end marker.
struct ContainerWriter {
    private var bytes: [UInt8]

    init<Header: Encodable>(format: ContainerFormat, header: Header) throws {
        let json = try JSONEncoder().encode(header)
        bytes = format.magic
        append(format.version)
        append(UInt64(json.count))
        bytes += json
    }

    /// Appends one array section (its raw little-endian elements).
    mutating func append<T: BitwiseCopyable>(_ values: [T]) {
        values.withUnsafeBytes { bytes += $0 }
    }

    /// The finished file: everything so far, its CRC-32 and the end marker.
    consuming func finish() -> [UInt8] {
        let crc = bytes.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32($0.count))) }
        append(crc)
        bytes += ContainerFormat.endMarker
        return bytes
    }

    private mutating func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }
}
