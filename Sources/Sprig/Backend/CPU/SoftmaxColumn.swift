import Foundation

/// The shared step of softmax and log-softmax over one example j of a feature-major K×B
/// matrix: m = max_c x[c, j] and Σ_c exp(x[c, j] − m), so that exp never overflows.
enum SoftmaxColumn {
    @inline(__always)
    static func maximumAndTotal(_ x: UnsafePointer<Float>, classes k: Int, batch b: Int, column j: Int) -> (maximum: Float, total: Float) {
        var m = -Float.infinity
        for c in 0..<k { m = max(m, x[c * b + j]) }
        var total: Float = 0
        for c in 0..<k { total += exp(x[c * b + j] - m) }
        return (m, total)
    }
}
