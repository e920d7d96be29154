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

    public func forward(_ buffers: LayerBuffers, context: LayerContext) {
        let b = context.batch, x = buffers.input, y = buffers.output, v = context.parameters.values.pointer
        let al = v + leftSlope.offset, tl = v + leftThreshold.offset, ar = v + rightSlope.offset, tr = v + rightThreshold.offset
        context.pool.forEachRange(size, minimumPerThread: 64) { rows in
            for k in rows {
                for j in 0..<b {
                    let z = x[k * b + j]
                    y[k * b + j] = z <= tl[k] ? tl[k] + al[k] * (z - tl[k]) : (z >= tr[k] ? tr[k] + ar[k] * (z - tr[k]) : z)
                }
            }
        }
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) {
        let b = context.batch, x = buffers.input, dy = UnsafePointer(buffers.outputGradient), dx = buffers.inputGradient
        let v = context.parameters.values.pointer, g = context.parameters.gradients.pointer
        let al = v + leftSlope.offset, tl = v + leftThreshold.offset, ar = v + rightSlope.offset, tr = v + rightThreshold.offset
        let dal = g + leftSlope.offset, dtl = g + leftThreshold.offset, dar = g + rightSlope.offset, dtr = g + rightThreshold.offset
        context.pool.forEachRange(size, minimumPerThread: 64) { rows in
            for k in rows {
                var sums: (al: Float, tl: Float, ar: Float, tr: Float) = (0, 0, 0, 0)
                for j in 0..<b {
                    let z = x[k * b + j], d = dy[k * b + j]
                    let slope: Float
                    if z <= tl[k] {
                        sums.al += d * (z - tl[k])
                        sums.tl += d * (1 - al[k])
                        slope = al[k]
                    } else if z >= tr[k] {
                        sums.ar += d * (z - tr[k])
                        sums.tr += d * (1 - ar[k])
                        slope = ar[k]
                    } else {
                        slope = 1
                    }
                    dx?[k * b + j] = d * slope
                }
                dal[k] = sums.al
                dtl[k] = sums.tl
                dar[k] = sums.ar
                dtr[k] = sums.tr
            }
        }
    }
}
