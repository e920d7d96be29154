/// The sparse layers' kernels: `SparseKernels` on CSR, each thread taking one part of the rows;
/// or, for an operand prepared for the dense kernel, GEMM on the masked K×D matrices.
extension CPUBackend {
    public func prepare(_ pattern: SparsityPattern, transpose: TransposePlan, kernel: SparseLayerKernel) throws -> any SparseOperand {
        switch kernel {
        case .csr: return CPUSparseOperand(pattern: pattern, transpose: transpose, threads: pool.threads)
        case .dense: return try CPUMaskedDenseOperand(pattern: pattern, threads: pool.threads)
        }
    }

    public func canUse(_ operand: any SparseOperand) -> Bool {
        (operand as? CPUSparseOperand)?.threads == pool.threads || (operand as? CPUMaskedDenseOperand)?.threads == pool.threads
    }

    /// Z = W·X + b, Y = f(Z) by rows balanced by nonzeros.
    public func sparseForward(_ w: any SparseOperand, values: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                              input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                              output y: UnsafeMutablePointer<Float>, batch: Int, activation: Activation) {
        if let dense = maskedDense(w) {
            scatter(values, into: dense)
            denseForward(rows: dense.pattern.rows, columns: dense.pattern.columns, values: dense.weights.pointer, bias: bias,
                         input: x, preActivation: z, output: y, batch: batch, activation: activation)
            return
        }
        let w = operand(w), pattern = w.pattern, parts = w.forwardParts
        pool.run(parts: parts.parts) { k in
            SparseKernels.forward(pattern: pattern, values: values, bias: bias, input: x, preActivation: z, output: y,
                                  batch: batch, activation: activation, rows: parts.rows(ofPart: k))
        }
    }

    /// DZ, Db and DW row by row: each thread owns whole rows of DZ and their nonzeros, so a
    /// row of DZ is still in cache when the SDDMM reads it.
    public func sparseWeightGradient(_ w: any SparseOperand, preActivation z: UnsafePointer<Float>, activation: Activation,
                                     outputGradient dy: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
                                     input x: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>, batch: Int) {
        if let dense = maskedDense(w) {
            denseWeightGradient(rows: dense.pattern.rows, columns: dense.pattern.columns, preActivation: z, activation: activation,
                                outputGradient: dy, biasGradient: db, input: x, weightGradient: dense.gradient.pointer, batch: batch)
            pool.forEachRange(dense.pattern.rows, minimumPerThread: 16) { rows in dense.gather(into: dw, rows: rows) }
            return
        }
        let w = operand(w), pattern = w.pattern, parts = w.forwardParts
        pool.run(parts: parts.parts) { k in
            let rows = parts.rows(ofPart: k)
            activation.backward(preActivation: z, gradient: dy, biasGradient: db, batch: batch, rows: rows)
            SparseKernels.weightGradient(pattern: pattern, gradient: UnsafePointer(dy), input: x, into: dw,
                                         batch: batch, rows: rows)
        }
    }

    /// DX = Wᵀ·DZ by rows of Wᵀ balanced by nonzeros.
    public func sparseInputGradient(_ w: any SparseOperand, values: UnsafePointer<Float>, outputGradient dz: UnsafePointer<Float>,
                                    inputGradient dx: UnsafeMutablePointer<Float>, batch: Int) {
        if let dense = maskedDense(w) {
            scatter(values, into: dense)   // O(nnz), against the GEMM's K·D·B: the values may have changed since forward
            denseInputGradient(rows: dense.pattern.rows, columns: dense.pattern.columns, values: dense.weights.pointer,
                               outputGradient: dz, inputGradient: dx, batch: batch)
            return
        }
        let w = operand(w), transpose = w.transpose, parts = w.transposeParts
        pool.run(parts: parts.parts) { k in
            SparseKernels.multiplyTransposed(plan: transpose, values: values, gradient: dz, into: dx,
                                             batch: batch, rows: parts.rows(ofPart: k))
        }
    }

    private func scatter(_ values: UnsafePointer<Float>, into dense: CPUMaskedDenseOperand) {
        pool.forEachRange(dense.pattern.rows, minimumPerThread: 16) { rows in dense.scatter(values, rows: rows) }
    }

    private func maskedDense(_ w: any SparseOperand) -> CPUMaskedDenseOperand? {
        guard let dense = w as? CPUMaskedDenseOperand else { return nil }
        precondition(dense.threads == pool.threads, "a sparse operand prepared by another backend")
        return dense
    }

    private func operand(_ w: any SparseOperand) -> CPUSparseOperand {
        guard let operand = w as? CPUSparseOperand, operand.threads == pool.threads else {
            preconditionFailure("a sparse operand prepared by another backend")
        }
        return operand
    }
}
