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
    ///
    /// Reading is bounded, so a small file cannot make it inflate gigabytes: each entry's
    /// declared size is checked against the machine's memory before inflating, compared with
    /// what its `.npy` header says the array needs as soon as the header has been inflated, and
    /// an entry that inflates beyond its declared size is refused at that point.
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
            guard arrays[name] == nil else {
                throw SprigError.format(path: path, reason: "entry \(entry.path) appears twice")
            }
            arrays[name] = try NPYArray.decode(try extract(entry, of: archive, path: path), source: "\(path): \(name)")
        }
        return arrays
    }

    /// The inflated bytes of `entry`, read within the bounds described at `read(path:)`.
    private static func extract(_ entry: Entry, of archive: Archive, path: String) throws -> [UInt8] {
        func bad(_ reason: String) -> SprigError { .format(path: path, reason: "entry \(entry.path) \(reason)") }
        var budget = MemoryBudget("entry \(entry.path), declaring \(entry.uncompressedSize) bytes,")
        do {
            try budget.add(Int(clamping: entry.uncompressedSize), elementSize: 1)
            try budget.check()
        } catch let error as SprigError {
            throw SprigError.format(path: path, reason: error.description)
        }
        let declared = Int(entry.uncompressedSize)
        var bytes: [UInt8] = []
        var headerChecked = false
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry, bufferSize: bufferSize) { chunk in
                guard chunk.count <= declared - bytes.count else {
                    throw bad("inflates beyond the \(declared) bytes the archive declares for it")
                }
                bytes.append(contentsOf: chunk)
                if !headerChecked, let size = try NPYArray.encodedByteCount(prefix: bytes, source: "\(path): \(entry.path)") {
                    guard size == declared else {
                        throw bad("declares \(declared) bytes but its .npy header needs \(size)")
                    }
                    headerChecked = true
                    bytes.reserveCapacity(size)
                }
            }
        } catch let error as SprigError {
            throw error
        } catch {
            throw bad("is corrupt or truncated (\(error))")
        }
        // ZIPFoundation's streaming extract computes the CRC-32 but does not compare it.
        guard checksum == entry.checksum else {
            throw bad("is corrupt: its CRC-32 is \(hex(checksum)) but the archive lists \(hex(entry.checksum))")
        }
        guard bytes.count == declared else {
            throw bad("has \(bytes.count) bytes but the archive lists \(declared)")
        }
        return bytes
    }

    private static func hex(_ value: CRC32) -> String { "0x" + String(value, radix: 16, uppercase: true) }

    /// Writes `arrays` as entries `NAME.npy` (stored, or deflated when `compressed`) of a new
    /// archive at `path`, replacing any file there, through `AtomicFile` (so `path` is never
    /// half-written). Names must be non-empty and distinct.
    public static func write(_ arrays: [(name: String, array: NPYArray)], to path: String,
                             compressed: Bool = false) throws {
        var names = Set<String>()
        for (name, _) in arrays {
            guard !name.isEmpty else { throw SprigError.invalidArgument("\(path): an array name is empty") }
            guard names.insert(name).inserted else {
                throw SprigError.invalidArgument("\(path): the array name \(name) is used twice")
            }
        }
        try AtomicFile.replace(path) { temporary in
            try writeArchive(arrays, to: URL(fileURLWithPath: temporary), compressed: compressed)
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
