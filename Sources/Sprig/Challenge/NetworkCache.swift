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
/// time. Kept in `~/.cache/sprig` (or `$XDG_CACHE_HOME/sprig`), named by the network
/// directory's path and the size. A cache that does not match its source's fingerprint, or
/// fails any check (version 1 files included), is ignored and rewritten.
public enum NetworkCache {
    static let format = ContainerFormat(magic: "SPRIGNET", version: 2, name: "network cache")

    struct Header: Codable {
        var neurons: Int
        var layers: Int
        var fingerprint: String
        var nonzeros: [Int]
    }

    public static func directory() -> String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CACHE_HOME"] ?? ((environment["HOME"] ?? NSTemporaryDirectory()) + "/.cache")
        return base + "/sprig"
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

    /// The network from its cache when valid, else from the text files (then cached; a cache
    /// that cannot be written is only noted). `note` receives what happened.
    public static func readNetwork(directory network: String, neurons: Int, layers: Int, pool: ThreadPool,
                                   useCache: Bool = true, note: (String) -> Void = { _ in }) throws -> [ChallengeLayer] {
        guard useCache else { return try ChallengeFiles.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool) }
        let fingerprint = try fingerprint(network: network, neurons: neurons, layers: layers)
        let path = path(network: network, neurons: neurons, layers: layers)
        if let data = try? Data(contentsOf: URL(fileURLWithPath: path)) {
            let (cached, reason) = decode([UInt8](data), neurons: neurons, layers: layers, fingerprint: fingerprint)
            if let cached { note("network read from cache \(path)"); return cached }
            note("ignoring cache \(path): \(reason)")
        }
        let parsed = try ChallengeFiles.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool)
        do {
            do { try FileManager.default.createDirectory(atPath: directory(), withIntermediateDirectories: true) }
            catch { throw SprigError.fileError(path: directory(), action: "create the directory", error: error) }
            try AtomicFile.write(try encode(parsed, neurons: neurons, fingerprint: fingerprint), to: path)
            note("network cached in \(path)")
        } catch {
            note("could not write the network cache \(path): \(error)")
        }
        return parsed
    }
}
