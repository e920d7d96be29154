/// A multilayer perceptron of sparse and dense layers whose parameters share one store.
/// The sparse layers' patterns may change during training (`replacePattern`).
public final class Network {
    public let configuration: NetworkConfiguration
    public let layers: [any Layer]
    public let parameters: ParameterStore
    /// Counts the pattern changes: a cache derived from the patterns (the batch assembler's
    /// used input features) is valid while this number stays the same.
    public private(set) var topologyVersion = 0

    public var inputSize: Int { configuration.layerSizes[0] }
    public var outputSize: Int { configuration.layerSizes[configuration.layerCount] }

    /// Layers with density 1 are dense; the rest get a random pattern (stream l of the seed)
    /// and all values are initialised from stream 1000 + l.
    public convenience init(_ configuration: NetworkConfiguration) throws {
        try configuration.validate()
        try configuration.checkEveryLayerHasWeights()
        let patterns: [SparsityPattern?] = (0..<configuration.layerCount).map { l in
            guard configuration.densities[l] < 1 else { return nil }
            var g = RandomGenerator(seed: configuration.seed, stream: UInt64(l))
            return SparsityPattern.random(rows: configuration.layerSizes[l + 1], columns: configuration.layerSizes[l],
                                          density: configuration.densities[l], generator: &g)
        }
        self.init(configuration, patterns: patterns)
        initializeValues()
    }

    /// A network with the given patterns (nil: dense layer); values all zero.
    public init(_ configuration: NetworkConfiguration, patterns: [SparsityPattern?]) {
        precondition(patterns.count == configuration.layerCount)
        self.configuration = configuration
        var layers: [any Layer] = []
        for l in 0..<configuration.layerCount {
            let activation = configuration.activation(ofLayer: l)
            if let pattern = patterns[l] {
                precondition(pattern.rows == configuration.layerSizes[l + 1] && pattern.columns == configuration.layerSizes[l])
                layers.append(SparseLinear(index: l, pattern: pattern, activation: activation))
            } else {
                layers.append(DenseLinear(index: l, inputSize: configuration.layerSizes[l], outputSize: configuration.layerSizes[l + 1],
                                          activation: activation))
            }
        }
        self.layers = layers
        parameters = ParameterStore(groups: layers.flatMap { [$0.weights, $0.bias] })
    }

    /// Draws initial weights and biases with the configured initializer and way of counting fans.
    public func initializeValues() {
        for (l, layer) in layers.enumerated() {
            var g = RandomGenerator(seed: configuration.seed, stream: 1000 + UInt64(l))
            let d = Double(layer.inputSize), k = Double(layer.outputSize), nnz = Double(layer.weightCount)
            let weights = values(of: layer.weights), bias = values(of: layer.bias)
            let initializer = configuration.initializer
            switch (configuration.fanIn, layer as? SparseLinear) {
            case (.perRow, let sparse?):
                // Weight k in row i, column j: fan-in nnz(row i), fan-out nnz(column j).
                let pattern = sparse.pattern
                var rowOf = [Int32](repeating: 0, count: pattern.nonzeroCount)
                for i in 0..<pattern.rows { for k in pattern.rowOffsets[i]..<pattern.rowOffsets[i + 1] { rowOf[k] = Int32(i) } }
                var columnCounts = [Int32](repeating: 0, count: pattern.columns)
                for j in pattern.columnIndices { columnCounts[Int(j)] += 1 }
                let rowCount = { (i: Int) in Double(pattern.rowOffsets[i + 1] - pattern.rowOffsets[i]) }
                initializer.fill(weights: weights, bias: bias,
                                 weightFans: { (rowCount(Int(rowOf[$0])), Double(columnCounts[Int(pattern.columnIndices[$0])])) },
                                 biasFanIn: rowCount, generator: &g)
            case (.sparse, _?):
                initializer.fill(weights: weights, bias: bias, fanIn: nnz / k, fanOut: nnz / d, generator: &g)
            default:   // dense fan, or a dense layer (whose every row has D nonzeros)
                initializer.fill(weights: weights, bias: bias, fanIn: d, fanOut: k, generator: &g)
            }
        }
    }

    /// The store's values of `group`.
    public func values(of group: ParameterGroup) -> UnsafeMutableBufferPointer<Float> { parameters.values(of: group) }

    /// Gives sparse layer `l` a new pattern of the same shape: new slot p holds old slot
    /// `sourceSlot[p]` (its value and optimizer state), or, where that is -1, `initialValue(p)`
    /// with zero state. The layer's transpose plan and partitions are rebuilt and
    /// `topologyVersion` moves on, so caches derived from patterns know to rebuild.
    public func replacePattern(ofLayer l: Int, with pattern: SparsityPattern, sourceSlot: [Int32], initialValue: (Int) -> Float) {
        guard let sparse = layers[l] as? SparseLinear else { preconditionFailure("layer \(l + 1) is dense") }
        precondition(sourceSlot.count == pattern.nonzeroCount)
        parameters.remap(sparse.weights, sourceSlot: sourceSlot, initialValue: initialValue)
        sparse.replacePattern(pattern)
        topologyVersion += 1
    }

    /// A hash of every layer's shape and pattern (dense layers by shape), equal across ranks
    /// exactly when they built the same network structure.
    public var structureHash: UInt64 {
        var hasher = StableHasher()
        for layer in layers {
            if let sparse = layer as? SparseLinear { hasher.combine(sparse.pattern.structureHash) }
            else { hasher.combine(Int64(layer.inputSize)); hasher.combine(Int64(layer.outputSize)) }
        }
        return hasher.value
    }

    /// Y_L for the input held in `workspace.input` (D₀×B): every layer's Z and Y are kept for backward.
    public func forward(_ workspace: Workspace, batch: Int, pool: ThreadPool) {
        precondition(batch <= workspace.capacity)
        var x = UnsafePointer(workspace.input.pointer)
        for (l, layer) in layers.enumerated() {
            layer.forward(input: x, preActivation: workspace.preActivations[l].pointer,
                          output: workspace.outputs[l].pointer, batch: batch, parameters: parameters, pool: pool)
            x = UnsafePointer(workspace.outputs[l].pointer)
        }
    }

    /// Backpropagates DY_L (already in `workspace.gradients[L-1]`), writing the store's
    /// gradients. The first layer's input gradient is not computed. `layerFinished(l)` is called
    /// as soon as layer l's gradients are complete (last layer first).
    public func backward(_ workspace: Workspace, batch: Int, pool: ThreadPool, layerFinished: ((Int) -> Void)? = nil) {
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let x = l == 0 ? workspace.input.pointer : workspace.outputs[l - 1].pointer
            layers[l].backward(input: x, preActivation: workspace.preActivations[l].pointer,
                               outputGradient: workspace.gradients[l].pointer,
                               inputGradient: l == 0 ? nil : workspace.gradients[l - 1].pointer,
                               batch: batch, parameters: parameters, pool: pool)
            layerFinished?(l)
        }
    }

    /// Layer l's parameters in the store: its weights then its bias, contiguous.
    public func parameterRange(ofLayer l: Int) -> Range<Int> { parameters.range(ofLayer: l) }
}

extension Network {
    /// Refuses to write a checkpoint or weights that hold a NaN or an infinity.
    public func checkFinite(writing what: String) throws {
        guard parameters.values.buffer.allSatisfy(\.isFinite) else {
            throw SprigError.failed("the parameters became non-finite; no \(what) was written from them (the last good "
                                    + "checkpoint is kept): try a smaller --learning-rate")
        }
    }
}
