import Foundation

/// Log-softmax over each example's K values: y_c = x_c − m − log Σ_c' exp(x_c' − m), m = max_c x_c.
/// Backward: DX_c = DY_c − exp(y_c)·Σ_c' DY_c'. Use with the `negative-log-likelihood` loss.
public final class LogSoftmax: Layer {
    public let size: Int
    public var inputSize: Int { size }
    public var outputSize: Int { size }
    public var scratchPerExample: Int { 0 }
    public var summary: String { "log-softmax" }

    init(size: Int) { self.size = size }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) {
        let b = context.batch, k = size, x = buffers.input, y = buffers.output
        for j in 0..<b {
            let (m, total) = SoftmaxColumn.maximumAndTotal(x, classes: k, batch: b, column: j)
            let shift = m + log(total)
            for c in 0..<k { y[c * b + j] = x[c * b + j] - shift }
        }
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) {
        guard let dx = buffers.inputGradient else { return }
        let b = context.batch, k = size, y = UnsafePointer(buffers.output), dy = buffers.outputGradient
        for j in 0..<b {
            var total: Float = 0
            for c in 0..<k { total += dy[c * b + j] }
            for c in 0..<k { dx[c * b + j] = dy[c * b + j] - exp(y[c * b + j]) * total }
        }
    }
}
