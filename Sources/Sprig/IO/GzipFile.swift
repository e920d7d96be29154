import Foundation
import ZlibC

/// Reads whole files that may be gzip-compressed or plain (see `GzipReader`).
public enum GzipFile {
    /// Bytes asked of the reader at a time.
    private static let chunkSize = 1 << 22

    /// The uncompressed contents of the file at `path` (errors as `GzipReader`'s).
    public static func readAll(path: String) throws -> [UInt8] {
        let reader = try GzipReader(path: path)
        var result: [UInt8] = []
        result.reserveCapacity(expectedSize(path: path) + chunkSize)   // room for the last, partial read
        while try reader.append(to: &result, count: chunkSize) > 0 {}
        return result
    }

    /// A capacity hint: the size of a plain file, or for gzip the ISIZE field of the trailer
    /// (uncompressed size mod 2^32 of the last member), trusted only up to deflate's 1032:1
    /// limit. The result only sizes the first allocation; reading does not depend on it.
    private static func expectedSize(path: String) -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        guard let fileSize = try? handle.seekToEnd(), fileSize > 0 else { return 0 }
        try? handle.seek(toOffset: 0)
        guard let magic = try? handle.read(upToCount: 2), magic.count == 2 else { return Int(fileSize) }
        guard magic[magic.startIndex] == 0x1F, magic[magic.startIndex + 1] == 0x8B, fileSize >= 18 else {
            return Int(fileSize)
        }
        try? handle.seek(toOffset: fileSize - 4)
        guard let trailer = try? handle.read(upToCount: 4), trailer.count == 4 else { return 0 }
        let bytes = Array(trailer)
        let isize = Int(bytes[0]) | Int(bytes[1]) << 8 | Int(bytes[2]) << 16 | Int(bytes[3]) << 24
        return min(isize, Int(fileSize) * 1032)
    }
}
