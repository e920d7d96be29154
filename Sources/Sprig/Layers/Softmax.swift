import Foundation

/// Softmax over each example's K values (a column of the feature-major K×B matrix):
/// y_c = exp(x_c − m)/Σ_c' exp(x_c' − m), m = max_c x_c.
/// Backward: DX_c = y_c·(DY_c − Σ_c' DY_c'·y_c'). Use with the `cross-entropy` loss.
public final class Softmax: Layer {
    public let size: Int
    public var inputSize: Int { size }
    public var outputSize: Int { size }
    public var scratchPerExample: Int { 0 }
    public var summary: String { "softmax" }

    init(size: Int) { self.size = size }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) {
        let b = context.batch, k = size, x = buffers.input, y = buffers.output
        for j in 0..<b {
            let (m, total) = SoftmaxColumn.maximumAndTotal(x, classes: k, batch: b, column: j)
            for c in 0..<k { y[c * b + j] = exp(x[c * b + j] - m) / total }
        }
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) {
        guard let dx = buffers.inputGradient else { return }
        let b = context.batch, k = size, y = UnsafePointer(buffers.output), dy = buffers.outputGradient
        for j in 0..<b {
            var dot: Float = 0
            for c in 0..<k { dot += dy[c * b + j] * y[c * b + j] }
            for c in 0..<k { dx[c * b + j] = y[c * b + j] * (dy[c * b + j] - dot) }
        }
    }
}
