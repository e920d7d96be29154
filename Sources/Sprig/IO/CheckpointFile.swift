import Foundation
import ZlibC

/// The checkpoint file format: a `ContainerFormat` file with magic `SPRIGCKP`, version 2
/// (version 1, which had one `velocity` count in place of `states`, is still read):
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 8 | magic `SPRIGCKP` |
/// | 8 | 4 | format version, UInt32 = 1 |
/// | 12 | 8 | header length H, UInt64 |
/// | 20 | H | JSON header: `network`, `training` (the full configuration), `epoch`, `step`, `layers` ([{`sparse`, `rows`, `columns`, `nonzeros`, `kernel`}]; `kernel` "csr" or "dense", absent in older files), `parameters` (count), `states` ([{`name`, `count`}], the optimizer's), `layerStates`, `trainingData` ({`examples`, `fingerprint`}; absent in older files) |
/// | … | | per sparse layer: row offsets (Int64 × rows+1), column indices (Int32 × nonzeros) |
/// | … | | the store's values (Float32 × parameters), then each state buffer (Float32 × its count) |
/// | end−8 | 4 | CRC-32 (zlib's) of every byte before it |
/// | end−4 | 4 | end marker `SEND` |
///
/// Reading checks the container (size, magic, version, end marker, checksum) and then every
/// header field against the others, so a file with a valid checksum but impossible contents
/// (a negative epoch, counts that do not match the network its configuration builds, a
/// non-finite value) is refused naming the field. Written through `AtomicFile`: a crash
/// leaves either the old files or the new one, never half of one.
public enum CheckpointFile {
    public static let format = ContainerFormat(magic: "SPRIGCKP", version: 2, oldestReadable: 1, name: "checkpoint")

    struct Header: Codable {
        struct Layer: Codable {
            var sparse: Bool; var rows: Int; var columns: Int; var nonzeros: Int
            /// A sparse layer's kernel (absent: a dense layer, or a checkpoint older than the choice).
            var kernel: SparseLayerKernel?
        }
        struct State: Codable { var name: String; var count: Int }
        var network: NetworkConfiguration
        var training: TrainingConfiguration
        var epoch: Int
        var step: Int
        var layers: [Layer]
        var parameters: Int
        /// Version 2: the optimizer's state buffers.
        var states: [State]?
        /// Version 1: the velocity's count (the one state buffer then).
        var velocity: Int?
        /// The layers' non-trainable state (batch norms' running statistics); absent: none.
        var layerStates: [State]?
        /// The training data (`Checkpoint.DataIdentity`); absent in older checkpoints.
        var trainingData: Checkpoint.DataIdentity?

        /// The state buffers, whichever version wrote the header.
        var stateList: [State] {
            states ?? ((velocity ?? 0) > 0 ? [State(name: "velocity", count: velocity ?? 0)] : [])
        }
    }

    public static func encode(_ c: Checkpoint) throws -> [UInt8] {
        let header = Header(network: c.network, training: c.training, epoch: c.epoch, step: c.step,
                            layers: zip(c.patterns, c.network.layerSizes.indices.dropLast()).map { p, l in
                                Header.Layer(sparse: p != nil, rows: c.network.layerSizes[l + 1], columns: c.network.layerSizes[l],
                                             nonzeros: p?.nonzeroCount ?? 0, kernel: p == nil ? nil : c.kernels[l])
                            },
                            parameters: c.values.count,
                            states: c.optimizerState.map { Header.State(name: $0.name, count: $0.values.count) }, velocity: nil,
                            layerStates: c.layerState.isEmpty ? nil : c.layerState.map { Header.State(name: $0.name, count: $0.values.count) },
                            trainingData: c.trainingData)
        var writer = try ContainerWriter(format: format, header: header)
        for pattern in c.patterns.compactMap({ $0 }) {
            writer.append(pattern.rowOffsets.map(Int64.init))
            writer.append(pattern.columnIndices)
        }
        writer.append(c.values)
        for state in c.optimizerState { writer.append(state.values) }
        for state in c.layerState { writer.append(state.values) }
        return writer.finish()
    }

    /// Parses and checks a checkpoint; every failure names the file and what is wrong.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Checkpoint {
        var reader = try ContainerReader(bytes, format: format, path: path)
        let header = try reader.header(Header.self)
        try check(header, reader: reader)
        var patterns: [SparsityPattern?] = []
        for (l, layer) in header.layers.enumerated() {
            guard layer.sparse else { patterns.append(nil); continue }
            let offsets = try reader.read(layer.rows + 1, of: Int64.self, what: "layer \(l + 1) row offsets")
            let indices = try reader.read(layer.nonzeros, of: Int32.self, what: "layer \(l + 1) column indices")
            do {
                patterns.append(try SparsityPattern(rows: layer.rows, columns: layer.columns, rowOffsets: offsets.map { Int($0) },
                                                    columnIndices: indices, context: "layer \(l + 1)"))
            } catch SprigError.invalidArgument(let reason) {
                throw reader.invalid(reason)
            }
        }
        let values = try reader.read(header.parameters, of: Float.self, what: "parameters")
        var states: [Checkpoint.State] = []
        for state in header.stateList {
            states.append(Checkpoint.State(name: state.name, values: try reader.read(state.count, of: Float.self, what: state.name)))
        }
        var layerStates: [Checkpoint.State] = []
        for state in header.layerStates ?? [] {
            layerStates.append(Checkpoint.State(name: state.name, values: try reader.read(state.count, of: Float.self, what: state.name)))
        }
        try reader.finish()
        for (name, array) in [("parameters", values)] + (states + layerStates).map({ ($0.name, $0.values) }) {
            if let index = array.firstIndex(where: { !$0.isFinite }) {
                throw reader.invalid("\(name)[\(index)] is \(array[index]) (not finite)")
            }
        }
        // Quantities that cannot be negative: Adam's second moment (its square root divides the
        // step) and batch norm's running variances.
        for state in states + layerStates where state.name == "v" || state.name.hasSuffix(".var") {
            if let index = state.values.firstIndex(where: { $0 < 0 }) {
                throw reader.invalid("\(state.name)[\(index)] is \(state.values[index]) but "
                                     + (state.name == "v" ? "Adam's second moment" : "a running variance") + " cannot be negative")
            }
        }
        return Checkpoint(network: header.network, training: header.training, epoch: header.epoch, step: header.step,
                          patterns: patterns, values: values, optimizerState: states, layerState: layerStates,
                          trainingData: header.trainingData, kernels: header.layers.map(\.kernel))
    }

    /// Checks every header field against the configuration it holds: the configuration's own
    /// rules, the position, each layer's shape, and the parameter and optimizer-state counts of
    /// the network that configuration and those patterns build.
    private static func check(_ header: Header, reader: ContainerReader) throws {
        do {
            try header.network.validate()
            try header.training.validate()
        } catch let error as SprigError {
            throw reader.invalid("configuration: \(error)")
        }
        guard header.epoch >= 0, header.epoch <= header.training.epochs else {
            throw reader.invalid("epoch \(header.epoch) is not in 0…\(header.training.epochs) (the run's epochs)")
        }
        guard header.step >= 0 else { throw reader.invalid("step \(header.step) is negative") }
        if let data = header.trainingData, data.examples < 1 || UInt64(data.fingerprint, radix: 16) == nil {
            throw reader.invalid("trainingData \(data) is not a training set's identity")
        }
        let sizes = header.network.layerSizes
        guard header.layers.count == header.network.layerCount else {
            throw reader.invalid("\(header.layers.count) layers in the header, configuration has \(header.network.layerCount)")
        }
        var parameters = 0
        for (l, layer) in header.layers.enumerated() {
            guard layer.rows == sizes[l + 1], layer.columns == sizes[l] else {
                throw reader.invalid("layer \(l + 1) shape \(layer.rows)×\(layer.columns) does not match the configuration's "
                                     + "\(sizes[l + 1])×\(sizes[l])")
            }
            let (dense, overflow) = layer.rows.multipliedReportingOverflow(by: layer.columns)
            guard !overflow else { throw reader.invalid("layer \(l + 1) shape \(layer.rows)×\(layer.columns) is too large") }
            guard layer.sparse ? (0...dense).contains(layer.nonzeros) : layer.nonzeros == 0 else {
                throw reader.invalid("layer \(l + 1) nonzeros \(layer.nonzeros) is not possible for a "
                                     + (layer.sparse ? "sparse \(layer.rows)×\(layer.columns) layer" : "dense layer (0 expected)"))
            }
            guard layer.sparse || layer.kernel == nil else { throw reader.invalid("layer \(l + 1) is dense but has a kernel") }
            let weights = layer.sparse ? layer.nonzeros : dense
            let (layerParameters, overflowLayer) = weights.addingReportingOverflow(layer.rows)
            let (sum, overflowSum) = parameters.addingReportingOverflow(layerParameters)
            guard !overflowLayer, !overflowSum else { throw reader.invalid("the network's parameter count overflows") }
            parameters = sum
        }
        let others = header.network.otherLayers
        parameters += others.parameters
        let expectedStates = others.states.map { "\($0.name) (\($0.count))" }
        let givenStates = (header.layerStates ?? []).map { "\($0.name) (\($0.count))" }
        guard givenStates == expectedStates else {
            throw reader.invalid("layer state [\(givenStates.joined(separator: ", "))], but the network's layers keep "
                                 + "[\(expectedStates.joined(separator: ", "))]")
        }
        guard header.parameters == parameters else {
            throw reader.invalid("parameters \(header.parameters), but the network of its configuration and patterns has \(parameters)")
        }
        guard (reader.version == 1) == (header.states == nil) else {
            throw reader.invalid(reader.version == 1 ? "a version-1 header with `states`" : "no `states` in the header")
        }
        do {
            try header.training.checkOptimizers(layerCount: header.network.layerCount)
        } catch let error as SprigError {
            throw reader.invalid("configuration: \(error)")
        }
        let expected = header.training.optimizerStateNames
        let given = header.stateList
        let optimizer = header.training.optimizerDescription
        guard given.map(\.name) == expected else {
            throw reader.invalid("optimizer state [\(given.map(\.name).joined(separator: ", "))], but the optimizer "
                                 + "\(optimizer) keeps [\(expected.joined(separator: ", "))]")
        }
        for state in given where state.count != parameters {
            throw reader.invalid("\(state.name) \(state.count) values, but the optimizer \(optimizer) keeps \(parameters)")
        }
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
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) }
        catch { throw SprigError.fileError(path: directory, action: "list the checkpoint directory", error: error) }
        return names.filter { $0.hasPrefix("checkpoint-e") && $0.hasSuffix(".sprig") }.sorted()
            .map { (directory as NSString).appendingPathComponent($0) }
    }

    /// The newest checkpoint in `directory` that reads back valid, with the newer ones that
    /// did not (path and reason). Throws when there is none.
    public static func newestValid(in directory: String) throws -> (checkpoint: Checkpoint, path: String, rejected: [(String, String)]) {
        var rejected: [(String, String)] = []
        for path in try list(directory: directory).reversed() {
            do {
                let data: Data
                do { data = try Data(contentsOf: URL(fileURLWithPath: path)) }
                catch { throw SprigError.fileError(path: path, action: "read", error: error) }
                return (try decode([UInt8](data), path: path), path, rejected)
            } catch {
                rejected.append((path, "\(error)"))
            }
        }
        let detail = rejected.isEmpty ? "no checkpoint files" : rejected.map { "\($0.0): \($0.1)" }.joined(separator: "; ")
        throw SprigError.io(path: directory, reason: "no valid checkpoint to resume from (\(detail))")
    }
}
