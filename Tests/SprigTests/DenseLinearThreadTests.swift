import Foundation
import XCTest
@testable import Sprig

/// `DenseLinear` at sizes where its GEMMs are split across threads (rows of Z and DW by output
/// rows, rows of DX by input columns; a piece has at least 16 rows), against an independent
/// double-precision dense computation, for several thread counts.
final class DenseLinearThreadTests: XCTestCase {
    let inputs = 83, outputs = 67, batch = 7

    /// The pieces `forEachRange` cuts `count` rows into, as the layer's kernels do.
    func pieces(_ count: Int, pool: ThreadPool) -> Int {
        let lock = NSLock()
        var ranges: [Range<Int>] = []
        pool.forEachRange(count, minimumPerThread: 16) { range in lock.lock(); ranges.append(range); lock.unlock() }
        XCTAssertEqual(ranges.map(\.count).reduce(0, +), count)
        return ranges.count
    }

    /// Largest |a − b| over the largest |b| (relative to the reference's scale).
    func relativeError(_ a: [Float], _ b: [Double]) -> Double {
        XCTAssertEqual(a.count, b.count)
        let scale = max(b.map(abs).max() ?? 0, 1e-12)
        return zip(a, b).map { abs(Double($0) - $1) }.max()! / scale
    }

    func testForwardAndGradientsAgreeWithTheReferenceForEveryThreadCount() throws {
        for activation in [Activation.tanh, .identity, .relu] {   // ReLU: Y alone, read back for f'(Z)
            for threads in [1, 2, 3, 4] {
                let pool = ThreadPool(threads: threads)
                // The test exercises the splits it claims to: every product is cut into `threads` pieces.
                XCTAssertEqual(pieces(outputs, pool: pool), threads)
                XCTAssertEqual(pieces(inputs, pool: pool), threads)
                try check(activation: activation, pool: pool)
            }
        }
    }

    /// Z = W·X + b, Y = f(Z); DZ = DY ∘ f'(Z), Db = Σ_j DZ, DW = DZ·Xᵀ, DX = Wᵀ·DZ, all in Double.
    func check(activation: Activation, pool: ThreadPool) throws {
        let d = inputs, k = outputs, b = batch
        let layer = DenseLinear(index: 0, inputSize: d, outputSize: k, activation: activation)
        let arena = ParameterStore(groups: [layer.weights, layer.bias])
        var generator = RandomGenerator(seed: 11)
        for i in 0..<arena.count { arena.values[i] = generator.uniform(-0.5, 0.5) }
        let x = (0..<(d * b)).map { _ in generator.uniform(-1, 1) }
        let dyInitial = (0..<(k * b)).map { _ in generator.uniform(-0.5, 0.5) }
        let w = (0..<(k * d)).map { Double(arena.values[layer.weights.offset + $0]) }
        let bias = (0..<k).map { Double(arena.values[layer.bias.offset + $0]) }

        var z = [Double](repeating: 0, count: k * b), y = z, dz = z
        for o in 0..<k {
            for j in 0..<b {
                var s = bias[o]
                for i in 0..<d { s += w[o * d + i] * Double(x[i * b + j]) }
                z[o * b + j] = s
                y[o * b + j] = DenseReference.f(activation, s)
                let derivative = activation == .tanh ? 1 - tanh(s) * tanh(s) : activation == .relu ? (s > 0 ? 1 : 0) : 1
                dz[o * b + j] = Double(dyInitial[o * b + j]) * derivative
            }
        }
        let db = (0..<k).map { o in (0..<b).map { dz[o * b + $0] }.reduce(0, +) }
        var dw = [Double](repeating: 0, count: k * d), dx = [Double](repeating: 0, count: d * b)
        for o in 0..<k {
            for i in 0..<d {
                for j in 0..<b {
                    dw[o * d + i] += dz[o * b + j] * Double(x[i * b + j])
                    dx[i * b + j] += w[o * d + i] * dz[o * b + j]
                }
            }
        }

        var zOut = [Float](repeating: .nan, count: k * b), yOut = zOut
        var dy = dyInitial, dxOut = [Float](repeating: .nan, count: d * b)
        arena.gradients.fill(.nan)
        let layerContext = LayerContext(mode: .training, examples: Array(0..<b)[...], globalBatch: b, step: 1, seed: 1,
                                        communicator: SingleProcessCommunicator(), backend: CPUBackend(pool: pool), parameters: arena)
        try x.withUnsafeBufferPointer { xp in
            try zOut.withUnsafeMutableBufferPointer { zp in
                try yOut.withUnsafeMutableBufferPointer { yp in
                    try dy.withUnsafeMutableBufferPointer { dyp in
                        try dxOut.withUnsafeMutableBufferPointer { dxp in
                            let buffers = LayerBuffers(input: xp.baseAddress!, output: yp.baseAddress!, outputGradient: dyp.baseAddress!,
                                                       inputGradient: dxp.baseAddress!, scratch: zp.baseAddress!)
                            try layer.forward(buffers, context: layerContext)
                            try layer.backward(buffers, context: layerContext)
                        }
                    }
                }
            }
        }
        let context = "\(activation), \(pool.threads) threads"
        if activation == .relu {
            XCTAssertEqual(layer.scratchPerExample, 0)
            XCTAssertTrue(zOut.allSatisfy(\.isNaN), "a ReLU layer keeps no Z: the scratch was written")
        } else {
            XCTAssertLessThan(relativeError(zOut, z), 1e-5, "Z, \(context)")
        }
        XCTAssertLessThan(relativeError(yOut, y), 1e-5, "Y, \(context)")
        XCTAssertLessThan(relativeError(Array(arena.gradients.buffer[layer.weights.offset..<(layer.weights.offset + k * d)]), dw),
                          1e-5, "DW, \(context)")
        XCTAssertLessThan(relativeError(Array(arena.gradients.buffer[layer.bias.offset..<(layer.bias.offset + k)]), db),
                          1e-5, "Db, \(context)")
        XCTAssertLessThan(relativeError(dxOut, dx), 1e-5, "DX, \(context)")
    }
}
