/// Log-softmax over each example's K values: y_c = x_c − m − log Σ_c' exp(x_c' − m), m = max_c x_c.
/// Backward: DX_c = DY_c − exp(y_c)·Σ_c' DY_c'. Use with the `negative-log-likelihood` loss.
public final class LogSoftmax: Layer {
    public let size: Int
    public var inputSize: Int { size }
    public var outputSize: Int { size }
    public var scratchPerExample: Int { 0 }
    public var summary: String { "log-softmax" }

    init(size: Int) { self.size = size }

    public func forward(_ buffers: LayerBuffers, context: LayerContext) throws {
        try context.backend.softmaxForward(input: buffers.input, output: buffers.output, classes: size, batch: context.batch,
                                           logarithm: true)
    }

    public func backward(_ buffers: LayerBuffers, context: LayerContext) throws {
        guard let dx = buffers.inputGradient else { return }
        try context.backend.softmaxBackward(output: buffers.output, outputGradient: buffers.outputGradient, inputGradient: dx,
                                            classes: size, batch: context.batch, logarithm: true)
    }
}
