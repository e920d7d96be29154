/// Contiguous-vector primitives for the kernels' inner loops, written with explicit SIMD so
/// reductions vectorise (the compiler may not reassociate a scalar float sum).
enum VectorMath {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }

    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// Σ x[j]·y[j], j < n.
    @inline(__always)
    static func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count n: Int) -> Float {
        var a0 = V(), a1 = V()
        var j = 0
        while j + 32 <= n {
            a0 = a0.addingProduct(load(x + j), load(y + j))
            a1 = a1.addingProduct(load(x + j + 16), load(y + j + 16))
            j += 32
        }
        if j + 16 <= n { a0 = a0.addingProduct(load(x + j), load(y + j)); j += 16 }
        var s = (a0 + a1).sum()
        while j < n { s += x[j] * y[j]; j += 1 }
        return s
    }

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

    /// y[j] = a·x[j] (+ y[j] when `accumulate`), j < n.
    @inline(__always)
    static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        let av = V(repeating: a)
        var j = 0
        while j + 16 <= n { store(load(UnsafePointer(y + j)).addingProduct(av, load(x + j)), y + j); j += 16 }
        while j < n { y[j] += a * x[j]; j += 1 }
    }

    /// y[j] += a0·x0[j] + a1·x1[j] + a2·x2[j] + a3·x3[j], j < n: one pass over y for four nonzeros.
    @inline(__always)
    static func axpy4(_ a0: Float, _ x0: UnsafePointer<Float>, _ a1: Float, _ x1: UnsafePointer<Float>,
                      _ a2: Float, _ x2: UnsafePointer<Float>, _ a3: Float, _ x3: UnsafePointer<Float>,
                      _ y: UnsafeMutablePointer<Float>, count n: Int) {
        let v0 = V(repeating: a0), v1 = V(repeating: a1), v2 = V(repeating: a2), v3 = V(repeating: a3)
        var j = 0
        while j + 16 <= n {
            var acc = load(UnsafePointer(y + j))
            acc = acc.addingProduct(v0, load(x0 + j))
            acc = acc.addingProduct(v1, load(x1 + j))
            acc = acc.addingProduct(v2, load(x2 + j))
            acc = acc.addingProduct(v3, load(x3 + j))
            store(acc, y + j)
            j += 16
        }
        while j < n { y[j] += a0 * x0[j] + a1 * x1[j] + a2 * x2[j] + a3 * x3[j]; j += 1 }
    }
}
