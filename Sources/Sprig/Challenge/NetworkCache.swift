import Foundation

/// A compact binary copy of a challenge network, so a second run skips parsing the text: a
/// `ContainerFormat` file with magic `SPRIGNET`, version 2:
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 8 | magic `SPRIGNET` |
/// | 8 | 4 | format version, UInt32 = 2 |
/// | 12 | 8 | header length H, UInt64 |
/// | 20 | H | JSON header: `neurons` N, `layers` L, `fingerprint` (hex), `nonzeros` (one count per layer) |
/// | … | | per layer: Wᵀ row offsets (Int64 × N+1), columns (Int32 × nnz), values (Float32 × nnz) |
/// | end−8 | 4 | CRC-32 of every byte before it |
/// | end−4 | 4 | end marker `SEND` |
///
/// The fingerprint is a `StableHasher` hash of every layer file's path, size and modification
/// time. Kept in `$SPRIG_CACHE_DIR`, else `$XDG_CACHE_HOME/sprig` (an absolute one), else
/// `~/.cache/sprig`, named by the network directory's path and the size
/// (`n{N}-l{L}-{hash}.sprignet`). A cache that does not match its source's fingerprint, or
/// fails any check (version 1 files included), is ignored and rewritten.
///
/// The cache files together stay within `SPRIG_CACHE_MAX_BYTES` (default 1 GiB; `K`, `M`, `G`,
/// `T` suffixes count in 1024s; 0 turns writing off): after each write the least recently used
/// ones (a read from the cache counts as a use: it sets the file's modification time) are
/// removed until they fit, and a network larger than the cap is not written. Only files named
/// as cache files are counted or removed; anything else in the directory is left alone.
public enum NetworkCache {
    static let format = ContainerFormat(magic: "SPRIGNET", version: 2, name: "network cache")

    struct Header: Codable {
        var neurons: Int
        var layers: Int
        var fingerprint: String
        var nonzeros: [Int]
    }

    /// The variable that names the cache directory itself (else `$XDG_CACHE_HOME/sprig`, else `~/.cache/sprig`).
    public static let directoryVariable = "SPRIG_CACHE_DIR"
    /// The variable that caps the cache's total size in bytes.
    public static let maximumBytesVariable = "SPRIG_CACHE_MAX_BYTES"
    /// The cap when `SPRIG_CACHE_MAX_BYTES` is not set: 1 GiB.
    public static let defaultMaximumBytes = 1 << 30

    public static func directory() -> String {
        let environment = ProcessInfo.processInfo.environment
        if let directory = environment[directoryVariable], !directory.isEmpty { return directory }
        // The XDG base directory specification: a relative (or empty) XDG_CACHE_HOME is ignored.
        if let base = environment["XDG_CACHE_HOME"], base.hasPrefix("/") { return joined(base, "sprig") }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSTemporaryDirectory()
        return joined(home, ".cache/sprig")
    }

    private static func joined(_ base: String, _ name: String) -> String {
        var base = base
        while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
        return base == "/" ? "/" + name : base + "/" + name
    }

    /// The cap on the cache files' total size: `SPRIG_CACHE_MAX_BYTES` (a whole number of bytes,
    /// optionally with a `K`, `M`, `G` or `T` suffix counting in 1024s, `KiB`/`KB`/… alike), else
    /// `defaultMaximumBytes`; anything else is refused, naming the variable and its value.
    public static func maximumBytes() throws -> Int {
        guard let typed = ProcessInfo.processInfo.environment[maximumBytesVariable] else { return defaultMaximumBytes }
        var text = typed.trimmingCharacters(in: .whitespaces).uppercased()
        for unit in ["IB", "B"] where text.hasSuffix(unit) && text.count > unit.count {
            text.removeLast(unit.count)
            break
        }
        var multiplier = 1
        if let last = text.last, let power = ["K": 1, "M": 2, "G": 3, "T": 4][String(last)] {
            multiplier = 1 << (10 * power)
            text.removeLast()
        }
        guard text.allSatisfy(\.isASCII), let number = Int(text), number >= 0 else {
            throw SprigError.invalidArgument("\(maximumBytesVariable) '\(typed)' is not a size in bytes "
                                             + "(a whole number ≥ 0, optionally with K, M, G or T, e.g. 1073741824 or 1G; 0: nothing is written)")
        }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw SprigError.invalidArgument("\(maximumBytesVariable) '\(typed)' is more bytes than a 64-bit count holds") }
        return bytes
    }

    /// One cache file: its path, size and when it was last written or read from the cache.
    public struct Entry: Sendable, Equatable {
        public var path: String
        public var bytes: Int
        public var lastUsed: Date
    }

    /// True for the names cache files have, `n{N}-l{L}-{hex}.sprignet`: the only files the cap
    /// counts and `clear` removes.
    public static func isCacheFileName(_ name: String) -> Bool {
        guard name.hasPrefix("n"), name.hasSuffix(".sprignet") else { return false }
        let parts = name.dropFirst().dropLast(".sprignet".count).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[1].hasPrefix("l") else { return false }
        let digits = Set("0123456789"), hex = Set("0123456789abcdef")
        return !parts[0].isEmpty && parts[0].allSatisfy(digits.contains)
            && parts[1].count > 1 && parts[1].dropFirst().allSatisfy(digits.contains)
            && !parts[2].isEmpty && parts[2].allSatisfy(hex.contains)
    }

    /// The cache files (regular files named as `isCacheFileName` says) in `directory`, least
    /// recently used first; none when the directory does not exist.
    public static func entries(in directory: String = directory()) throws -> [Entry] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) }
        catch {
            if !FileManager.default.fileExists(atPath: directory) { return [] }
            throw SprigError.fileError(path: directory, action: "list the cache directory", error: error)
        }
        var entries: [Entry] = []
        for name in names where isCacheFileName(name) {
            let path = (directory as NSString).appendingPathComponent(name)
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { continue }   // gone meanwhile, or not a file
            let modified = Date(timeIntervalSince1970: Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9)
            entries.append(Entry(path: path, bytes: Int(status.st_size), lastUsed: modified))
        }
        return entries.sorted { ($0.lastUsed, $0.path) < ($1.lastUsed, $1.path) }
    }

    /// Removes the least recently used cache files until those left total at most `maximum`
    /// bytes, `keeping` (the file just written) last of all; returns how many and how many bytes.
    /// A file another process removed meanwhile counts as gone.
    @discardableResult
    public static func evict(toFit maximum: Int, keeping kept: String? = nil, in directory: String = directory()) throws -> (files: Int, bytes: Int) {
        var entries = try entries(in: directory)
        if let kept, let index = entries.firstIndex(where: { $0.path == kept }) { entries.append(entries.remove(at: index)) }
        var total = entries.reduce(0) { $0 + $1.bytes }
        var removed = (files: 0, bytes: 0)
        for entry in entries where total > maximum {
            if unlink(entry.path) == 0 {
                removed.files += 1
                removed.bytes += entry.bytes
            } else if errno != ENOENT {
                throw SprigError.fileError(path: entry.path, action: "remove the cache file", errno: errno)
            }
            total -= entry.bytes
        }
        return removed
    }

    /// Removes every cache file (and nothing else) from the cache directory; returns how many
    /// files and bytes were removed.
    public static func clear(in directory: String = directory()) throws -> (files: Int, bytes: Int) {
        try evict(toFit: 0, in: directory)
    }

    public static func path(network: String, neurons: Int, layers: Int) -> String {
        var hasher = StableHasher()
        hasher.combine(URL(fileURLWithPath: network).standardizedFileURL.path)
        return directory() + "/n\(neurons)-l\(layers)-\(String(hasher.value, radix: 16)).sprignet"
    }

    /// A `StableHasher` hash of each layer file's path (absolute, standardized: the same network named by a
    /// relative path or through `..` is the same source), size and modification time.
    public static func fingerprint(network: String, neurons: Int, layers: Int) throws -> UInt64 {
        var hasher = StableHasher()
        for k in 1...layers {
            let path = try ChallengeFiles.layerPath(directory: network, neurons: neurons, layer: k)
            let attributes: [FileAttributeKey: Any]
            do { attributes = try FileManager.default.attributesOfItem(atPath: path) }
            catch { throw SprigError.fileError(path: path, action: "read", error: error) }
            hasher.combine(URL(fileURLWithPath: path).standardizedFileURL.path)
            hasher.combine((attributes[.size] as? Int) ?? 0)
            hasher.combine(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0).bitPattern)
        }
        return hasher.value
    }

    public static func encode(_ layers: [ChallengeLayer], neurons: Int, fingerprint: UInt64) throws -> [UInt8] {
        let header = Header(neurons: neurons, layers: layers.count, fingerprint: String(fingerprint, radix: 16),
                            nonzeros: layers.map(\.values.count))
        var writer = try ContainerWriter(format: format, header: header)
        for layer in layers {
            writer.append(layer.transposed.rowOffsets.map(Int64.init))
            writer.append(layer.transposed.columnIndices)
            writer.append(layer.values)
        }
        return writer.finish()
    }

    /// The layers, or nil with the reason when the bytes are not a valid cache of this network.
    public static func decode(_ bytes: [UInt8], neurons: Int, layers count: Int, fingerprint: UInt64) -> (layers: [ChallengeLayer]?, reason: String) {
        do {
            var reader = try ContainerReader(bytes, format: format, path: "cache")
            let header = try reader.header(Header.self)
            guard header.neurons == neurons, header.layers == count, header.nonzeros.count == count else { return (nil, "another size") }
            guard header.fingerprint == String(fingerprint, radix: 16) else { return (nil, "the layer files changed since it was written") }
            var layers: [ChallengeLayer] = []
            for (l, nonzeros) in header.nonzeros.enumerated() {
                let offsets = try reader.read(neurons + 1, of: Int64.self, what: "layer \(l + 1) row offsets")
                let columns = try reader.read(nonzeros, of: Int32.self, what: "layer \(l + 1) columns")
                let values = try reader.read(nonzeros, of: Float.self, what: "layer \(l + 1) values")
                let pattern = try SparsityPattern(rows: neurons, columns: neurons, rowOffsets: offsets.map { Int($0) },
                                                  columnIndices: columns, context: "layer \(l + 1)")
                layers.append(ChallengeLayer(transposed: pattern, values: values))
            }
            try reader.finish()
            return (layers, "")
        } catch SprigError.format(_, let reason) {
            return (nil, reason)
        } catch {
            return (nil, "\(error)")
        }
    }

    /// The network from its cache when valid, else from the text files (then cached, and the
    /// cache kept within its cap; a cache that cannot be written is only noted). `note` receives
    /// what happened. A bad `SPRIG_CACHE_MAX_BYTES` is an error before anything is read.
    public static func readNetwork(directory network: String, neurons: Int, layers: Int, pool: ThreadPool,
                                   useCache: Bool = true, note: (String) -> Void = { _ in }) throws -> [ChallengeLayer] {
        guard useCache else { return try ChallengeFiles.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool) }
        let maximum = try maximumBytes()
        let fingerprint = try fingerprint(network: network, neurons: neurons, layers: layers)
        let path = path(network: network, neurons: neurons, layers: layers)
        if let data = try? Data(contentsOf: URL(fileURLWithPath: path)) {
            let (cached, reason) = decode([UInt8](data), neurons: neurons, layers: layers, fingerprint: fingerprint)
            if let cached {
                utimes(path, nil)   // a use: the least recently used files are evicted first
                note("network read from cache \(path)")
                return cached
            }
            note("ignoring cache \(path): \(reason)")
        }
        let parsed = try ChallengeFiles.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool)
        do {
            let bytes = try encode(parsed, neurons: neurons, fingerprint: fingerprint)
            guard bytes.count <= maximum else {
                note("network not cached: its \(bytes.count) bytes exceed the cache's cap of \(maximum) (\(maximumBytesVariable))")
                return parsed
            }
            do { try FileManager.default.createDirectory(atPath: directory(), withIntermediateDirectories: true) }
            catch { throw SprigError.fileError(path: directory(), action: "create the directory", error: error) }
            try AtomicFile.write(bytes, to: path)
            note("network cached in \(path)")
            let evicted = try evict(toFit: maximum, keeping: path)
            if evicted.files > 0 {
                note("removed \(evicted.files) least recently used cache file\(evicted.files == 1 ? "" : "s") (\(evicted.bytes) bytes) "
                     + "to stay within \(maximum) bytes (\(maximumBytesVariable))")
            }
        } catch {
            note("could not write the network cache \(path): \(error)")
        }
        return parsed
    }
}
