import Foundation
import Sprig

/// The metrics file: one JSON line per epoch, written with POSIX `write` so that a failure
/// (a full disk, a removed mount) becomes a thrown error naming the file and the cause in
/// words, never a trap. A fresh run starts a new file; a resumed run appends to it.
final class MetricsFile {
    let path: String
    private let descriptor: Int32

    init(path: String, append: Bool) throws {
        self.path = path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
        guard descriptor >= 0 else { throw SprigError.fileError(path: path, action: "open the metrics file", errno: errno) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Writes `line` and a newline, all of it or an error.
    func append(_ line: Data) throws {
        var bytes = [UInt8](line)
        bytes.append(0x0A)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw SprigError.fileError(path: path, action: "write the metrics", errno: errno) }
            written += n
        }
    }
}
