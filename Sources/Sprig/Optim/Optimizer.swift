/// Applies `OptimizerKind`'s update (the formulas are on `OptimizerKind`) to the parameters of
/// a store: one kind for every parameter, or one kind per layer, each to its layer's range
/// (`ParameterStore.range(ofLayer:)`). The state buffers the kinds declare (momentum's
/// velocity, Adam's moments m and v: `OptimizerKind.stateNames(of:)`, each once) live in the
/// store beside the values, so they follow their parameters when a layer's topology changes.
public final class Optimizer {
    /// The kind for every layer (the first layer's when `layerKinds` is given).
    public let kind: OptimizerKind
    /// One kind per layer (nil: `kind` for the whole store, in one loop).
    public let layerKinds: [OptimizerKind]?
    public let weightDecay: Float
    public let parameters: ParameterStore
    /// Store layer l learns at learningRate·learningRateScales[l] (nil: every layer at learningRate).
    public var learningRateScales: [Float]?

    /// Adds the kind's state buffers (zeroed) to `parameters`.
    public init(kind: OptimizerKind, weightDecay: Float = 0, parameters: ParameterStore) {
        self.kind = kind
        layerKinds = nil
        self.weightDecay = weightDecay
        self.parameters = parameters
        for name in kind.stateNames { parameters.addState(named: name) }
    }

    /// The parameters of store layer l (`ParameterStore.range(ofLayer:)`, a position in the
    /// network's layer list) follow `layerKinds[l]`; adds the union of their state buffers (zeroed).
    public init(layerKinds: [OptimizerKind], weightDecay: Float = 0, parameters: ParameterStore) {
        precondition(!layerKinds.isEmpty, "one optimizer per layer")
        kind = layerKinds[0]
        self.layerKinds = layerKinds
        self.weightDecay = weightDecay
        self.parameters = parameters
        for name in OptimizerKind.stateNames(of: layerKinds) { parameters.addState(named: name) }
    }

    /// The velocity v (one value per parameter; nil unless a momentum or Nesterov kind is used).
    public var velocity: FloatBuffer? { parameters.state(named: "velocity") }
    /// Adam's first moment m (nil unless an Adam kind is used).
    public var firstMoment: FloatBuffer? { parameters.state(named: "m") }
    /// Adam's second moment v (nil unless an Adam kind is used).
    public var secondMoment: FloatBuffer? { parameters.state(named: "v") }

    /// One update of the parameters from the store's gradients, on `backend` (in its copy of
    /// the store); `t` is the 1-based count of updates since the start of training (Adam's bias
    /// corrections), this one included.
    public func step(learningRate eta: Float, update t: Int, backend: any ComputeBackend) throws {
        precondition(t >= 1, "updates are counted from 1")
        if layerKinds != nil || learningRateScales != nil {
            for l in 0..<(layerKinds?.count ?? learningRateScales!.count) {
                try apply(layerKinds?[l] ?? kind, to: parameters.range(ofLayer: l), learningRate: eta * (learningRateScales?[l] ?? 1),
                          update: t, backend: backend)
            }
        } else {
            try apply(kind, to: 0..<parameters.count, learningRate: eta, update: t, backend: backend)
        }
    }

    /// `kind`'s update of the parameters in `slots`.
    private func apply(_ kind: OptimizerKind, to slots: Range<Int>, learningRate eta: Float, update t: Int,
                       backend: any ComputeBackend) throws {
        guard !slots.isEmpty else { return }
        func section(_ s: ParameterStore.Section) throws -> UnsafeMutablePointer<Float> { try parameters.device(s) + slots.lowerBound }
        let names = kind.stateNames
        let buffers = OptimizerBuffers(
            values: try section(.values), gradients: try section(.gradients),
            velocity: names.contains("velocity") ? try section(.state("velocity")) : nil,
            firstMoment: names.contains("m") ? try section(.state("m")) : nil,
            secondMoment: names.contains("v") ? try section(.state("v")) : nil)
        try backend.optimizerStep(kind, buffers, count: slots.count, weightDecay: weightDecay, learningRate: eta, update: t)
    }
}
