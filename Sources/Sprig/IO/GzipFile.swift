import Foundation
import ZlibC

/// Reads whole files that may be gzip-compressed (RFC 1952, possibly several concatenated
/// members) or plain: zlib's `gzread` decompresses gzip input and copies anything else as is.
public enum GzipFile {
    /// Bytes handed to one `gzread` call, and the size of zlib's own input buffer.
    private static let chunkSize = 1 << 22

    /// The uncompressed contents of the file at `path`.
    ///
    /// Throws `SprigError.io` when the file cannot be opened and `SprigError.format` when
    /// gzip data ends early or fails its checks (truncated download, corrupt file).
    public static func readAll(path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SprigError.io(path: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw SprigError.io(path: path, reason: "is a directory, not a file") }

        guard let file = gzopen(path, "rb") else {
            let code = errno
            let reason = code == 0 ? "cannot open (out of memory)" : String(cString: strerror(code))
            throw SprigError.io(path: path, reason: "cannot open: \(reason)")
        }
        _ = gzbuffer(file, UInt32(chunkSize))

        var result: [UInt8] = []
        result.reserveCapacity(expectedSize(path: path))
        let chunk = UnsafeMutableRawPointer.allocate(byteCount: chunkSize, alignment: 64)
        defer { chunk.deallocate() }
        while true {
            let read = gzread(file, chunk, UInt32(chunkSize))
            if read < 0 {
                let message = zlibMessage(file)
                gzclose(file)
                throw SprigError.format(path: path, reason: "truncated or corrupt gzip data (\(message))")
            }
            if read == 0 { break }
            result.append(contentsOf: UnsafeRawBufferPointer(start: chunk, count: Int(read)))
        }
        let closed = gzclose(file)
        if closed == Z_BUF_ERROR {
            throw SprigError.format(path: path,
                                    reason: "truncated or corrupt gzip data (ends in the middle of a stream)")
        }
        if closed != Z_OK {
            throw SprigError.io(path: path, reason: "read failed (zlib error \(closed))")
        }
        return result
    }

    /// zlib's description of the last error on `file`.
    private static func zlibMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        guard let message = gzerror(file, &code) else { return "zlib error \(code)" }
        let text = String(cString: message)
        return text.isEmpty ? "zlib error \(code)" : text
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
