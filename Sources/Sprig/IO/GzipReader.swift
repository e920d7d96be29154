import Foundation
import ZlibC

/// Reads a file that may be gzip-compressed (RFC 1952, possibly several concatenated members)
/// or plain, a piece at a time: zlib's `gzread` decompresses gzip input and copies anything
/// else as is. Memory stays at zlib's buffer whatever the file's size.
///
/// Throws `SprigError.io` when the file cannot be opened and `SprigError.format` when gzip
/// data ends early or fails its checks (truncated download, corrupt file).
public final class GzipReader {
    /// The size of zlib's own input buffer.
    public static let bufferSize = 1 << 22

    public let path: String
    private var file: gzFile?

    public init(path: String) throws {
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
        _ = gzbuffer(file, UInt32(Self.bufferSize))
        self.path = path
        self.file = file
    }

    deinit { if let file { gzclose(file) } }

    /// Reads up to `count` (< 2^31) uncompressed bytes into `buffer`; returns how many, 0 at
    /// the end of the file. At the end the file is closed and checked.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        guard let file else { return 0 }
        let read = gzread(file, buffer, UInt32(min(count, Int(Int32.max))))
        if read < 0 {
            let message = Self.zlibMessage(file)
            gzclose(file)
            self.file = nil
            throw SprigError.format(path: path, reason: "truncated or corrupt gzip data (\(message))")
        }
        if read == 0 {
            self.file = nil
            let closed = gzclose(file)
            if closed == Z_BUF_ERROR {
                throw SprigError.format(path: path, reason: "truncated or corrupt gzip data (ends in the middle of a stream)")
            }
            if closed != Z_OK { throw SprigError.io(path: path, reason: "read failed (zlib error \(closed))") }
        }
        return Int(read)
    }

    /// Appends up to `count` more bytes to `bytes`; returns how many (0 at the end).
    public func append(to bytes: inout [UInt8], count: Int) throws -> Int {
        let start = bytes.count
        var got = 0
        bytes.append(contentsOf: repeatElement(0, count: count))
        defer { bytes.removeLast(count - got) }
        got = try bytes.withUnsafeMutableBytes { try read(into: $0.baseAddress! + start, count: count) }
        return got
    }

    /// zlib's description of the last error on `file`.
    private static func zlibMessage(_ file: gzFile) -> String {
        var code: Int32 = 0
        guard let message = gzerror(file, &code) else { return "zlib error \(code)" }
        let text = String(cString: message)
        return text.isEmpty ? "zlib error \(code)" : text
    }
}
