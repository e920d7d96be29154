/// How the gradients are summed across ranks each step.
public enum GradientExchange: String, Sendable, CaseIterable {
    /// One allreduce of the whole store's gradients after backward.
    case fused
    /// One non-blocking allreduce per layer, started as soon as backward finishes that layer.
    case perLayer = "per-layer"
}
