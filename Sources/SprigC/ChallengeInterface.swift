import Foundation
import Sprig

/// Runs the Graph Challenge inference on one process, on the CPU: the network's layer files
/// in `network` (n{N}-l{k}.tsv[.gz]), the first `layers` layers, the inputs file; `bias` NaN
/// takes the challenge's bias for N, `truth` (may be NULL) a truth file to compare with.
/// `callback` receives one JSON object: {"categories": [1-based indices], "inference_seconds",
/// "read_seconds", "edges", "inputs", "rate" (edges/s), "pass": true|false|null}. The network
/// cache (~/.cache/sprig) is used as `sprig challenge run` uses it.
@_cdecl("sprig_challenge_run")
public func sprig_challenge_run(_ network: UnsafePointer<CChar>?, _ neurons: Int, _ layers: Int, _ inputs: UnsafePointer<CChar>?,
                                _ truth: UnsafePointer<CChar>?, _ bias: Float, _ threads: Int,
                                _ callback: CallbackReporter.Callback?, _ context: UnsafeMutableRawPointer?) -> Int32 {
    CallStatus.run {
        guard let network, let inputs else { throw SprigError.invalidArgument("network and inputs are needed") }
        guard neurons >= 1, neurons <= Int(Int32.max) else { throw SprigError.invalidArgument("neurons \(neurons) is not in 1…2³¹−1") }
        guard layers >= 1 else { throw SprigError.invalidArgument("layers \(layers) is not positive") }
        let b = bias.isNaN ? InferenceEngine.challengeBias(neurons: neurons) : bias
        guard let b, b.isFinite, b <= 0 else {
            throw SprigError.invalidArgument("bias: give a finite b ≤ 0 (there is no challenge bias for \(neurons) neurons)")
        }
        try MemoryBudget.checkThreads(max(threads, 1))
        let pool = ThreadPool(threads: max(threads, 1))
        let clock = Stopwatch()
        let weights = try NetworkCache.readNetwork(directory: String(cString: network), neurons: neurons, layers: layers, pool: pool,
                                                   useCache: true) { _ in }
        let expected = try truth.map { try ChallengeFiles.readCategories(path: String(cString: $0)) }
        let engine = InferenceEngine(layers: weights, neurons: neurons, bias: b, pool: pool)
        let images = try ChallengeInputStream(path: String(cString: inputs), neurons: neurons)
        let (found, seconds) = try engine.run(images, batchSize: InferenceEngine.batchSize(neurons: neurons, memory: 2048 << 20))
        let categories = found.sorted()
        let result: [String: Any] = [
            "categories": categories.map { $0 + 1 }, "inference_seconds": seconds, "read_seconds": clock.seconds - seconds,
            "edges": engine.edges, "inputs": images.imageCount,
            "rate": Double(images.imageCount) * Double(engine.edges) / max(seconds, 1e-12),
            "pass": expected.map { $0.sorted() == categories } as Any? ?? NSNull(),
        ]
        let data = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        _ = String(decoding: data, as: UTF8.self).withCString { callback?($0, context) }
    }
}
