import TrainingKernels

/// The CSR kernels of training, in the feature-major layout: a batch of B examples with D
/// features is a D×B row-major matrix. W is K×D (outputs × inputs). Each kernel handles a range
/// of rows so threads can split it; the loops themselves are C (`TrainingKernels`): per row,
/// tiles of 64 batch columns whose sums stay in vector registers over the row's nonzeros.
public enum SparseKernels {
    /// Where a gathered matrix of `bytes` lies, as the C kernels' `far` takes it: 0 within L2
    /// (1 MiB here), 1 within L3 (32 MiB), 2 beyond. Fixed sizes: a wrong guess only changes
    /// how far ahead rows are prefetched.
    @inline(__always)
    static func distance(ofGathered bytes: Int) -> Int32 { bytes <= 1 << 20 ? 0 : bytes <= 32 << 20 ? 1 : 2 }

    /// Rows per call of the C kernel in `forward` when Swift applies the activation, so that
    /// the epilogue finds them in L1/L2.
    static let epilogueRows = 32

    /// Z[o,:] = Σ_{p ∈ row o} W[p]·X[c_p,:] + b[o],  Y[o,:] = f(Z[o,:])   for o in `rows`.
    /// W: K×D CSR (values by slot), X: D×B, b: K, Z and Y: K×B. Identity and ReLU are applied
    /// by the C kernel to each sum in its register; other activations here, to Z in cache.
    @inline(__always)
    public static func forward(pattern: SparsityPattern, values: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                               output y: UnsafeMutablePointer<Float>, batch: Int, activation: Activation,
                               rows: Range<Int>) {
        let far = distance(ofGathered: pattern.columns * batch * 4)
        let epilogue: Int32 = switch activation {
        case .identity: Int32(SPRIG_EPILOGUE_IDENTITY)
        case .relu: Int32(SPRIG_EPILOGUE_RELU)
        default: Int32(SPRIG_EPILOGUE_BIAS)
        }
        pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            pattern.columnIndices.withUnsafeBufferPointer { columns in
                if epilogue != SPRIG_EPILOGUE_BIAS {
                    sprig_csr_forward(offsets.int64Address, columns.baseAddress!, values, Int64(rows.lowerBound), Int64(rows.upperBound),
                                      x, z, Int64(batch), far, bias, y, epilogue)
                    return
                }
                for first in stride(from: rows.lowerBound, to: rows.upperBound, by: epilogueRows) {
                    let last = min(first + epilogueRows, rows.upperBound)
                    sprig_csr_forward(offsets.int64Address, columns.baseAddress!, values, Int64(first), Int64(last),
                                      x, z, Int64(batch), far, bias, y, epilogue)
                    for o in first..<last { activation.applyRow(preActivation: z + o * batch, y: y + o * batch, count: batch) }
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
        let far = distance(ofGathered: plan.pattern.columns * batch * 4)
        plan.pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            plan.pattern.columnIndices.withUnsafeBufferPointer { columns in
                plan.sourceSlot.withUnsafeBufferPointer { source in
                    sprig_csr_times_dense(offsets.int64Address, columns.baseAddress!, values, source.baseAddress!,
                                          Int64(rows.lowerBound), Int64(rows.upperBound), dz, dx, Int64(batch), far)
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
        let far = distance(ofGathered: pattern.columns * batch * 4)
        pattern.rowOffsets.withUnsafeBufferPointer { offsets in
            pattern.columnIndices.withUnsafeBufferPointer { columns in
                sprig_csr_sampled_product(offsets.int64Address, columns.baseAddress!, dz, x, dw,
                                          Int64(rows.lowerBound), Int64(rows.upperBound), Int64(batch), far)
            }
        }
    }
}

extension UnsafeBufferPointer where Element == Int {
    /// CSR row offsets as the C kernels take them (`int64_t *`; Int is 64 bits wherever Sprig builds).
    @inline(__always)
    var int64Address: UnsafePointer<Int64> { UnsafeRawPointer(baseAddress!).assumingMemoryBound(to: Int64.self) }
}
