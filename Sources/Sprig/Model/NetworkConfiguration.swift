/// What a network is: sizes, per-layer densities, activations, initialisation and seed.
/// Same configuration ⇒ same patterns and initial values, on any machine.
public struct NetworkConfiguration: Equatable, Sendable, Codable {
    /// D₀, D₁, …, D_L: input size, hidden sizes, number of outputs.
    public var layerSizes: [Int]
    /// One density per layer (L values); 1 makes a dense layer.
    public var densities: [Double]
    public var hiddenActivation: Activation
    public var outputActivation: Activation
    public var initializer: Initializer
    public var fanIn: Initializer.FanIn
    public var seed: UInt64
    /// The ordered layer list (linear layers with their activations, batch norm, dropout,
    /// softmax); nil: the plain chain of linear layers with `hiddenActivation` and
    /// `outputActivation` (`layerList` resolves either).
    public var layers: [LayerSpecification]?
    /// Set once structured sparsity has removed neurons: the original sizes and which
    /// neurons survive (nil: the network has the sizes it was created with).
    public var compaction: Compaction?

    public init(layerSizes: [Int], densities: [Double], hiddenActivation: Activation = .relu,
                outputActivation: Activation = .identity, initializer: Initializer = .pytorch,
                fanIn: Initializer.FanIn = .perRow, seed: UInt64 = 1, layers: [LayerSpecification]? = nil) {
        self.layerSizes = layerSizes
        self.densities = densities
        self.hiddenActivation = hiddenActivation
        self.outputActivation = outputActivation
        self.initializer = initializer
        self.fanIn = fanIn
        self.seed = seed
        self.layers = layers
    }

    /// What the layers other than the linear ones hold: their trainable parameters (batch
    /// norm: γ and β per feature; SReLU: four per neuron) and their non-trainable state (name and count, in layer order).
    public var otherLayers: (parameters: Int, states: [(name: String, count: Int)]) {
        var batchNorms = 0
        var parameters = 0, states: [(String, Int)] = []
        for (entry, size) in zip(layerList, layerOutputSizes) {
            switch entry {
            case .batchNorm:
                batchNorms += 1
                parameters += 2 * size
                states += [("bn\(batchNorms).mean", size), ("bn\(batchNorms).var", size)]
            case .srelu: parameters += 4 * size
            case .linear, .dropout, .softmax, .logSoftmax: break
            }
        }
        return (parameters, states)
    }

    /// The output size of each entry of `layerList` (a linear layer's is the next of
    /// `layerSizes`; every other layer keeps the size before it).
    public var layerOutputSizes: [Int] {
        var size = layerSizes[0], linear = 0
        return layerList.map { entry in
            if case .linear = entry {
                linear += 1
                size = layerSizes[min(linear, layerCount)]
            }
            return size
        }
    }

    /// The rows of a workspace, per example, as `[rows, size]` pairs: X (the input), then per
    /// layer Y and DY, and its scratch when it keeps one (`LayerSpecification.keepsScratch`).
    /// `Workspace` allocates exactly these; the memory checks multiply them by the columns.
    public var workspaceRows: [(rows: Int, size: Int)] {
        [(1, layerSizes[0])] + zip(layerList, layerOutputSizes).map { entry, size in (entry.keepsScratch ? 3 : 2, size) }
    }

    /// Adds a workspace of `columns` examples to `budget` (overflow-checked).
    public func addWorkspace(columns: Int, to budget: inout MemoryBudget) throws {
        for (rows, size) in workspaceRows { try budget.add(product: [rows, size, columns]) }
    }

    /// The ordered layer list: `layers`, or the plain chain.
    public var layerList: [LayerSpecification] {
        layers ?? (0..<layerCount).map { .linear(activation(ofLayer: $0)) }
    }

    public var layerCount: Int { layerSizes.count - 1 }

    /// The sizes and densities the network was created with (before any neuron was removed).
    public var originalLayerSizes: [Int] { compaction?.originalLayerSizes ?? layerSizes }
    public var originalDensities: [Double] { compaction?.originalDensities ?? densities }

    /// Throws `SprigError.invalidField` on sizes < 1, a density count that does not match, or a
    /// density outside (0, 1].
    public func validate() throws {
        guard layerSizes.count >= 2 else {
            throw SprigError.invalidField(.layerSizes, "needs at least two sizes (inputs and outputs), got \(layerSizes.count)")
        }
        if let bad = layerSizes.first(where: { $0 < 1 }) {
            throw SprigError.invalidField(.layerSizes, ": size \(bad) is not positive")
        }
        guard densities.count == layerCount else {
            throw SprigError.invalidField(.densities, "has \(densities.count) values but there are \(layerCount) layers")
        }
        for (l, d) in densities.enumerated() where !(d > 0 && d <= 1) {
            throw SprigError.invalidField(.densities, ": density \(d) of layer \(l + 1) is not in (0, 1]")
        }
        try compaction?.validate(layerSizes: layerSizes)
        guard let layers else { return }
        let linear = layers.filter { if case .linear = $0 { return true } else { return false } }.count
        guard linear == layerCount else {
            throw SprigError.invalidField(.layers, "gives \(linear) linear layers but the layer sizes \(layerSizes.map(String.init).joined(separator: ",")) "
                                          + "make \(layerCount)")
        }
        var seenLinear = false
        for entry in layers {
            switch entry {
            case .linear: seenLinear = true
            case .dropout(let rate):
                guard rate >= 0, rate < 1 else { throw SprigError.invalidField(.dropouts, ": rate \(rate) is not in [0, 1)") }
            case .batchNorm, .softmax, .logSoftmax, .srelu:
                guard seenLinear else { throw SprigError.invalidField(.layers, ": \(entry) comes first; it must follow a linear layer") }
            }
        }
    }

    /// Throws when a layer's density would give it no weights at all (a network drawn at
    /// random; a network loaded from weights or a checkpoint has the patterns it has).
    public func checkEveryLayerHasWeights() throws {
        for l in 0..<layerCount where nonzeroCount(ofLayer: l) == 0 {
            let cells = Double(layerSizes[l]) * Double(layerSizes[l + 1])
            throw SprigError.invalidArgument("layer \(l + 1) (\(layerSizes[l]) → \(layerSizes[l + 1])) would have no weights at density "
                                             + "\(densities[l]); one weight needs a density of at least \(0.5 / cells)")
        }
    }

    /// The weights layer `l` stores: round(density·D·K) as `SparsityPattern.random` draws
    /// them (D·K for a dense layer), counted in floating point so that no size overflows.
    public func nonzeroCount(ofLayer l: Int) -> Int {
        let cells = Double(layerSizes[l]) * Double(layerSizes[l + 1])
        return Int(min((densities[l] * cells).rounded(), 0x1p62))
    }

    /// Adds what the network takes in memory to `budget`: per parameter its value, gradient and
    /// `optimizerStates` state buffers (velocity: 1; Adam's moments: 2); per stored weight its column index, transpose plan and the random
    /// draw of its position (a hash set and a sorted array while the pattern is built).
    public func addMemory(to budget: inout MemoryBudget, optimizerStates: Int = 1) throws {
        let perParameter = (2 + optimizerStates) * 4
        try budget.add(otherLayers.parameters, elementSize: perParameter)
        for l in 0..<layerCount {
            let weights = nonzeroCount(ofLayer: l)
            try budget.add(weights, elementSize: perParameter)
            try budget.add(layerSizes[l + 1], elementSize: perParameter)
            guard densities[l] < 1 else { continue }
            try budget.add(weights, elementSize: 4 + 8 + 32)
            try budget.add(layerSizes[l] + layerSizes[l + 1] + 2, elementSize: 2 * 8)
        }
    }

    public func activation(ofLayer l: Int) -> Activation { l == layerCount - 1 ? outputActivation : hiddenActivation }
}
