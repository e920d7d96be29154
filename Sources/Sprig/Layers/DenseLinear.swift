import CBLAS

/// A layer with a full K×D weight matrix (row-major, in the arena), computed with
/// `cblas_sgemm` in the feature-major layout. Used where a layer's density is 1.
public final class DenseLinear: Layer {
    public let inputSize: Int
    public let outputSize: Int
    public let activation: Activation
    public let weights: ParameterRange
    public let bias: ParameterRange
    public var weightCount: Int { inputSize * outputSize }

    init(inputSize: Int, outputSize: Int, activation: Activation, layout: inout ArenaLayout) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weights = layout.reserve(inputSize * outputSize)
        bias = layout.reserve(outputSize)
    }

    /// Z (K×B) = W (K×D) · X (D×B); then Z += b, Y = f(Z) row by row.
    public func forward(input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                        output y: UnsafeMutablePointer<Float>, batch: Int, arena: ParameterArena, pool: ThreadPool) {
        let w = arena.values.pointer + weights.offset
        let b = arena.values.pointer + bias.offset
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outputSize), Int32(batch), Int32(inputSize),
                    1, w, Int32(inputSize), x, Int32(batch), 0, z, Int32(batch))
        pool.forEachRange(outputSize, minimumPerThread: 64) { rows in
            for o in rows { activation.applyRow(z: z + o * batch, bias: b[o], y: y + o * batch, count: batch) }
        }
    }

    /// DZ = DY ∘ f'(Z); Db = row sums; DW (K×D) = DZ (K×B) · Xᵀ; DX (D×B) = Wᵀ · DZ.
    public func backward(input x: UnsafePointer<Float>, preActivation z: UnsafePointer<Float>,
                         outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
                         batch: Int, arena: ParameterArena, pool: ThreadPool) {
        let db = arena.gradients.pointer + bias.offset
        pool.forEachRange(outputSize, minimumPerThread: 64) { rows in
            activationBackward(preActivation: z, gradient: dy, biasGradient: db, batch: batch, rows: rows)
        }
        let dw = arena.gradients.pointer + weights.offset
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(outputSize), Int32(inputSize), Int32(batch),
                    1, dy, Int32(batch), x, Int32(batch), 0, dw, Int32(inputSize))
        guard let dx else { return }
        let w = arena.values.pointer + weights.offset
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(inputSize), Int32(batch), Int32(outputSize),
                    1, w, Int32(inputSize), dy, Int32(batch), 0, dx, Int32(batch))
    }
}
