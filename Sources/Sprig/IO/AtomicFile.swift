import Foundation

/// Writes a whole file so that readers see the old file or the new one, never half of one:
/// the bytes go to a temporary file `.<name>.sprig-<pid>-<random>.tmp` in the same directory,
/// are flushed to disk, and the temporary file is renamed over `path`. On any failure the
/// temporary file is removed and `path` is left as it was. A writer killed before it could
/// clean up leaves its temporary file behind; the next write into the same directory removes
/// such files of this naming whose process no longer exists (and never anyone else's).
public enum AtomicFile {
    /// Writes what `body` hands to its writer, piece by piece (memory stays at one piece).
    public static func write(to path: String, body: (_ write: ([UInt8]) throws -> Void) throws -> Void) throws {
        try replace(path) { temporary in
            guard let file = fopen(temporary, "wb") else {
                throw SprigError.fileError(path: path, action: "write", errno: errno)
            }
            defer { fclose(file) }
            try body { bytes in
                let written = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, file) }
                guard written == bytes.count else { throw SprigError.fileError(path: path, action: "write", errno: errno) }
            }
            guard fflush(file) == 0 else { throw SprigError.fileError(path: path, action: "write", errno: errno) }
        }
    }

    public static func write(_ bytes: [UInt8], to path: String) throws { try write(to: path) { try $0(bytes) } }

    public static func write(_ text: String, to path: String) throws { try write(Array(text.utf8), to: path) }

    /// The general form: `body` writes the whole new file at the temporary path it is given
    /// (with any writer, e.g. a ZIP library); it is then flushed to disk and renamed over `path`.
    public static func replace(_ path: String, writingWith body: (_ temporary: String) throws -> Void) throws {
        removeStaleTemporaryFiles(in: folder(of: path))
        let temporary = temporaryPath(for: path)
        do {
            errno = 0
            do { try body(temporary) } catch {
                // A writer that reports no cause (ZIPFoundation's "operation could not be
                // completed") failed in a system call: errno still holds what that call said.
                let code = errno
                guard !(error is SprigError), SprigError.posixCode(of: error as NSError) == nil, code != 0 else { throw error }
                throw SprigError.fileError(path: path, action: "write", errno: code)
            }
            try synchronize(temporary, path: path)
            guard rename(temporary, path) == 0 else { throw SprigError.fileError(path: path, action: "write", errno: errno) }
        } catch {
            unlink(temporary)
            throw SprigError.fileError(path: path, action: "write", error: error)
        }
    }

    /// Fails now, with the cause in words, when `write` could not create its temporary file
    /// beside `path` or `path` is a directory: creates and removes such a file.
    public static func checkWritable(_ path: String) throws {
        var status = stat()
        if stat(path, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            throw SprigError.fileError(path: path, action: "write", errno: EISDIR)
        }
        let probe = temporaryPath(for: path)
        let descriptor = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw SprigError.fileError(path: path, action: "write", errno: errno) }
        close(descriptor)
        unlink(probe)
    }

    private static let marker = ".sprig-"
    private static let suffix = ".tmp"

    /// The directory `path` is in ("." for a bare name).
    private static func folder(of path: String) -> String {
        let directory = (path as NSString).deletingLastPathComponent
        return directory.isEmpty ? "." : directory
    }

    /// A fresh temporary name beside `path`: `.<name>.sprig-<pid>-<random hex>.tmp`.
    private static func temporaryPath(for path: String) -> String {
        let name = (path as NSString).lastPathComponent
        return (folder(of: path) as NSString).appendingPathComponent(
            ".\(name)\(marker)\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 16))\(suffix)")
    }

    /// Flushes the file at `temporary` to disk, so a crash after the rename cannot leave an empty file.
    private static func synchronize(_ temporary: String, path: String) throws {
        let descriptor = open(temporary, O_RDONLY)
        guard descriptor >= 0 else { throw SprigError.fileError(path: path, action: "write", errno: errno) }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw SprigError.fileError(path: path, action: "write", errno: errno) }
    }

    /// Removes `.…sprig-<pid>-<hex>.tmp` files in `directory` whose writing process `pid` is gone.
    static func removeStaleTemporaryFiles(in directory: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
        for name in names where name.hasPrefix(".") && name.hasSuffix(suffix) {
            guard let pid = writerProcess(ofTemporaryName: name), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                unlink((directory as NSString).appendingPathComponent(name))
            }
        }
    }

    /// The process id in a temporary name of our own form, or nil for any other name.
    static func writerProcess(ofTemporaryName name: String) -> pid_t? {
        guard let range = name.range(of: marker, options: .backwards) else { return nil }
        let parts = name[range.upperBound...].dropLast(suffix.count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let pid = pid_t(parts[0]), pid > 0, !parts[1].isEmpty,
              UInt32(parts[1], radix: 16) != nil else { return nil }
        return pid
    }
}
