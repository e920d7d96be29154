/// How the gradient arena is summed across ranks each step.
public enum GradientExchange: String, Sendable, CaseIterable {
    /// One allreduce of the whole arena after backward.
    case fused
    /// One non-blocking allreduce per layer, started as soon as backward finishes that layer.
    case perLayer = "per-layer"
}
