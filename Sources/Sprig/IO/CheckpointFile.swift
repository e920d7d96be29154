import Foundation
import ZlibC

/// The checkpoint file format (little-endian):
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 8 | magic `SPRIGCKP` |
/// | 8 | 4 | format version, UInt32 = 1 |
/// | 12 | 8 | header length H, UInt64 |
/// | 20 | H | JSON header: `network`, `training` (the full configuration), `epoch`, `step`, `layers` ([{`sparse`, `rows`, `columns`, `nonzeros`}]), `parameters`, `velocity` (counts) |
/// | … | | per sparse layer: row offsets (Int64 × rows+1), column indices (Int32 × nonzeros) |
/// | … | | arena values (Float32 × parameters), then velocity (Float32 × velocity) |
/// | end−8 | 4 | CRC-32 (zlib's) of every byte before it |
/// | end−4 | 4 | end marker `SEND` |
///
/// Written to a temporary file in the same directory, flushed, then renamed: a crash leaves
/// either the old files or the new one, never half of one.
public enum CheckpointFile {
    static let magic = Array("SPRIGCKP".utf8)
    static let endMarker = Array("SEND".utf8)
    public static let version: UInt32 = 1

    struct Header: Codable {
        struct Layer: Codable { var sparse: Bool; var rows: Int; var columns: Int; var nonzeros: Int }
        var network: NetworkConfiguration
        var training: TrainingConfiguration
        var epoch: Int
        var step: Int
        var layers: [Layer]
        var parameters: Int
        var velocity: Int
    }

    public static func encode(_ c: Checkpoint) throws -> [UInt8] {
        let header = Header(network: c.network, training: c.training, epoch: c.epoch, step: c.step,
                            layers: zip(c.patterns, c.network.layerSizes.indices.dropLast()).map { p, l in
                                Header.Layer(sparse: p != nil, rows: c.network.layerSizes[l + 1], columns: c.network.layerSizes[l],
                                             nonzeros: p?.nonzeroCount ?? 0)
                            },
                            parameters: c.values.count, velocity: c.velocity.count)
        let json = try JSONEncoder().encode(header)
        var bytes = magic
        append(&bytes, version)
        append(&bytes, UInt64(json.count))
        bytes += json
        for pattern in c.patterns.compactMap({ $0 }) {
            appendArray(&bytes, pattern.rowOffsets.map(Int64.init))
            appendArray(&bytes, pattern.columnIndices)
        }
        appendArray(&bytes, c.values)
        appendArray(&bytes, c.velocity)
        append(&bytes, crc32(of: bytes))
        bytes += endMarker
        return bytes
    }

    /// Parses and checks a checkpoint; every failure names the file and what is wrong.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Checkpoint {
        func bad(_ reason: String) -> SprigError { .format(path: path, reason: "not a valid checkpoint: \(reason)") }
        guard bytes.count >= 28 else { throw bad("only \(bytes.count) bytes (truncated)") }
        guard Array(bytes[0..<8]) == magic else { throw bad("wrong magic number (not a Sprig checkpoint)") }
        var reader = ByteReader(bytes: bytes, position: 8)
        let version: UInt32 = reader.read()
        guard version == CheckpointFile.version else { throw bad("format version \(version), this Sprig reads version \(CheckpointFile.version)") }
        // The end marker and the checksum cover the whole file: check them before parsing it.
        guard Array(bytes[(bytes.count - 4)...]) == endMarker else { throw bad("missing end marker (truncated or overwritten)") }
        var crcReader = ByteReader(bytes: bytes, position: bytes.count - 8)
        let stored: UInt32 = crcReader.read()
        let actual = bytes.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32(bytes.count - 8))) }
        guard stored == actual else { throw bad("checksum mismatch (stored \(stored), computed \(actual)): the file is corrupted") }
        let headerLength = Int(truncatingIfNeeded: reader.read() as UInt64)
        guard headerLength >= 0, headerLength <= bytes.count - 28 else { throw bad("header length \(headerLength) exceeds the file (truncated)") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[20..<(20 + headerLength)])) }
        catch { throw bad("unreadable header (\(error))") }
        reader.position = 20 + headerLength
        let limit = bytes.count
        guard (0...limit).contains(header.parameters), (0...limit).contains(header.velocity),
              header.layers.allSatisfy({ (0...limit).contains($0.rows) && (0...limit).contains($0.nonzeros) }) else {
            throw bad("header counts exceed the file size (corrupted header)")
        }
        var expected = reader.position + 8 + 4 * header.parameters + 4 * header.velocity
        for layer in header.layers where layer.sparse { expected += 8 * (layer.rows + 1) + 4 * layer.nonzeros }
        guard bytes.count == expected else {
            throw bad(bytes.count < expected ? "\(bytes.count) bytes, expected \(expected) (truncated)" : "\(bytes.count) bytes, expected \(expected) (trailing bytes)")
        }
        guard header.layers.count == header.network.layerCount else { throw bad("\(header.layers.count) layers in the header, configuration has \(header.network.layerCount)") }
        var patterns: [SparsityPattern?] = []
        for (l, layer) in header.layers.enumerated() {
            guard layer.rows == header.network.layerSizes[l + 1], layer.columns == header.network.layerSizes[l] else {
                throw bad("layer \(l + 1) shape \(layer.rows)×\(layer.columns) does not match the configuration")
            }
            guard layer.sparse else { patterns.append(nil); continue }
            let offsets: [Int64] = reader.readArray(count: layer.rows + 1)
            let indices: [Int32] = reader.readArray(count: layer.nonzeros)
            patterns.append(try SparsityPattern(rows: layer.rows, columns: layer.columns, rowOffsets: offsets.map { Int($0) },
                                                columnIndices: indices, context: "\(path): layer \(l + 1)"))
        }
        let values: [Float] = reader.readArray(count: header.parameters)
        let velocity: [Float] = reader.readArray(count: header.velocity)
        return Checkpoint(network: header.network, training: header.training, epoch: header.epoch, step: header.step,
                          patterns: patterns, values: values, velocity: velocity)
    }

    /// Writes `checkpoint` as `directory/checkpoint-eEEEEE-sSSSSSSS.sprig` (temporary file, flush,
    /// rename) and removes all but the newest `keep` checkpoints. Returns the path written.
    @discardableResult
    public static func write(_ checkpoint: Checkpoint, directory: String, keep: Int = 2) throws -> String {
        let bytes = try encode(checkpoint)
        let name = String(format: "checkpoint-e%06d-s%08d.sprig", checkpoint.epoch, checkpoint.step)
        let path = (directory as NSString).appendingPathComponent(name)
        try AtomicFile.write(bytes, to: path)
        for old in try list(directory: directory).dropLast(keep) { unlink(old) }
        return path
    }

    /// The checkpoint files in `directory`, oldest first (by epoch and step in the name).
    public static func list(directory: String) throws -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw SprigError.io(path: directory, reason: "checkpoint directory not found")
        }
        return names.filter { $0.hasPrefix("checkpoint-e") && $0.hasSuffix(".sprig") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// The newest checkpoint in `directory` that reads back valid, with the newer ones that
    /// did not (path and reason). Throws when there is none.
    public static func newestValid(in directory: String) throws -> (checkpoint: Checkpoint, path: String, rejected: [(String, String)]) {
        var rejected: [(String, String)] = []
        for path in try list(directory: directory).reversed() {
            do {
                guard let data = FileManager.default.contents(atPath: path) else { throw SprigError.io(path: path, reason: "cannot read") }
                return (try decode([UInt8](data), path: path), path, rejected)
            } catch {
                rejected.append((path, "\(error)"))
            }
        }
        let detail = rejected.isEmpty ? "no checkpoint files" : rejected.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
        throw SprigError.io(path: directory, reason: "no valid checkpoint to resume from (\(detail))")
    }

    private static func crc32(of bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32($0.count))) }
    }

    private static func append<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    private static func appendArray<T: BitwiseCopyable>(_ bytes: inout [UInt8], _ values: [T]) {
        values.withUnsafeBytes { bytes += $0 }
    }
}
