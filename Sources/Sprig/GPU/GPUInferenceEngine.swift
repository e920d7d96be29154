import Foundation

/// The challenge's inference on a GPU, the same recurrence and batch flow as `InferenceEngine`:
/// per layer, Zᵀ = Wᵀ·Yᵀ with cuSPARSE SpMM (CSR × row-major dense, N×B), then one kernel
/// for bias, ReLU, the clamp and the live-column flags; the flags (B ints) come back to the
/// host, which compacts the batch on the device when inputs died.
public final class GPUInferenceEngine: ChallengeEngine {
    public let neurons: Int
    public let edges: Int
    public let cap: Float
    public let context: GPUContext
    private var matrices: [OpaquePointer?] = []
    private var storage: [DeviceBuffer] = []
    private let bias: DeviceBuffer
    private var x: DeviceBuffer?, y: DeviceBuffer?, alive: DeviceBuffer?, keep: DeviceBuffer?, workspace: DeviceBuffer?

    public init(layers: [ChallengeLayer], neurons: Int, bias: Float, cap: Float = 32, context: GPUContext) throws {
        self.neurons = neurons
        self.cap = cap
        self.context = context
        edges = layers.reduce(0) { $0 + $1.values.count }
        let driver = context.driver
        self.bias = try DeviceBuffer(driver: driver, copying: [Float](repeating: bias, count: neurons))
        for layer in layers {
            let p = layer.transposed
            let offsets = try DeviceBuffer(driver: driver, copying: p.rowOffsets.map { Int32($0) })
            let indices = try DeviceBuffer(driver: driver, copying: p.columnIndices)
            let values = try DeviceBuffer(driver: driver, copying: layer.values)
            storage += [offsets, indices, values]
            matrices.append(try context.sparse.csr(rows: p.rows, columns: p.columns, nonzeros: layer.values.count,
                                                   offsets: offsets, indices: indices, values: values))
        }
    }

    deinit { for m in matrices { _ = context.sparse.destroySparse(m) } }

    /// Device buffers of at least `bytes` bytes.
    private func ensure(_ buffer: inout DeviceBuffer?, bytes: Int) throws {
        if (buffer?.byteCount ?? -1) < bytes { buffer = nil; buffer = try DeviceBuffer(driver: context.driver, byteCount: bytes) }
    }

    public func categories(of batch: ChallengeInputs) throws -> [Int] {
        let n = neurons
        var live = (0..<batch.count).filter { j in (batch.offsets[j]..<batch.offsets[j + 1]).contains { batch.values[$0] != 0 } }
        var b = live.count
        guard b > 0 else { return [] }
        // Yᵀ₀ built on the host (N×b) and copied over.
        var host = [Float](repeating: 0, count: n * b)
        for (c, j) in live.enumerated() {
            for q in batch.offsets[j]..<batch.offsets[j + 1] { host[Int(batch.pixels[q]) * b + c] = batch.values[q] }
        }
        live = live.map { batch.ids[$0] }
        try ensure(&x, bytes: 4 * n * b); try ensure(&y, bytes: 4 * n * b)
        try ensure(&alive, bytes: 4 * b); try ensure(&keep, bytes: 4 * b)
        try x!.upload(host)
        for matrix in matrices {
            try context.sparse.multiply(matrix, rows: n, inner: n, width: b, b: x!.address, c: y!.address,
                                        workspace: &workspace, driver: context.driver)
            try alive!.clear(bytes: 4 * b)
            try context.launch("sprig_challenge_epilogue", elements: n * b,
                               [.address(y!.address), .int64(Int64(n * b)), .int32(Int32(b)), .address(bias.address), .float(cap),
                                .address(alive!.address)])
            swap(&x, &y)
            let flags: [Int32] = try alive!.download(b)
            let kept = (0..<b).filter { flags[$0] != 0 }
            guard kept.count < b else { continue }
            live = kept.map { live[$0] }
            if kept.isEmpty { break }
            try keep!.upload(kept.map { Int32($0) })
            try context.launch("sprig_gather_columns", elements: n * kept.count,
                               [.address(x!.address), .int32(Int32(b)), .address(y!.address), .int32(Int32(kept.count)),
                                .int64(Int64(n * kept.count)), .address(keep!.address)])
            swap(&x, &y)
            b = kept.count
        }
        try context.driver.synchronize()
        return live
    }
}
