/// A network: an ordered list of layers (`NetworkConfiguration.layerList`) — linear layers,
/// sparse (CSR) or dense, with their activation fused in, and batch norm, dropout, softmax —
/// whose trainable values share one `ParameterStore`. The sparse layers' patterns may change
/// during training (`replacePattern`).
public final class Network {
    public let configuration: NetworkConfiguration
    /// Every layer, in order.
    public let layers: [any Layer]
    /// The linear layers, in order (linear layer k is `W{k+1}` in the weights file).
    public let linearLayers: [any LinearLayer]
    /// The position in `layers` of each linear layer.
    public let linearLayerPositions: [Int]
    public let parameters: ParameterStore
    /// Counts the pattern changes: a cache derived from the patterns (the batch assembler's
    /// used input features) is valid while this number stays the same.
    public private(set) var topologyVersion = 0
    /// The first layer with parameters: no layer up to it needs the gradient of its input
    /// (a dropout on the input, then the first linear layer, compute no DX).
    private let firstTrainableLayer: Int

    public var inputSize: Int { configuration.layerSizes[0] }
    public var outputSize: Int { configuration.layerSizes[configuration.layerCount] }

    /// Layers with density 1 are dense; the rest get a random pattern (stream l of the seed)
    /// and all values are initialised from stream 1000 + l (l: the linear layer).
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

    /// A network with the given patterns of its linear layers (nil: dense layer); values all
    /// zero but the layers' fixed initial values (batch norm's γ = 1, SReLU's thresholds).
    public init(_ configuration: NetworkConfiguration, patterns: [SparsityPattern?]) {
        precondition(patterns.count == configuration.layerCount)
        self.configuration = configuration
        var layers: [any Layer] = []
        var linearLayers: [any LinearLayer] = []
        var positions: [Int] = []
        var size = configuration.layerSizes[0]
        var batchNorms = 0
        for specification in configuration.layerList {
            let index = layers.count
            switch specification {
            case .linear(let activation):
                let l = linearLayers.count
                let layer: any LinearLayer
                if let pattern = patterns[l] {
                    precondition(pattern.rows == configuration.layerSizes[l + 1] && pattern.columns == configuration.layerSizes[l])
                    layer = SparseLinear(index: index, pattern: pattern, activation: activation)
                } else {
                    layer = DenseLinear(index: index, inputSize: configuration.layerSizes[l], outputSize: configuration.layerSizes[l + 1],
                                        activation: activation)
                }
                linearLayers.append(layer)
                positions.append(index)
                layers.append(layer)
                size = layer.outputSize
            case .batchNorm:
                batchNorms += 1
                layers.append(BatchNorm(index: index, ordinal: batchNorms, size: size))
            case .dropout(let rate): layers.append(Dropout(size: size, rate: Float(rate)))
            case .softmax: layers.append(Softmax(size: size))
            case .logSoftmax: layers.append(LogSoftmax(size: size))
            case .srelu(let al, let tl, let ar, let tr): layers.append(SReLU(index: index, size: size, initial: (al, tl, ar, tr)))
            }
        }
        self.layers = layers
        firstTrainableLayer = layers.firstIndex { !$0.parameterGroups.isEmpty } ?? layers.count
        self.linearLayers = linearLayers
        linearLayerPositions = positions
        parameters = ParameterStore(groups: layers.flatMap(\.parameterGroups))
        for layer in layers { layer.initialize(parameters) }
    }

    /// Every layer's non-trainable state, in layer order.
    public var states: [LayerState] { layers.flatMap(\.state) }

    /// Draws the linear layers' initial weights and biases with the configured initializer and
    /// way of counting fans.
    public func initializeValues() {
        for (l, layer) in linearLayers.enumerated() {
            var g = RandomGenerator(seed: configuration.seed, stream: 1000 + UInt64(l))
            let d = Double(layer.inputSize), k = Double(layer.outputSize), nnz = Double(layer.weightCount)
            let weights = values(of: layer.weights), bias = values(of: layer.bias)
            let initializer = configuration.initializer
            switch (configuration.fanIn, layer.sparsity) {
            case (.perRow, let pattern?):
                // Weight k in row i, column j: fan-in nnz(row i), fan-out nnz(column j).
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

    /// Gives sparse linear layer `l` a new pattern of the same shape: new slot p holds old slot
    /// `sourceSlot[p]` (its value and optimizer state), or, where that is -1, `initialValue(p)`
    /// with zero state. The layer's transpose plan and partitions are rebuilt and
    /// `topologyVersion` moves on, so caches derived from patterns know to rebuild.
    public func replacePattern(ofLinearLayer l: Int, with pattern: SparsityPattern, sourceSlot: [Int32], initialValue: (Int) -> Float) {
        guard let sparse = linearLayers[l] as? SparseLinear else { preconditionFailure("linear layer \(l + 1) is dense") }
        precondition(sourceSlot.count == pattern.nonzeroCount)
        parameters.remap(sparse.weights, sourceSlot: sourceSlot, initialValue: initialValue)
        sparse.replacePattern(pattern)
        topologyVersion += 1
    }

    /// A hash of the layer list and every linear layer's shape and pattern (dense layers by
    /// shape), equal across ranks exactly when they built the same network structure.
    public var structureHash: UInt64 {
        var hasher = StableHasher()
        hasher.combine(configuration.layerList.map(\.description).joined(separator: ";"))
        for layer in linearLayers {
            if let pattern = layer.sparsity { hasher.combine(pattern.structureHash) }
            else { hasher.combine(Int64(layer.inputSize)); hasher.combine(Int64(layer.outputSize)) }
        }
        return hasher.value
    }

    /// The buffers of layer i in `workspace` (its input is layer i−1's output, or X; no input
    /// gradient up to the first layer with parameters).
    func buffers(ofLayer i: Int, in workspace: Workspace) -> LayerBuffers {
        LayerBuffers(input: UnsafePointer(i == 0 ? workspace.input.pointer : workspace.outputs[i - 1].pointer),
                     output: workspace.outputs[i].pointer, outputGradient: workspace.gradients[i].pointer,
                     inputGradient: i <= firstTrainableLayer ? nil : workspace.gradients[i - 1].pointer,
                     scratch: workspace.scratch[i].pointer)
    }

    /// Y_L for the input held in `workspace.input` (D₀×B, B = the context's batch); every
    /// layer's output and scratch are kept for backward.
    public func forward(_ workspace: Workspace, context: LayerContext) throws {
        precondition(context.batch <= workspace.capacity)
        for i in layers.indices { try layers[i].forward(buffers(ofLayer: i, in: workspace), context: context) }
    }

    /// Backpropagates DY_L (already in `workspace.outputGradient`), writing the store's
    /// gradients. No input gradient is computed up to the first layer with parameters. `layerFinished(i)` is
    /// called as soon as layer i's gradients are complete (last layer first).
    public func backward(_ workspace: Workspace, context: LayerContext, layerFinished: ((Int) throws -> Void)? = nil) throws {
        for i in layers.indices.reversed() {
            try layers[i].backward(buffers(ofLayer: i, in: workspace), context: context)
            try layerFinished?(i)
        }
    }

    /// A context for one process on the CPU, for tests and tools: examples 0..<batch, update 1.
    public func context(batch: Int, pool: ThreadPool, mode: LayerContext.Mode = .training) -> LayerContext {
        LayerContext(mode: mode, examples: Array(0..<batch)[...], globalBatch: batch, step: 1, seed: configuration.seed,
                     communicator: SingleProcessCommunicator(), backend: CPUBackend(pool: pool), parameters: parameters)
    }

    public func forward(_ workspace: Workspace, batch: Int, pool: ThreadPool) throws {
        try forward(workspace, context: context(batch: batch, pool: pool))
    }

    public func backward(_ workspace: Workspace, batch: Int, pool: ThreadPool) throws {
        try backward(workspace, context: context(batch: batch, pool: pool))
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
