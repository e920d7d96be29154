import Foundation

/// The kernels of the layers other than linear ones (formulas on `ComputeBackend`), split by
/// features across the pool's threads; softmax works column by column on one thread.
extension CPUBackend {
    public func copy(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
        destination.update(from: source, count: count)
    }

    public func multiply(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into c: UnsafeMutablePointer<Float>, count: Int) {
        pool.forEachRange(count, minimumPerThread: 4096) { range in
            for i in range { c[i] = a[i] * b[i] }
        }
    }

    public func dropoutForward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>,
                               units: Int, batch b: Int, rate: Float, hostKeys keys: UnsafePointer<UInt64>) {
        let keep = 1 / (1 - rate)
        pool.forEachRange(units, minimumPerThread: 16) { units in
            for k in units {
                for j in 0..<b {
                    let u = Dropout.uniform(key: keys[j], unit: UInt64(k))
                    let m: Float = u < rate ? 0 : keep
                    mask[k * b + j] = m
                    y[k * b + j] = x[k * b + j] * m
                }
            }
        }
    }

    public func softmaxForward(input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, classes k: Int, batch b: Int,
                               logarithm: Bool) {
        for j in 0..<b {
            let (m, total) = SoftmaxColumn.maximumAndTotal(x, classes: k, batch: b, column: j)
            if logarithm {
                let shift = m + log(total)
                for c in 0..<k { y[c * b + j] = x[c * b + j] - shift }
            } else {
                for c in 0..<k { y[c * b + j] = exp(x[c * b + j] - m) / total }
            }
        }
    }

    public func softmaxBackward(output y: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
                                inputGradient dx: UnsafeMutablePointer<Float>, classes k: Int, batch b: Int, logarithm: Bool) {
        for j in 0..<b {
            if logarithm {
                var total: Float = 0
                for c in 0..<k { total += dy[c * b + j] }
                for c in 0..<k { dx[c * b + j] = dy[c * b + j] - exp(y[c * b + j]) * total }
            } else {
                var dot: Float = 0
                for c in 0..<k { dot += dy[c * b + j] * y[c * b + j] }
                for c in 0..<k { dx[c * b + j] = y[c * b + j] * (dy[c * b + j] - dot) }
            }
        }
    }

    public func featureSums(_ a: UnsafePointer<Float>, _ bValues: UnsafePointer<Float>, features: Int, batch b: Int,
                            into sums: UnsafeMutablePointer<Double>) {
        pool.forEachRange(features, minimumPerThread: 64) { rows in
            for k in rows {
                (sums[k], sums[features + k]) = VectorMath.sumAndDotInDouble(a + k * b, bValues + k * b, count: b)
            }
        }
    }

    public func batchNormForward(input x: UnsafePointer<Float>, hostMean mean: UnsafePointer<Float>,
                                 hostInverseDeviation inverse: UnsafePointer<Float>, gamma g: UnsafePointer<Float>,
                                 beta bt: UnsafePointer<Float>, normalized xHat: UnsafeMutablePointer<Float>,
                                 output y: UnsafeMutablePointer<Float>, features: Int, batch b: Int) {
        pool.forEachRange(features, minimumPerThread: 64) { rows in
            for k in rows {
                let mu = mean[k], scale = inverse[k]
                for j in 0..<b {
                    let h = (x[k * b + j] - mu) * scale
                    xHat[k * b + j] = h
                    y[k * b + j] = g[k] * h + bt[k]
                }
            }
        }
    }

    public func batchNormInference(input x: UnsafePointer<Float>, hostMean mean: UnsafePointer<Float>,
                                   hostVariance variance: UnsafePointer<Float>, epsilon: Float, gamma g: UnsafePointer<Float>,
                                   beta bt: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, features: Int, batch b: Int) {
        pool.forEachRange(features, minimumPerThread: 64) { rows in
            for k in rows {
                let scale = g[k] / (variance[k] + epsilon).squareRoot(), shift = bt[k] - mean[k] * scale
                for j in 0..<b { y[k * b + j] = x[k * b + j] * scale + shift }
            }
        }
    }

    public func batchNormInputGradient(outputGradient dy: UnsafePointer<Float>, normalized xHat: UnsafePointer<Float>,
                                       hostSums sums: UnsafePointer<Double>, gamma g: UnsafePointer<Float>,
                                       hostInverseDeviation inverse: UnsafePointer<Float>, globalBatch: Int,
                                       inputGradient dx: UnsafeMutablePointer<Float>, features: Int, batch b: Int) {
        let n = Float(max(globalBatch, 1))
        pool.forEachRange(features, minimumPerThread: 64) { rows in
            for k in rows {
                let meanDy = Float(sums[k]) / n, meanDyXHat = Float(sums[features + k]) / n
                let scale = g[k] * inverse[k]
                for j in 0..<b {
                    dx[k * b + j] = scale * (dy[k * b + j] - meanDy - xHat[k * b + j] * meanDyXHat)
                }
            }
        }
    }

    public func sreluForward(input x: UnsafePointer<Float>, _ p: SReLUParameters, output y: UnsafeMutablePointer<Float>,
                             units: Int, batch b: Int) {
        let al = p.leftSlope, tl = p.leftThreshold, ar = p.rightSlope, tr = p.rightThreshold
        pool.forEachRange(units, minimumPerThread: 64) { rows in
            for k in rows {
                for j in 0..<b {
                    let z = x[k * b + j]
                    y[k * b + j] = z <= tl[k] ? tl[k] + al[k] * (z - tl[k]) : (z >= tr[k] ? tr[k] + ar[k] * (z - tr[k]) : z)
                }
            }
        }
    }

    public func sreluBackward(input x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, _ p: SReLUParameters,
                              gradients d: SReLUParameters, inputGradient dx: UnsafeMutablePointer<Float>?, units: Int, batch b: Int) {
        let al = p.leftSlope, tl = p.leftThreshold, ar = p.rightSlope, tr = p.rightThreshold
        pool.forEachRange(units, minimumPerThread: 64) { rows in
            for k in rows {
                var sums: (al: Float, tl: Float, ar: Float, tr: Float) = (0, 0, 0, 0)
                for j in 0..<b {
                    let z = x[k * b + j], g = dy[k * b + j]
                    let slope: Float
                    if z <= tl[k] {
                        sums.al += g * (z - tl[k])
                        sums.tl += g * (1 - al[k])
                        slope = al[k]
                    } else if z >= tr[k] {
                        sums.ar += g * (z - tr[k])
                        sums.tr += g * (1 - ar[k])
                        slope = ar[k]
                    } else {
                        slope = 1
                    }
                    dx?[k * b + j] = g * slope
                }
                d.leftSlope[k] = sums.al
                d.leftThreshold[k] = sums.tl
                d.rightSlope[k] = sums.ar
                d.rightThreshold[k] = sums.tr
            }
        }
    }
}
