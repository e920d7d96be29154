/// S-shaped ReLU (Jin et al. 2016), trainable, four parameters per neuron k:
///
///     y = t_l + a_l·(x − t_l)   if x ≤ t_l
///     y = x                     if t_l < x < t_r
///     y = t_r + a_r·(x − t_r)   if x ≥ t_r
///
/// Backward: DX = DY·(a_l | 1 | a_r); Da_l = Σ DY·(x − t_l), Dt_l = Σ DY·(1 − a_l) over the
/// examples left of t_l; Da_r = Σ DY·(x − t_r), Dt_r = Σ DY·(1 − a_r) over those right of t_r.
/// The parameters live in the store (groups `al`, `tl`, `ar`, `tr`), so they are allreduced
/// and updated like weights. Initial values as Nerva's (a_l = 0, t_l = 0, a_r = 0, t_r = 1)
/// unless given. Reads its input in backward: no scratch.
public final class SReLU: Layer {
    public let size: Int
    public let leftSlope: ParameterGroup
    public let leftThreshold: ParameterGroup
    public let rightSlope: ParameterGroup
    public let rightThreshold: ParameterGroup
    let initial: (al: Float, tl: Float, ar: Float, tr: Float)

    public var inputSize: Int { size }
    public var outputSize: Int { size }
    public var parameterGroups: [ParameterGroup] { [leftSlope, leftThreshold, rightSlope, rightThreshold] }
    public var scratchPerExample: Int { 0 }
    public var summary: String { "srelu" }

    init(index: Int, size: Int, initial: (al: Float, tl: Float, ar: Float, tr: Float)) {
        self.size = size
        self.initial = initial
        leftSlope = ParameterGroup(layer: index, name: "al", count: size)
        leftThreshold = ParameterGroup(layer: index, name: "tl", count: size)
        rightSlope = ParameterGroup(layer: index, name: "ar", count: size)
        rightThreshold = ParameterGroup(layer: index, name: "tr", count: size)
    }

    public func initialize(_ parameters: ParameterStore) {
        parameters.values(of: leftSlope).update(repeating: initial.al)
        parameters.values(of: leftThreshold).update(repeating: initial.tl)
        parameters.values(of: rightSlope).update(repeating: initial.ar)
        parameters.values(of: rightThreshold).update(repeating: initial.tr)
    }

    /// The four groups' addresses in `section` of the store, in the backend's memory.
    private func parameters(_ section: ParameterStore.Section, of store: ParameterStore) throws -> SReLUParameters {
        let base = try store.device(section)
        return SReLUParameters(leftSlope: base + leftSlope.offset, leftThreshold: base + leftThreshold.offset,
                               rightSlope: base + rightSlope.offset, rightThreshold: base + rightThreshold.offset)
    }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        try context.backend.sreluForward(input: buffers.input, try parameters(.values, of: context.parameters), output: buffers.output,
                                         units: size, batch: context.batch)
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let store = context.parameters
        try context.backend.sreluBackward(input: buffers.input, outputGradient: buffers.outputGradient, try parameters(.values, of: store),
                                          gradients: try parameters(.gradients, of: store), inputGradient: buffers.inputGradient,
                                          units: size, batch: context.batch)
    }
}
