/// Sparse DNN Graph Challenge inference: Y_{l+1} = min(32, ReLU(Y_l·W_l + b)) through all
/// layers; the categories are the inputs whose final row has any nonzero.
///
/// Feature-major, as in training: a batch of B live inputs is the N×B matrix Yᵀ, and each layer
/// is the forward kernel Yᵀ_{l+1}[j,:] = min(32, max(0, Σ_i W(i,j)·Yᵀ_l[i,:] + b)) over Wᵀ's
/// rows j, with bias, ReLU and the clamp fused into the row's epilogue and rows split across
/// threads by nonzeros. The bias is negative, so an input whose column is all zero stays zero:
/// after each layer dead columns are dropped (the batch compacted), which is most of the speed.
/// The weights' values and the bias are used as given (nothing assumes they are equal).
public final class InferenceEngine: ChallengeEngine {
    public let layers: [ChallengeLayer]
    public let neurons: Int
    public let bias: Float
    public let cap: Float
    public let pool: ThreadPool
    private let partitions: [RowPartition]
    /// b as a vector, one value per neuron, as any layer's bias is used.
    private let biases: FloatBuffer

    public init(layers: [ChallengeLayer], neurons: Int, bias: Float, cap: Float = 32, pool: ThreadPool) {
        self.layers = layers
        self.neurons = neurons
        self.bias = bias
        self.cap = cap
        self.pool = pool
        partitions = layers.map { RowPartition($0.transposed, parts: pool.threads * 4) }
        biases = FloatBuffer(count: neurons)
        biases.fill(bias)
    }

    /// The edges one input passes through: Σ over layers of nonzeros.
    public var edges: Int { layers.reduce(0) { $0 + $1.values.count } }

    /// The default bias of the challenge for N neurons: −0.3, −0.35, −0.4, −0.45 for 1024 … 65536.
    public static func challengeBias(neurons: Int) -> Float? {
        [1024: -0.3, 4096: -0.35, 16384: -0.4, 65536: -0.45][neurons]
    }

    /// Columns per tile of the batch: N×tile floats of input take 1 MiB (half of a core's L2).
    /// Tiles narrower than 128 columns cost more in short inner loops than they save (measured
    /// at N = 4096), so larger N run untiled.
    static func tileWidth(neurons: Int) -> Int {
        let tile = (1 << 18) / neurons
        return tile >= 128 ? tile : .max
    }

    /// The largest batch whose two N×B float buffers fit in `memory` bytes.
    public static func batchSize(neurons: Int, memory: Int) -> Int { max(1, memory / (2 * 4 * neurons)) }

    /// The two N×B activation buffers, kept for the next batch.
    private var buffers: (x: FloatBuffer, y: FloatBuffer)?

    /// The row length (stride) for b live inputs: rounded up to whole 16-float vectors, so the
    /// inner loops have no scalar tail. The padding columns are computed like the others (a
    /// column never mixes with another) and never read as inputs.
    static func stride(forLive b: Int) -> Int { (b + 15) / 16 * 16 }

    /// The categories among one batch of inputs: the ids of those alive after the last layer.
    public func categories(of batch: ChallengeInputs) -> [Int] {
        var b = batch.count, stride = Self.stride(forLive: b)
        guard b > 0 else { return [] }
        if (buffers?.x.count ?? 0) < neurons * stride {
            buffers = (FloatBuffer(count: neurons * stride), FloatBuffer(count: neurons * stride))
        }
        var current = buffers!.x, next = buffers!.y
        // Yᵀ₀: column j is input ids[j]; the ids travel with their columns as the batch compacts.
        var live = batch.ids
        current.pointer.update(repeating: 0, count: neurons * stride)
        for j in 0..<b {
            for q in batch.offsets[j]..<batch.offsets[j + 1] { current[Int(batch.pixels[q]) * stride + j] = batch.values[q] }
        }
        if compact(current, live: &b, stride: &stride, ids: &live, into: next) { swap(&current, &next) }
        for (l, layer) in layers.enumerated() where b > 0 {
            let partition = partitions[l], input = UnsafePointer(current.pointer), output = next.pointer, width = stride
            let activation = Activation.clippedReLU(cap), bias = UnsafePointer(biases.pointer)
            // Work items: column tiles of the batch (each tile's slice of Yᵀ_l fits in L2) × row parts.
            let tile = min(width, Self.tileWidth(neurons: neurons)), tiles = (width + tile - 1) / tile, parts = partition.parts
            layer.values.withUnsafeBufferPointer { values in
                pool.run(parts: tiles * parts) { item in
                    let t = item / parts
                    SparseKernels.forward(pattern: layer.transposed, values: values.baseAddress!, bias: bias, input: input,
                                          preActivation: output, output: output, batch: width, activation: activation,
                                          rows: partition.rows(ofPart: item % parts),
                                          batchColumns: t * tile ..< min(width, (t + 1) * tile))
                }
            }
            swap(&current, &next)
            if compact(current, live: &b, stride: &stride, ids: &live, into: next) { swap(&current, &next) }
        }
        return live
    }

    /// Drops the all-zero columns among the first b of `matrix` (N×stride), updating b, the
    /// stride and the live ids. Returns true when columns died: the compacted matrix is then in
    /// `spare` (its padding columns zero).
    private func compact(_ matrix: FloatBuffer, live b: inout Int, stride: inout Int, ids live: inout [Int],
                         into spare: FloatBuffer) -> Bool {
        guard b > 0 else { return false }
        let m = matrix.pointer, n = neurons, width = b, rowLength = stride
        // Which columns hold a nonzero: each thread scans a band of rows.
        let parts = min(pool.threads, n)
        var seen = [[Bool]](repeating: [Bool](repeating: false, count: width), count: parts)
        seen.withUnsafeMutableBufferPointer { seen in
            pool.run(parts: parts) { k in
                seen[k].withUnsafeMutableBufferPointer { mine in
                    for row in (n * k / parts)..<(n * (k + 1) / parts) {
                        let r = m + row * rowLength
                        for j in 0..<width where r[j] != 0 { mine[j] = true }
                    }
                }
            }
        }
        let keep = (0..<width).filter { j in seen.contains { $0[j] } }
        guard keep.count < width else { return false }
        let kept = keep.count, newLength = Self.stride(forLive: kept), s = spare.pointer
        if kept > 0 {
            pool.forEachRange(n, minimumPerThread: 64) { rows in
                for row in rows {
                    let source = m + row * rowLength, target = s + row * newLength
                    for (c, j) in keep.enumerated() { target[c] = source[j] }
                    (target + kept).update(repeating: 0, count: newLength - kept)
                }
            }
        }
        live = keep.map { live[$0] }
        b = kept
        stride = newLength
        return true
    }
}
