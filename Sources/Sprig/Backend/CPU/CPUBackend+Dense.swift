import CBLAS

/// The dense products with `cblas_sgemm`, each split by output rows across the pool's threads
/// (OpenBLAS itself runs single-threaded, so one set of threads does all the work).
extension CPUBackend {
    /// Z (K×B) = W (K×D) · X (D×B); then Z += b, Y = f(Z) row by row.
    public func denseForward(rows k: Int, columns d: Int, values w: UnsafePointer<Float>, bias b: UnsafePointer<Float>,
                             input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                             output y: UnsafeMutablePointer<Float>, batch: Int, activation: Activation) {
        guard batch > 0 else { return }   // BLAS refuses a leading dimension of 0
        pool.forEachRange(k, minimumPerThread: 16) { rows in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows.count), Int32(batch), Int32(d),
                        1, w + rows.lowerBound * d, Int32(d), x, Int32(batch), 0, z + rows.lowerBound * batch, Int32(batch))
            for o in rows { activation.applyRow(z: z + o * batch, bias: b[o], y: y + o * batch, count: batch) }
        }
    }

    /// DZ = DY ∘ f'(Z); Db = row sums; DW (K×D) = DZ (K×B) · Xᵀ, row blocks per thread.
    public func denseWeightGradient(rows k: Int, columns d: Int, preActivation z: UnsafePointer<Float>, activation: Activation,
                                    outputGradient dy: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>,
                                    input x: UnsafePointer<Float>, weightGradient dw: UnsafeMutablePointer<Float>, batch: Int) {
        guard batch > 0 else {   // no examples on this rank: zero gradients (BLAS refuses a leading dimension of 0)
            dw.update(repeating: 0, count: k * d)
            db.update(repeating: 0, count: k)
            return
        }
        pool.forEachRange(k, minimumPerThread: 16) { rows in
            activation.backward(preActivation: z, gradient: dy, biasGradient: db, batch: batch, rows: rows)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(d), Int32(batch),
                        1, dy + rows.lowerBound * batch, Int32(batch), x, Int32(batch), 0, dw + rows.lowerBound * d, Int32(d))
        }
    }

    /// DX rows i..<j = (W's columns i..<j)ᵀ · DZ.
    public func denseInputGradient(rows k: Int, columns d: Int, values w: UnsafePointer<Float>, outputGradient dz: UnsafePointer<Float>,
                                   inputGradient dx: UnsafeMutablePointer<Float>, batch: Int) {
        guard batch > 0 else { return }
        pool.forEachRange(d, minimumPerThread: 16) { rows in
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(rows.count), Int32(batch), Int32(k),
                        1, w + rows.lowerBound, Int32(d), dz, Int32(batch), 0, dx + rows.lowerBound * batch, Int32(batch))
        }
    }

    /// C (m×n) = A (m×k) · Bᵀ, rows of C split across threads; C = 0 when k = 0.
    public func multiplyTransposed(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>,
                                   m: Int, n: Int, k: Int) {
        guard k > 0 else {
            c.update(repeating: 0, count: m * n)
            return
        }
        pool.forEachRange(m, minimumPerThread: 16) { rows in
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(n), Int32(k),
                        1, a + rows.lowerBound * k, Int32(k), b, Int32(k), 0, c + rows.lowerBound * n, Int32(n))
        }
    }
}
