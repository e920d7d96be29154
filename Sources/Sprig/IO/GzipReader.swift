import Foundation
import ZlibC

/// Reads a file that may be gzip-compressed (RFC 1952, possibly several concatenated members)
/// or plain, a piece at a time: a file that starts with gzip's magic `1f 8b` is inflated with
/// zlib, member after member; anything else is copied as it is. Memory stays at one input
/// buffer whatever the file's size.
///
/// Throws `SprigError.io` when the file cannot be opened or read, and `SprigError.format`
/// when gzip data ends early, fails its checks (truncated download, corrupt file), or is
/// followed by bytes that are not another gzip member (trailing garbage, which zlib's own
/// `gzread` would ignore silently).
public final class GzipReader {
    /// The size of the compressed input buffer.
    private static let bufferSize = 1 << 22

    public let path: String
    private let file: UnsafeMutablePointer<FILE>
    private var input: [UInt8]
    /// Valid bytes in `input`, and the file offset of `input[0]`.
    private var inputCount = 0
    private var inputOffset = 0
    /// A plain file: how much of the first buffer has been handed out.
    private var plainPosition = 0
    private var stream = z_stream()
    private var isGzip = false
    /// Whether inflating stands between two members (after one's end, before the next's start).
    private var betweenMembers = false
    private var finished = false

    public init(path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SprigError.io(path: path, reason: "no such file")
        }
        if isDirectory.boolValue { throw SprigError.io(path: path, reason: "is a directory, not a file") }
        guard let file = fopen(path, "rb") else { throw SprigError.fileError(path: path, action: "open", errno: errno) }
        self.path = path
        self.file = file
        input = [UInt8](repeating: 0, count: Self.bufferSize)
        do {
            try refill()
        } catch {
            fclose(file)
            throw error
        }
        isGzip = inputCount >= 2 && input[0] == 0x1F && input[1] == 0x8B
        if isGzip {
            // 15 + 16: a 32 KiB window, gzip wrapper only.
            guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                fclose(file)
                throw SprigError.io(path: path, reason: "cannot open: zlib could not start (out of memory)")
            }
        }
    }

    deinit {
        if isGzip { inflateEnd(&stream) }
        fclose(file)
    }

    /// Reads up to `count` (< 2^31) uncompressed bytes into `buffer`; returns how many, 0 at
    /// the end of the file. At the end the whole file has been checked.
    public func read(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        guard !finished, count > 0 else { return 0 }
        return isGzip ? try inflate(into: buffer, count: count) : try copy(into: buffer, count: count)
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

    /// A plain file: the buffered bytes, then the rest straight from the file.
    private func copy(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        if plainPosition < inputCount {
            let n = min(count, inputCount - plainPosition)
            input.withUnsafeBytes { buffer.copyMemory(from: $0.baseAddress! + plainPosition, byteCount: n) }
            plainPosition += n
            return n
        }
        let n = fread(buffer, 1, count, file)
        if n == 0 {
            if ferror(file) != 0 { throw SprigError.fileError(path: path, action: "read", errno: errno) }
            finished = true
        }
        return n
    }

    /// Gzip: inflates members until `count` bytes are produced or the file ends.
    private func inflate(into buffer: UnsafeMutableRawPointer, count: Int) throws -> Int {
        var produced = 0
        while produced < count {
            if stream.avail_in == 0 || (betweenMembers && stream.avail_in < 2) {
                try refill()
                if stream.avail_in == 0 {
                    guard betweenMembers else {
                        throw SprigError.format(path: path, reason: "truncated or corrupt gzip data (ends in the middle of a stream)")
                    }
                    finished = true
                    return produced
                }
            }
            if betweenMembers {
                let next = inputCount - Int(stream.avail_in)
                guard stream.avail_in >= 2, input[next] == 0x1F, input[next + 1] == 0x8B else {
                    throw SprigError.format(path: path, reason: "trailing garbage after the last gzip member "
                                            + "(\(inputOffset + next) bytes of gzip data, then \(stream.avail_in == 1 ? "a byte" : "bytes") "
                                            + "that are not another member)")
                }
                inflateReset(&stream)
                betweenMembers = false
            }
            let result: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
                stream.next_in = inputBuffer.baseAddress! + (inputCount - Int(stream.avail_in))
                stream.next_out = (buffer + produced).assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(min(count - produced, Int(Int32.max)))
                let before = stream.avail_out
                let result = ZlibC.inflate(&stream, Z_NO_FLUSH)
                produced += Int(before - stream.avail_out)
                stream.next_in = nil
                return result
            }
            switch result {
            case Z_STREAM_END: betweenMembers = true
            case Z_OK, Z_BUF_ERROR: break
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "zlib error \(result)"
                throw SprigError.format(path: path, reason: "truncated or corrupt gzip data (\(message))")
            }
        }
        return produced
    }

    /// Moves the unread input to the front of the buffer and fills the rest from the file.
    private func refill() throws {
        let unread = isGzip ? Int(stream.avail_in) : 0
        let consumed = inputCount - unread
        if consumed > 0 {
            input.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: $0.baseAddress! + consumed, byteCount: unread) }
            inputOffset += consumed
        }
        let n = input.withUnsafeMutableBytes { fread($0.baseAddress! + unread, 1, Self.bufferSize - unread, file) }
        if n == 0 && ferror(file) != 0 { throw SprigError.fileError(path: path, action: "read", errno: errno) }
        inputCount = unread + n
        stream.avail_in = UInt32(inputCount)
    }
}
