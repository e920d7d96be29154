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

    public init(layerSizes: [Int], densities: [Double], hiddenActivation: Activation = .relu,
                outputActivation: Activation = .identity, initializer: Initializer = .pytorch,
                fanIn: Initializer.FanIn = .dense, seed: UInt64 = 1) {
        self.layerSizes = layerSizes
        self.densities = densities
        self.hiddenActivation = hiddenActivation
        self.outputActivation = outputActivation
        self.initializer = initializer
        self.fanIn = fanIn
        self.seed = seed
    }

    public var layerCount: Int { layerSizes.count - 1 }

    /// Throws on sizes < 1, a density count that does not match, or a density outside (0, 1].
    public func validate() throws {
        guard layerSizes.count >= 2 else {
            throw SprigError.invalidArgument("--layer-sizes needs at least two sizes (inputs and outputs), got \(layerSizes.count)")
        }
        if let bad = layerSizes.first(where: { $0 < 1 }) {
            throw SprigError.invalidArgument("--layer-sizes: size \(bad) is not positive")
        }
        guard densities.count == layerCount else {
            throw SprigError.invalidArgument("--densities has \(densities.count) values but there are \(layerCount) layers")
        }
        for (l, d) in densities.enumerated() where !(d > 0 && d <= 1) {
            throw SprigError.invalidArgument("density \(d) of layer \(l + 1) is not in (0, 1]")
        }
    }

    public func activation(ofLayer l: Int) -> Activation { l == layerCount - 1 ? outputActivation : hiddenActivation }
}
