import CBLAS

/// A layer with a full K×D weight matrix (row-major, in the parameter store), computed with
/// `cblas_sgemm` in the feature-major layout. Used where a layer's density is 1.
/// Each product is split by output rows across the pool's threads (OpenBLAS itself runs
/// single-threaded, so one set of threads does all the work).
public final class DenseLinear: LinearLayer {
    public let inputSize: Int
    public let outputSize: Int
    public let activation: Activation
    public let weights: ParameterGroup
    public let bias: ParameterGroup
    public var weightCount: Int { inputSize * outputSize }
    public var sparsity: SparsityPattern? { nil }

    /// Layer `index` of a network; its groups are laid out by the network's store.
    init(index: Int, inputSize: Int, outputSize: Int, activation: Activation) {
        self.inputSize = inputSize
        self.outputSize = outputSize
        self.activation = activation
        weights = ParameterGroup(layer: index, name: "weights", count: inputSize * outputSize)
        bias = ParameterGroup(layer: index, name: "bias", count: outputSize)
    }

    /// Z (K×B) = W (K×D) · X (D×B); then Z += b, Y = f(Z) row by row (Z kept in the scratch).
    public func forward(_ buffers: LayerBuffers, context: LayerContext) {
        let x = buffers.input, z = buffers.scratch, y = buffers.output
        let batch = context.batch, parameters = context.parameters, pool = context.pool
        guard batch > 0 else { return }   // BLAS refuses a leading dimension of 0
        let w = parameters.values.pointer + weights.offset
        let b = parameters.values.pointer + bias.offset
        let d = inputSize
        pool.forEachRange(outputSize, minimumPerThread: 16) { rows in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), Int32(batch), Int32(d),
                        1, w + rows.lowerBound * d, Int32(d), x, Int32(batch), 0, z + rows.lowerBound * batch, Int32(batch))
            for o in rows { activation.applyRow(z: z + o * batch, bias: b[o], y: y + o * batch, count: batch) }
        }
    }

    /// DZ = DY ∘ f'(Z); Db = row sums; DW (K×D) = DZ (K×B) · Xᵀ; DX (D×B) = Wᵀ · DZ.
    public func backward(_ buffers: LayerBuffers, context: LayerContext) {
        let x = buffers.input, z = UnsafePointer(buffers.scratch), dy = buffers.outputGradient, dx = buffers.inputGradient
        let batch = context.batch, parameters = context.parameters, pool = context.pool
        let db = parameters.gradients.pointer + bias.offset
        let dw = parameters.gradients.pointer + weights.offset
        let d = inputSize, k = outputSize
        guard batch > 0 else {   // no examples on this rank: zero gradients (BLAS refuses a leading dimension of 0)
            dw.update(repeating: 0, count: k * d)
            db.update(repeating: 0, count: k)
            return
        }
        pool.forEachRange(k, minimumPerThread: 16) { rows in
            activationBackward(preActivation: z, gradient: dy, biasGradient: db, batch: batch, rows: rows)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(d), Int32(batch),
                        1, dy + rows.lowerBound * batch, Int32(batch), x, Int32(batch), 0, dw + rows.lowerBound * d, Int32(d))
        }
        guard let dx else { return }
        let w = parameters.values.pointer + weights.offset
        // DX rows i..<j = (W's columns i..<j)ᵀ · DZ.
        pool.forEachRange(d, minimumPerThread: 16) { rows in
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows.count), Int32(batch), Int32(k),
                        1, w + rows.lowerBound, Int32(d), dy, Int32(batch), 0, dx + rows.lowerBound * batch, Int32(batch))
        }
    }
}
