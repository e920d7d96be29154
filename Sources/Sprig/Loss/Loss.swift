/// A loss over a batch in the feature-major layout: network output Y is C×B (C classes).
/// L = (1/B_global) Σ_examples ℓ(y, label): each shard of a data-parallel batch divides by
/// the global batch size, so summing shard gradients gives the full batch's gradient.
public protocol Loss: Sendable {
    /// Writes DY = ∂L/∂Y (C×B) and returns Σ ℓ over this shard's B examples.
    func evaluate(output y: UnsafePointer<Float>, labels: UnsafePointer<Int32>, classes: Int, batch: Int,
                  globalBatch: Int, gradient dy: UnsafeMutablePointer<Float>) -> Double
}
