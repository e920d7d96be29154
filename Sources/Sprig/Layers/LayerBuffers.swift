/// One layer's buffers for a batch of B examples, feature-major (row length B): input X
/// (D×B), output Y (K×B), the gradient DY of its output (K×B; backward may overwrite it), the
/// gradient DX of its input (D×B; nil for the first layer, whose input gradient nobody needs),
/// and its scratch (`scratchPerExample`×B floats that forward leaves for backward).
public struct LayerBuffers {
    public var input: UnsafePointer<Float>
    public var output: UnsafeMutablePointer<Float>
    public var outputGradient: UnsafeMutablePointer<Float>
    public var inputGradient: UnsafeMutablePointer<Float>?
    public var scratch: UnsafeMutablePointer<Float>

    public init(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, outputGradient: UnsafeMutablePointer<Float>,
                inputGradient: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        self.input = input
        self.output = output
        self.outputGradient = outputGradient
        self.inputGradient = inputGradient
        self.scratch = scratch
    }
}
