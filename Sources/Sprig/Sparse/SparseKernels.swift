/// The CSR kernels of training, in the feature-major layout: a batch of B examples with D
/// features is a D×B row-major matrix, so every inner loop runs over B contiguous floats.
/// W is K×D (outputs × inputs). Each kernel handles a range of rows so threads can split it.
public enum SparseKernels {

    /// Z[o,:] = Σ_{p ∈ row o} W[p]·X[c_p,:] + b[o],  Y[o,:] = f(Z[o,:])   for o in `rows`.
    /// W: K×D CSR (values by slot), X: D×B, b: K, Z and Y: K×B. With `batchColumns`, only those
    /// columns of Z and Y (a tile of the batch, so its slice of X stays in cache).
    @inline(__always)
    public static func forward(pattern: SparsityPattern, values: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                               output y: UnsafeMutablePointer<Float>, batch: Int, activation: Activation,
                               rows: Range<Int>, batchColumns: Range<Int>? = nil) {
        let first = batchColumns?.lowerBound ?? 0, count = batchColumns?.count ?? batch
        pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            pattern.columnIndices.withUnsafeBufferPointer { columns in
                for o in rows {
                    let zRow = z + o * batch + first
                    zRow.update(repeating: 0, count: count)
                    accumulateRow(start: offsets[o], end: offsets[o + 1], columns: columns.baseAddress!,
                                  value: { values[$0] }, source: x + first, stride: batch, into: zRow, count: count)
                    activation.applyRow(z: zRow, bias: bias[o], y: y + o * batch + first, count: count)
                }
            }
        }
    }

    /// DX[i,:] = Σ_{q ∈ row i of Wᵀ} W[src_q]·DZ[r_q,:]  for i in `rows` (DX = Wᵀ·DZ).
    /// Wᵀ: D×K through the plan (values read from W's slots), DZ: K×B, DX: D×B.
    @inline(__always)
    public static func multiplyTransposed(plan: TransposePlan, values: UnsafePointer<Float>,
                                          gradient dz: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>,
                                          batch: Int, rows: Range<Int>) {
        plan.pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            plan.pattern.columnIndices.withUnsafeBufferPointer { columns in
                plan.sourceSlot.withUnsafeBufferPointer { source in
                    for i in rows {
                        let row = dx + i * batch
                        row.update(repeating: 0, count: batch)
                        accumulateRow(start: offsets[i], end: offsets[i + 1], columns: columns.baseAddress!,
                                      value: { values[Int(source[$0])] }, source: dz, stride: batch, into: row, count: batch)
                    }
                }
            }
        }
    }

    /// SDDMM: DW[p] = Σ_j DZ[o,j]·X[c_p,j] for each nonzero p = (o, c_p) of rows `rows`,
    /// i.e. DW = (DZ·Xᵀ) ∘ pattern with work ∝ nnz·B (never K·D·B).
    /// DZ: K×B, X: D×B, DW: nnz (by slot).
    @inline(__always)
    public static func weightGradient(pattern: SparsityPattern, gradient dz: UnsafePointer<Float>,
                                      input x: UnsafePointer<Float>, into dw: UnsafeMutablePointer<Float>,
                                      batch: Int, rows: Range<Int>) {
        pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            pattern.columnIndices.withUnsafeBufferPointer { columns in
                for o in rows {
                    let dzRow = dz + o * batch
                    for p in offsets[o]..<offsets[o + 1] {
                        dw[p] = VectorMath.dot(dzRow, x + Int(columns[p]) * batch, count: batch)
                    }
                }
            }
        }
    }

    /// out[0..<count] += Σ_{p ∈ start..<end} value(p)·source[c_p·stride ..< c_p·stride + count],
    /// four nonzeros per pass over `out`.
    @inline(__always)
    static func accumulateRow(start: Int, end: Int, columns: UnsafePointer<Int32>, value: (Int) -> Float,
                              source: UnsafePointer<Float>, stride batch: Int, into out: UnsafeMutablePointer<Float>,
                              count: Int) {
        var p = start
        while p + 4 <= end {
            VectorMath.axpy4(value(p), source + Int(columns[p]) * batch,
                             value(p + 1), source + Int(columns[p + 1]) * batch,
                             value(p + 2), source + Int(columns[p + 2]) * batch,
                             value(p + 3), source + Int(columns[p + 3]) * batch,
                             out, count: count)
            p += 4
        }
        while p < end {
            VectorMath.axpy(value(p), source + Int(columns[p]) * batch, out, count: count)
            p += 1
        }
    }
}
