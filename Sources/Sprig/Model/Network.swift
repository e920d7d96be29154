/// A multilayer perceptron of sparse and dense layers whose parameters share one arena.
public final class Network {
    public let configuration: NetworkConfiguration
    public let layers: [any Layer]
    public let arena: ParameterArena

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
        var layout = ArenaLayout()
        var layers: [any Layer] = []
        for l in 0..<configuration.layerCount {
            let activation = configuration.activation(ofLayer: l)
            if let pattern = patterns[l] {
                precondition(pattern.rows == configuration.layerSizes[l + 1] && pattern.columns == configuration.layerSizes[l])
                layers.append(SparseLinear(pattern: pattern, activation: activation, layout: &layout))
            } else {
                layers.append(DenseLinear(inputSize: configuration.layerSizes[l], outputSize: configuration.layerSizes[l + 1],
                                          activation: activation, layout: &layout))
            }
        }
        self.layers = layers
        arena = ParameterArena(count: layout.count)
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

    /// The arena's values in `range`.
    public func values(of range: ParameterRange) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: arena.values.pointer + range.offset, count: range.count)
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
                          output: workspace.outputs[l].pointer, batch: batch, arena: arena, pool: pool)
            x = UnsafePointer(workspace.outputs[l].pointer)
        }
    }

    /// Backpropagates DY_L (already in `workspace.gradients[L-1]`), writing the arena's
    /// gradients. The first layer's input gradient is not computed. `layerFinished(l)` is called
    /// as soon as layer l's gradients are complete (last layer first).
    public func backward(_ workspace: Workspace, batch: Int, pool: ThreadPool, layerFinished: ((Int) -> Void)? = nil) {
        for l in stride(from: layers.count - 1, through: 0, by: -1) {
            let x = l == 0 ? workspace.input.pointer : workspace.outputs[l - 1].pointer
            layers[l].backward(input: x, preActivation: workspace.preActivations[l].pointer,
                               outputGradient: workspace.gradients[l].pointer,
                               inputGradient: l == 0 ? nil : workspace.gradients[l - 1].pointer,
                               batch: batch, arena: arena, pool: pool)
            layerFinished?(l)
        }
    }

    /// Layer l's parameters in the arena: its weights then its bias, contiguous.
    public func parameterRange(ofLayer l: Int) -> Range<Int> {
        layers[l].weights.offset..<(layers[l].bias.offset + layers[l].bias.count)
    }
}
