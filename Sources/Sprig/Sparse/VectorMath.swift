/// Contiguous-vector primitives for the kernels' inner loops, written with explicit SIMD so
/// reductions vectorise (the compiler may not reassociate a scalar float sum).
enum VectorMath {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    /// Σ x[j], j < n.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = V()
        var j = 0
        while j + 16 <= n { a0 += load(x + j); j += 16 }
        var s = a0.sum()
        while j < n { s += x[j]; j += 1 }
        return s
    }

    /// (Σ x[j], Σ x[j]·y[j]), j < n, accumulated in Double: the result does not depend on how a
    /// batch is split across ranks beyond Double rounding (BatchNorm's statistics).
    @inline(__always)
    static func sumAndDotInDouble(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> (Double, Double) {
        typealias D = SIMD8<Double>
        @inline(__always) func widen(_ p: UnsafePointer<Float>) -> D {
            let v = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
            return D(Double(v[0]), Double(v[1]), Double(v[2]), Double(v[3]),
                     Double(v[4]), Double(v[5]), Double(v[6]), Double(v[7]))
        }
        var s0 = D(), s1 = D()
        var j = 0
        while j + 8 <= n {
            let xv = widen(x + j)
            s0 += xv
            s1 += xv * widen(y + j)
            j += 8
        }
        var sum = s0.sum(), dot = s1.sum()
        while j < n { let v = Double(x[j]); sum += v; dot += v * Double(y[j]); j += 1 }
        return (sum, dot)
    }
}
