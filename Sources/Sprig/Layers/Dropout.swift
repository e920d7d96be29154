/// Inverted dropout on its input: in training, y = x·m with m = 1/(1−p) where u ≥ p and 0
/// where u < p, u uniform in [0, 1) drawn from (seed, step, global example index, unit) by a
/// counter-based hash — so an example's mask is the same whichever rank holds it, and P ranks
/// give the result of one process. In evaluation, y = x. Backward: DX = DY·m.
/// Scratch: the mask (one float per unit and example).
public final class Dropout: Layer {
    public let size: Int
    public let rate: Float

    public var inputSize: Int { size }
    public var outputSize: Int { size }
    public var scratchPerExample: Int { size }
    public var summary: String { "dropout \(rate)" }

    init(size: Int, rate: Float) {
        precondition(rate >= 0 && rate < 1)
        self.size = size
        self.rate = rate
    }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) {
        let b = context.batch, x = buffers.input, y = buffers.output, mask = buffers.scratch
        guard context.mode == .training, rate > 0 else {
            y.update(from: x, count: size * b)
            return
        }
        let keep = 1 / (1 - rate), rate = rate
        let seed = context.seed, step = UInt64(context.step)
        // The (seed, step, example) part of the hash once per example, not once per unit.
        let keys = context.examples.map { Dropout.exampleKey(seed: seed, step: step, example: UInt64($0)) }
        keys.withUnsafeBufferPointer { keys in
            context.pool.forEachRange(size, minimumPerThread: 16) { units in
                for k in units {
                    for j in 0..<b {
                        let u = Dropout.uniform(key: keys[j], unit: UInt64(k))
                        let m: Float = u < rate ? 0 : keep
                        mask[k * b + j] = m
                        y[k * b + j] = x[k * b + j] * m
                    }
                }
            }
        }
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) {
        guard let dx = buffers.inputGradient else { return }
        let b = context.batch, dy = buffers.outputGradient, mask = UnsafePointer(buffers.scratch)
        guard rate > 0 else {
            dx.update(from: dy, count: size * b)
            return
        }
        context.pool.forEachRange(size * b, minimumPerThread: 4096) { range in
            for i in range { dx[i] = dy[i] * mask[i] }
        }
    }

    /// A uniform number in [0, 1) from the four counters (SplitMix64's finaliser over their mix;
    /// 24 bits, exactly representable as a Float).
    @inline(__always)
    static func uniform(seed: UInt64, step: UInt64, example: UInt64, unit: UInt64) -> Float {
        uniform(key: exampleKey(seed: seed, step: step, example: example), unit: unit)
    }

    /// The hash of (seed, step, example), shared by all units of an example.
    @inline(__always)
    static func exampleKey(seed: UInt64, step: UInt64, example: UInt64) -> UInt64 {
        mix(mix(seed &* 0x9E37_79B9_7F4A_7C15, step), example)
    }

    /// `uniform(seed:step:example:unit:)` from the example's key.
    @inline(__always)
    static func uniform(key: UInt64, unit: UInt64) -> Float { Float(mix(key, unit) >> 40) * 0x1p-24 }

    @inline(__always)
    private static func mix(_ z: UInt64, _ word: UInt64) -> UInt64 {
        var z = (z ^ word) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
