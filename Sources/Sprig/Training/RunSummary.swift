/// What the run prints before the first epoch.
public struct RunSummary: Sendable {
    public struct LayerLine: Sendable {
        public var inputs: Int, outputs: Int, density: Double, weights: Int, kind: String, activation: String
        /// A sparse layer's kernel and why ("dense kernel (1.2 ms a step, CSR 3.4 ms)").
        public var kernel: String?
    }
    public var layers: [LayerLine]
    public var parameters: Int
    public var trainCount: Int
    public var testCount: Int
    public var dataset: String
    public var threads: Int
    public var ranks: Int
    public var bytesPerStep: Int
    /// The epochs the run trains to (counted from the start, also when resuming).
    public var epochs: Int
    /// The dynamic sparse training settings in words (nil: static patterns).
    public var dynamicSparsity: String?
    /// The structured sparsity settings in words (nil: the layers keep their sizes).
    public var structuredSparsity: String?
    /// Whether the run continues from a checkpoint (its metrics are appended to the file).
    public var resumed = false

    init(network: Network, train: Dataset, test: Dataset, threads: Int, ranks: Int, bytesPerStep: Int, epochs: Int) {
        layers = network.layers.map { layer in
            guard let linear = layer as? any LinearLayer else {
                return LayerLine(inputs: layer.inputSize, outputs: layer.outputSize, density: 1,
                                 weights: layer.parameterGroups.reduce(0) { $0 + $1.count }, kind: layer.summary, activation: "")
            }
            return LayerLine(inputs: linear.inputSize, outputs: linear.outputSize,
                             density: Double(linear.weightCount) / (Double(linear.inputSize) * Double(linear.outputSize)),
                             weights: linear.weightCount, kind: linear.sparsity == nil ? "dense" : "sparse",
                             activation: linear.activation.description)
        }
        parameters = network.parameters.count
        trainCount = train.count
        testCount = test.count
        dataset = train.name
        self.threads = threads
        self.ranks = ranks
        self.bytesPerStep = bytesPerStep
        self.epochs = epochs
        dynamicSparsity = nil
        structuredSparsity = nil
    }

    /// Puts each linear layer's kernel decision on its line.
    mutating func setKernels(_ decisions: [KernelChooser.Decision]) {
        var decision = decisions.makeIterator()
        for l in layers.indices where !layers[l].activation.isEmpty {   // the linear layers
            layers[l].kernel = decision.next()?.summary
        }
    }
}
