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

    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        let b = context.batch, backend = context.backend
        guard context.mode == .training, rate > 0 else {
            try backend.copy(buffers.input, to: buffers.output, count: size * b)
            return
        }
        let seed = context.seed, step = UInt64(context.step)
        // The (seed, step, example) part of the hash once per example, not once per unit.
        let keys = context.examples.map { Dropout.exampleKey(seed: seed, step: step, example: UInt64($0)) }
        try keys.withUnsafeBufferPointer { keys in
            try backend.dropoutForward(input: buffers.input, output: buffers.output, mask: buffers.scratch, units: size, batch: b,
                                       rate: rate, hostKeys: keys.baseAddress!)
        }
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        guard let dx = buffers.inputGradient else { return }
        let count = size * context.batch
        guard rate > 0 else {
            try context.backend.copy(buffers.outputGradient, to: dx, count: count)
            return
        }
        try context.backend.multiply(buffers.outputGradient, buffers.scratch, into: dx, count: count)
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
