/// SReLU's four per-neuron arrays in the backend's memory (K values each): the left slope and
/// threshold a_l, t_l and the right ones a_r, t_r — or their gradients.
public struct SReLUParameters {
    public var leftSlope: UnsafeMutablePointer<Float>
    public var leftThreshold: UnsafeMutablePointer<Float>
    public var rightSlope: UnsafeMutablePointer<Float>
    public var rightThreshold: UnsafeMutablePointer<Float>

    public init(leftSlope: UnsafeMutablePointer<Float>, leftThreshold: UnsafeMutablePointer<Float>,
                rightSlope: UnsafeMutablePointer<Float>, rightThreshold: UnsafeMutablePointer<Float>) {
        self.leftSlope = leftSlope
        self.leftThreshold = leftThreshold
        self.rightSlope = rightSlope
        self.rightThreshold = rightThreshold
    }
}
