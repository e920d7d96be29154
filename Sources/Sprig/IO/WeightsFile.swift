import Foundation

/// A network's weights as a NumPy `.npz` archive. For layer k = 1…L:
/// - sparse layer: `W{k}.data` (<f4, nnz), `W{k}.indices` (<i4, nnz), `W{k}.indptr` (<i8, K+1),
///   `W{k}.shape` (<i8, [K, D]) — SciPy's CSR arrays, so
///   `scipy.sparse.csr_matrix((data, indices, indptr), shape)` rebuilds W (K outputs × D inputs);
/// - dense layer: `W{k}` (<f4, K×D, as PyTorch's `nn.Linear.weight`);
/// - bias: `b{k}` (<f4, K);
/// and for batch norm k = 1, 2, … (in layer order): `gamma{k}`, `beta{k}` (<f4, its size) and
/// the running statistics `bn{k}.mean`, `bn{k}.var`; for SReLU k: `srelu{k}.al`, `.tl`, `.ar`, `.tr`;
/// for a network shrunk by structured sparsity, `kept{k}` (<i4) for hidden layer k: the
/// original indices of its surviving neurons, with `original_layer_sizes` (<i8) and
/// `original_densities` (<f8), the network it was shrunk from. Loading keeps that record, so
/// a loaded network shrunk again still maps back to the original (a file with `kept{k}` but
/// without the original sizes, written before they were saved, loads without the record).
/// Loading refuses an array it would not use (a batch norm's arrays for `--layers` without
/// one, say) and running variances below zero, naming the array.
/// On loading, a dense `W{k}` from Nerva or PyTorch-with-masks is accepted: its zeros become
/// the pattern (a matrix without zeros stays a dense layer).
public enum WeightsFile {
    /// Writes `network` with its description (`ModelDescription`: the configuration, and the
    /// normalisation, input encoding and training configuration when given).
    public static func save(_ network: Network, path: String, normalization: Normalization? = nil, input: InputEncoding? = nil,
                            training: TrainingConfiguration? = nil) throws {
        var arrays: [(name: String, array: NPYArray)] = []
        for (l, layer) in network.linearLayers.enumerated() {
            let k = l + 1
            let values = Array(network.values(of: layer.weights))
            if let pattern = layer.sparsity {
                arrays.append(("W\(k).data", NPYArray(.float32(values))))
                arrays.append(("W\(k).indices", NPYArray(.int32(pattern.columnIndices))))
                arrays.append(("W\(k).indptr", NPYArray(.int64(pattern.rowOffsets.map(Int64.init)))))
                arrays.append(("W\(k).shape", NPYArray(.int64([Int64(layer.outputSize), Int64(layer.inputSize)]))))
            } else {
                arrays.append(("W\(k)", try NPYArray(shape: [layer.outputSize, layer.inputSize], elements: .float32(values))))
            }
            arrays.append(("b\(k)", NPYArray(.float32(Array(network.values(of: layer.bias))))))
        }
        for (k, norm) in batchNorms(of: network) {
            arrays.append(("gamma\(k)", NPYArray(.float32(Array(network.values(of: norm.gamma))))))
            arrays.append(("beta\(k)", NPYArray(.float32(Array(network.values(of: norm.beta))))))
            for state in norm.state { arrays.append((state.name, NPYArray(.float32(state.values.array)))) }
        }
        for (k, srelu) in sreLUs(of: network) {
            for group in srelu.parameterGroups {
                arrays.append(("srelu\(k).\(group.name)", NPYArray(.float32(Array(network.values(of: group))))))
            }
        }
        if let compaction = network.configuration.compaction {   // a shrunk network: where its neurons came from
            for (h, kept) in compaction.kept.enumerated() { arrays.append(("kept\(h + 1)", NPYArray(.int32(kept)))) }
            arrays.append(("original_layer_sizes", NPYArray(.int64(compaction.originalLayerSizes.map(Int64.init)))))
            arrays.append(("original_densities", NPYArray(.float64(compaction.originalDensities))))
        }
        let description = ModelDescription(network: network.configuration, normalization: normalization, input: input, training: training,
                                           kernels: network.linearLayers.map { ($0 as? SparseLinear)?.kernel })
        arrays.append((ModelDescription.arrayName, NPYArray(.uint8(try description.encoded()))))
        try NPZArchive.write(arrays, to: path)
    }

    /// A weights file as read: its arrays, its description (nil in files written before Sprig
    /// kept one, or by another tool) and the layer sizes its arrays hold.
    public struct Contents {
        public let path: String
        let arrays: [String: NPYArray]
        public let description: ModelDescription?
        /// D₀, D₁, …, D_L as the weight arrays give them (W1's columns, then each layer's rows).
        public let layerSizes: [Int]
    }

    /// Reads `path`: every array, the description (checked), and the layer sizes the
    /// arrays hold (consecutive layers must fit: W{k+1}'s columns are W{k}'s rows).
    public static func read(path: String) throws -> Contents {
        let arrays = try NPZArchive.read(path: path)
        let description = try arrays[ModelDescription.arrayName].map { try ModelDescription.decode(try $0.bytes(), path: path) }
        var sizes: [Int] = []
        var k = 1
        while true {
            let shape: [Int]
            if let given = arrays["W\(k).shape"] {
                shape = try given.integers()
            } else if let dense = arrays["W\(k)"] {
                shape = dense.shape
            } else {
                break
            }
            guard shape.count == 2, shape[0] >= 1, shape[1] >= 1 else {
                throw SprigError.format(path: path, reason: "W\(k) has shape \(shape): a layer is K outputs × D inputs")
            }
            if sizes.isEmpty { sizes.append(shape[1]) }
            guard shape[1] == sizes[sizes.count - 1] else {
                throw SprigError.format(path: path, reason: "W\(k) has \(shape[1]) inputs but layer \(k - 1) has \(sizes[sizes.count - 1]) outputs")
            }
            sizes.append(shape[0])
            k += 1
        }
        guard sizes.count >= 2 else { throw SprigError.format(path: path, reason: "no weights: missing array W1 (or W1.data, W1.indices, W1.indptr, W1.shape)") }
        if let described = description?.network.layerSizes, described != sizes {
            throw SprigError.format(path: path, reason: "\(ModelDescription.arrayName) describes the layer sizes "
                                    + "\(described.map(String.init).joined(separator: ",")) but the weight arrays hold "
                                    + sizes.map(String.init).joined(separator: ","))
        }
        return Contents(path: path, arrays: arrays, description: description, layerSizes: sizes)
    }

    /// The SReLU layers of `network` with their 1-based numbers.
    private static func sreLUs(of network: Network) -> [(Int, SReLU)] {
        network.layers.compactMap { $0 as? SReLU }.enumerated().map { ($0.offset + 1, $0.element) }
    }

    /// The batch norms of `network` with their 1-based numbers.
    private static func batchNorms(of network: Network) -> [(Int, BatchNorm)] {
        network.layers.compactMap { $0 as? BatchNorm }.enumerated().map { ($0.offset + 1, $0.element) }
    }

    /// A network with `configuration`'s sizes, activations and seed, and the patterns and
    /// values stored in `path` (the configuration's densities are replaced by the file's).
    /// Every array is checked: shapes against `--layer-sizes`, CSR structure (`indptr` first),
    /// and every weight and bias finite; errors name the file, the array and the index.
    public static func load(path: String, configuration: NetworkConfiguration) throws -> Network {
        try network(try read(path: path), configuration: configuration)
    }

    /// The network of `contents` with `configuration`'s sizes and layers (see `load`).
    public static func network(_ contents: Contents, configuration: NetworkConfiguration) throws -> Network {
        let arrays = contents.arrays, path = contents.path
        let sizes = configuration.layerSizes
        let layerCount = configuration.layerCount
        func array(_ name: String) throws -> NPYArray {
            guard let a = arrays[name] else { throw SprigError.format(path: path, reason: "missing array \(name)") }
            return a
        }
        /// A one-dimensional array's elements.
        func vector(_ name: String) throws -> NPYArray {
            let a = try array(name)
            guard a.shape.count == 1 else {
                throw SprigError.format(path: path, reason: "\(name) has shape \(a.shape) but must be one-dimensional")
            }
            return a
        }
        /// The values of a float array, refusing NaN and ±infinity.
        func finiteFloats(_ name: String, _ a: NPYArray) throws -> [Float] {
            let values = try a.floats()
            if let index = values.firstIndex(where: { !$0.isFinite }) {
                throw SprigError.format(path: path, reason: "\(name)[\(index)] is \(values[index]): weights and biases must be finite")
            }
            return values
        }
        /// The values of a float array in double precision (a float32 array widened).
        func doubles(_ a: NPYArray) throws -> [Double] {
            if case .float64(let values) = a.elements { return values }
            return try a.floats().map(Double.init)
        }
        guard arrays["W\(layerCount + 1)"] == nil && arrays["W\(layerCount + 1).data"] == nil else {
            throw SprigError.format(path: path, reason: "the file has more than the \(layerCount) layers of --layer-sizes")
        }
        var patterns: [SparsityPattern?] = []
        var weightValues: [[Float]] = []
        var biasValues: [[Float]] = []
        for l in 0..<layerCount {
            let k = l + 1, rows = sizes[l + 1], columns = sizes[l]
            let csrNames = ["W\(k).data", "W\(k).indices", "W\(k).indptr", "W\(k).shape"].filter { arrays[$0] != nil }
            if arrays["W\(k)"] != nil && !csrNames.isEmpty {
                throw SprigError.format(path: path, reason: "layer \(k) is given twice: as dense W\(k) and as CSR "
                                        + csrNames.joined(separator: ", ") + "; keep one")
            }
            if !csrNames.isEmpty {
                let shape = try vector("W\(k).shape").integers()
                guard shape == [rows, columns] else {
                    throw SprigError.format(path: path, reason: "W\(k).shape is \(shape) but --layer-sizes gives layer \(k) the shape [\(rows), \(columns)]")
                }
                let indices = try vector("W\(k).indices").integers()
                if let bad = indices.firstIndex(where: { $0 < 0 || $0 > Int(Int32.max) }) {
                    throw SprigError.format(path: path, reason: "W\(k).indices[\(bad)] is \(indices[bad]), not a column index")
                }
                let pattern: SparsityPattern
                do {
                    pattern = try SparsityPattern(rows: rows, columns: columns, rowOffsets: try vector("W\(k).indptr").integers(),
                                                  columnIndices: indices.map(Int32.init), context: "W\(k)")
                } catch SprigError.invalidArgument(let reason) {
                    throw SprigError.format(path: path, reason: reason)
                }
                let data = try finiteFloats("W\(k).data", try vector("W\(k).data"))
                guard data.count == pattern.nonzeroCount else {
                    throw SprigError.format(path: path, reason: "W\(k).data has \(data.count) values but W\(k).indices has \(pattern.nonzeroCount)")
                }
                patterns.append(pattern)
                weightValues.append(data)
            } else if arrays["W\(k)"] != nil {
                let dense = try array("W\(k)")
                guard dense.shape == [rows, columns] else {
                    throw SprigError.format(path: path, reason: "W\(k) has shape \(dense.shape) but --layer-sizes gives layer \(k) the shape [\(rows), \(columns)]")
                }
                let values = try finiteFloats("W\(k)", dense)
                if values.contains(0) {
                    let positions = values.indices.filter { values[$0] != 0 }
                    patterns.append(SparsityPattern(sortedPositions: positions, rows: rows, columns: columns))
                    weightValues.append(positions.map { values[$0] })
                } else {
                    patterns.append(nil)
                    weightValues.append(values)
                }
            } else {
                throw SprigError.format(path: path, reason: "missing array W\(k) (or W\(k).data, W\(k).indices, W\(k).indptr, W\(k).shape)")
            }
            let bias = try array("b\(k)")
            guard bias.shape == [rows] else {
                throw SprigError.format(path: path, reason: "b\(k) has shape \(bias.shape) but layer \(k) has \(rows) outputs (shape [\(rows)])")
            }
            biasValues.append(try finiteFloats("b\(k)", bias))
        }
        var configuration = configuration
        // The densities the network was made with (the description's, whose patterns these are),
        // else the patterns' own.
        let made = contents.description?.network.densities
        if let made, made.count == patterns.count, zip(made, patterns).allSatisfy({ ($0 < 1) == ($1 != nil) }) {
            configuration.densities = made
        } else {
            configuration.densities = patterns.enumerated().map { l, p in p?.density ?? 1 }
        }
        var used = Set((1...layerCount).flatMap { k in ["W\(k)", "W\(k).data", "W\(k).indices", "W\(k).indptr", "W\(k).shape", "b\(k)"] })
        let keptNames = (1..<layerCount).map { "kept\($0)" }
        used.formUnion(keptNames + ["original_layer_sizes", "original_densities", ModelDescription.arrayName])
        if arrays["original_layer_sizes"] != nil {
            let compaction = Compaction(originalLayerSizes: try vector("original_layer_sizes").integers(),
                                        originalDensities: try doubles(try vector("original_densities")),
                                        kept: try keptNames.map { try vector($0).integers().map { Int32(clamping: $0) } })
            do {
                try compaction.validate(layerSizes: sizes)
            } catch let error as SprigError {
                throw SprigError.format(path: path, reason: "kept{k}, original_layer_sizes, original_densities: \(error)")
            }
            configuration.compaction = compaction
        }
        let network = Network(configuration, patterns: patterns)
        for (l, layer) in network.linearLayers.enumerated() {
            _ = network.values(of: layer.weights).update(fromContentsOf: weightValues[l])
            _ = network.values(of: layer.bias).update(fromContentsOf: biasValues[l])
        }
        var targets: [(String, UnsafeMutableBufferPointer<Float>)] = []
        for (k, norm) in batchNorms(of: network) {
            targets += [("gamma\(k)", network.values(of: norm.gamma)), ("beta\(k)", network.values(of: norm.beta)),
                        (norm.runningMean.name, norm.runningMean.values.buffer), (norm.runningVariance.name, norm.runningVariance.values.buffer)]
        }
        for (k, srelu) in sreLUs(of: network) {
            targets += srelu.parameterGroups.map { ("srelu\(k).\($0.name)", network.values(of: $0)) }
        }
        for (name, target) in targets {
            let given = try vector(name)
            guard given.shape == [target.count] else {
                throw SprigError.format(path: path, reason: "\(name) has shape \(given.shape) but its layer has \(target.count) features")
            }
            let values = try finiteFloats(name, given)
            if name.hasSuffix(".var"), let index = values.firstIndex(where: { $0 < 0 }) {
                throw SprigError.format(path: path, reason: "\(name)[\(index)] is \(values[index]): a running variance cannot be negative")
            }
            _ = target.update(fromContentsOf: values)
        }
        used.formUnion(targets.map(\.0))
        // The kernels it was saved with, where the dense kernel's matrices fit this machine
        // (otherwise CSR: the same products, summed in another order).
        if let kernels = contents.description?.kernels, kernels.count == network.linearLayers.count {
            for (layer, kernel) in zip(network.linearLayers, kernels) {
                guard let sparse = layer as? SparseLinear, kernel == .dense,
                      SparseLayerKernel.denseFits(rows: sparse.outputSize, columns: sparse.inputSize) else { continue }
                sparse.kernel = .dense
            }
        }
        if let unused = arrays.keys.sorted().first(where: { !used.contains($0) }) {
            throw SprigError.format(path: path, reason: "array \(unused) belongs to no layer of this network (layers "
                                    + "\(configuration.layerList.map(\.description).joined(separator: ";"))); give the --layers "
                                    + "it was saved with, or remove the array")
        }
        return network
    }
}
