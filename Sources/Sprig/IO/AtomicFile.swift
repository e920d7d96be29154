import Foundation

/// Writes a whole file so that readers see the old file or the new one, never half of one:
/// the bytes go to a temporary file in the same directory, are flushed to disk, and the
/// temporary file is renamed over `path`. On any failure the temporary file is removed and
/// `path` is left as it was.
public enum AtomicFile {
    /// Writes what `body` hands to its writer, piece by piece (memory stays at one piece).
    public static func write(to path: String, body: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        let temporary = ((directory.isEmpty ? "." : directory) as NSString).appendingPathComponent(".\(name).\(getpid()).tmp")
        guard let file = fopen(temporary, "wb") else {
            throw SprigError.io(path: path, reason: "cannot create \(temporary) (\(String(cString: strerror(errno))))")
        }
        var closed = false
        defer { if !closed { fclose(file); unlink(temporary) } }
        try body { bytes in
            let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
            guard written == bytes.count else {
                throw SprigError.io(path: path, reason: "cannot write (\(String(cString: strerror(errno))))")
            }
        }
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        closed = true
        fclose(file)
        guard flushed, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw SprigError.io(path: path, reason: "cannot write (\(reason))")
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws { try write(to: path) { try $0(bytes) } }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }
}
