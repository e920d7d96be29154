/// The buffers of one optimizer update, as addresses in the backend's memory, all with the
/// store's layout from the same slot on: the values w, the gradients g and whichever state
/// the kind keeps (momentum's and Nesterov's velocity, Adam's moments m and v; nil otherwise).
public struct OptimizerBuffers {
    public var values: UnsafeMutablePointer<Float>
    public var gradients: UnsafePointer<Float>
    public var velocity: UnsafeMutablePointer<Float>?
    public var firstMoment: UnsafeMutablePointer<Float>?
    public var secondMoment: UnsafeMutablePointer<Float>?

    public init(values: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>, velocity: UnsafeMutablePointer<Float>? = nil,
                firstMoment: UnsafeMutablePointer<Float>? = nil, secondMoment: UnsafeMutablePointer<Float>? = nil) {
        self.values = values
        self.gradients = gradients
        self.velocity = velocity
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }
}
