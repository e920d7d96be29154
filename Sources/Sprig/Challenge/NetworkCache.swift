import Foundation
import ZlibC

/// A compact binary copy of a challenge network, so a second run skips parsing the text.
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 8 | magic `SPRIGNET` |
/// | 8 | 4 | version, UInt32 = 1 |
/// | 12 | 8 | neurons N, layers L (UInt32 each) |
/// | 20 | 8 | source fingerprint: FNV-1a of every layer file's path, size and modification time |
/// | 28 | | per layer: nonzeros (UInt64), Wᵀ row offsets (UInt32 × N+1), columns (Int32 × nnz), values (Float32 × nnz) |
/// | end−4 | 4 | CRC-32 of everything before it |
///
/// Kept in `~/.cache/sprig` (or `$XDG_CACHE_HOME/sprig`), named by the network directory's path and
/// the size. A cache that does not match its source's fingerprint, or fails any check, is
/// ignored and rewritten.
public enum NetworkCache {
    static let magic = Array("SPRIGNET".utf8)
    static let version: UInt32 = 1

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

    /// FNV-1a of each layer file's path (absolute, standardized: the same network named by a
    /// relative path or through `..` is the same source), size and modification time.
    public static func fingerprint(network: String, neurons: Int, layers: Int) throws -> UInt64 {
        var hasher = StableHasher()
        for k in 1...layers {
            let path = try ChallengeFiles.layerPath(directory: network, neurons: neurons, layer: k)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            hasher.combine(URL(fileURLWithPath: path).standardizedFileURL.path)
            hasher.combine((attributes[.size] as? Int) ?? 0)
            hasher.combine(((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0).bitPattern)
        }
        return hasher.value
    }

    public static func encode(_ layers: [ChallengeLayer], neurons: Int, fingerprint: UInt64) -> [UInt8] {
        var bytes = magic
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
        put(version); put(UInt32(neurons)); put(UInt32(layers.count)); put(fingerprint)
        for layer in layers {
            put(UInt64(layer.values.count))
            layer.transposed.rowOffsets.map { UInt32($0) }.withUnsafeBytes { bytes += $0 }
            layer.transposed.columnIndices.withUnsafeBytes { bytes += $0 }
            layer.values.withUnsafeBytes { bytes += $0 }
        }
        put(bytes.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32($0.count))) })
        return bytes
    }

    /// The layers, or nil with the reason when the bytes are not a valid cache of this network.
    public static func decode(_ bytes: [UInt8], neurons: Int, layers count: Int, fingerprint: UInt64) -> (layers: [ChallengeLayer]?, reason: String) {
        guard bytes.count >= 32, Array(bytes[0..<8]) == magic else { return (nil, "not a network cache") }
        let crc = bytes.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32(bytes.count - 4))) }
        var tail = ByteReader(bytes: bytes, position: bytes.count - 4)
        guard tail.read() as UInt32 == crc else { return (nil, "checksum mismatch") }
        var r = ByteReader(bytes: bytes, position: 8)
        guard r.read() as UInt32 == version else { return (nil, "another format version") }
        guard Int(r.read() as UInt32) == neurons, Int(r.read() as UInt32) == count else { return (nil, "another size") }
        guard r.read() as UInt64 == fingerprint else { return (nil, "the layer files changed since it was written") }
        var layers: [ChallengeLayer] = []
        for _ in 0..<count {
            guard r.position + 8 <= bytes.count - 4 else { return (nil, "truncated") }
            let nnz = Int(truncatingIfNeeded: r.read() as UInt64)
            guard nnz >= 0, r.position + 4 * (neurons + 1) + 8 * nnz <= bytes.count - 4 else { return (nil, "truncated") }
            let offsets: [UInt32] = r.readArray(count: neurons + 1)
            let columns: [Int32] = r.readArray(count: nnz)
            let values: [Float] = r.readArray(count: nnz)
            guard let pattern = try? SparsityPattern(rows: neurons, columns: neurons, rowOffsets: offsets.map { Int($0) },
                                                     columnIndices: columns) else { return (nil, "invalid layer structure") }
            layers.append(ChallengeLayer(transposed: pattern, values: values))
        }
        guard r.position == bytes.count - 4 else { return (nil, "trailing bytes") }
        return (layers, "")
    }

    /// The network from its cache when valid, else from the text files (then cached; a cache
    /// that cannot be written is only noted). `note` receives what happened.
    public static func readNetwork(directory network: String, neurons: Int, layers: Int, pool: ThreadPool,
                                   useCache: Bool = true, note: (String) -> Void = { _ in }) throws -> [ChallengeLayer] {
        guard useCache else { return try ChallengeFiles.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool) }
        let fingerprint = try fingerprint(network: network, neurons: neurons, layers: layers)
        let path = path(network: network, neurons: neurons, layers: layers)
        if let data = FileManager.default.contents(atPath: path) {
            let (cached, reason) = decode([UInt8](data), neurons: neurons, layers: layers, fingerprint: fingerprint)
            if let cached { note("network read from cache \(path)"); return cached }
            note("ignoring cache \(path): \(reason)")
        }
        let parsed = try ChallengeFiles.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool)
        do {
            try FileManager.default.createDirectory(atPath: directory(), withIntermediateDirectories: true)
            try AtomicFile.write(encode(parsed, neurons: neurons, fingerprint: fingerprint), to: path)
            note("network cached in \(path)")
        } catch {
            note("could not write the network cache \(path): \(error)")
        }
        return parsed
    }
}
