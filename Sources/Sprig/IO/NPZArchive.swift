import Foundation
import ZIPFoundation

/// NumPy `.npz` archives: a ZIP file whose entries `NAME.npy` each hold one `.npy` array
/// (`np.savez` stores them, `np.savez_compressed` deflates them; both are read).
public enum NPZArchive {
    /// Bytes per read or write call inside the ZIP library (its default is 16 KiB).
    private static let bufferSize = 1 << 20

    /// The arrays of the archive at `path`, keyed by entry name without `.npy`. Entries that
    /// are not `.npy` files are ignored. Throws `SprigError.io` if the file cannot be read and
    /// `SprigError.format` (naming the path and the entry) if it is not a valid archive.
    public static func read(path: String) throws -> [String: NPYArray] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw SprigError.io(path: path, reason: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw SprigError.io(path: path, reason: "is a directory, not an .npz file")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw SprigError.io(path: path, reason: "permission denied")
        }
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw SprigError.format(path: path, reason: "not a ZIP (.npz) archive, or truncated (\(error))")
        }
        var arrays: [String: NPYArray] = [:]
        for entry in archive where entry.type == .file && entry.path.hasSuffix(".npy") {
            let name = String(entry.path.dropLast(4))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(Int(min(entry.uncompressedSize, 1 << 30)))
            let checksum: CRC32
            do {
                checksum = try archive.extract(entry, bufferSize: bufferSize) { chunk in
                    bytes.append(contentsOf: chunk)
                }
            } catch {
                throw SprigError.format(path: path, reason: "entry \(entry.path) is corrupt or truncated (\(error))")
            }
            // ZIPFoundation's streaming extract computes the CRC-32 but does not compare it.
            guard checksum == entry.checksum else {
                throw SprigError.format(path: path, reason: "entry \(entry.path) is corrupt: its CRC-32 is "
                                        + "\(hex(checksum)) but the archive lists \(hex(entry.checksum))")
            }
            guard UInt64(bytes.count) == entry.uncompressedSize else {
                throw SprigError.format(path: path, reason: "entry \(entry.path) has \(bytes.count) bytes but the "
                                        + "archive lists \(entry.uncompressedSize)")
            }
            guard arrays[name] == nil else {
                throw SprigError.format(path: path, reason: "entry \(entry.path) appears twice")
            }
            arrays[name] = try NPYArray.decode(bytes, source: "\(path): \(name)")
        }
        return arrays
    }

    private static func hex(_ value: CRC32) -> String { "0x" + String(value, radix: 16, uppercase: true) }

    /// Writes `arrays` as entries `NAME.npy` (stored, or deflated when `compressed`) of a new
    /// archive at `path`, replacing any file there. The archive is written to a temporary file
    /// in the same directory and renamed over `path`, so `path` is never half-written; on
    /// failure the temporary file is removed. Names must be non-empty and distinct.
    public static func write(_ arrays: [(name: String, array: NPYArray)], to path: String,
                             compressed: Bool = false) throws {
        var names = Set<String>()
        for (name, _) in arrays {
            guard !name.isEmpty else { throw SprigError.invalidArgument("\(path): an array name is empty") }
            guard names.insert(name).inserted else {
                throw SprigError.invalidArgument("\(path): the array name \(name) is used twice")
            }
        }
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw SprigError.io(path: path, reason: "cannot write: the directory \(directory.path) does not exist")
        }
        let uniqueSuffix = "\(ProcessInfo.processInfo.processIdentifier).\(UInt32.random(in: 0 ... .max))"
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(uniqueSuffix).tmp")
        do {
            do {
                try writeArchive(arrays, to: temporary, compressed: compressed)
                // Flush to disk before the rename so a crash cannot leave a renamed empty file.
                let handle = try FileHandle(forWritingTo: temporary)
                try handle.synchronize()
                try handle.close()
            } catch {
                throw SprigError.io(path: path, reason: "cannot write the archive (\(error))")
            }
            guard rename(temporary.path, path) == 0 else {
                throw SprigError.io(path: path, reason: "cannot move the finished archive into place: "
                                    + String(cString: strerror(errno)))
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    /// Writes the entries with ZIPFoundation; the archive file is closed when this returns.
    private static func writeArchive(_ arrays: [(name: String, array: NPYArray)], to url: URL,
                                     compressed: Bool) throws {
        let archive = try Archive(url: url, accessMode: .create)
        for (name, array) in arrays {
            let bytes = array.encoded()
            try archive.addEntry(with: name + ".npy", type: .file, uncompressedSize: Int64(bytes.count),
                                 compressionMethod: compressed ? .deflate : .none,
                                 bufferSize: bufferSize) { position, size in
                let start = Int(position)
                return bytes.withUnsafeBytes { Data($0[start ..< start + size]) }
            }
        }
    }
}
