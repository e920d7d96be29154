import ArgumentParser
import Sprig

/// `sprig challenge run`: Y ← min(32, ReLU(Y·W + b)) through L layers; categories, rate, PASS/FAIL.
struct ChallengeRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the inference benchmark on a network and inputs in the challenge's formats.",
        discussion: """
        Rate = inputs × edges / seconds (edges: the nonzeros of all layers); file reading is not
        timed. The inputs are read a batch at a time (--memory sizes the batch), so memory stays
        bounded whatever the file's size. Under mpirun rank r takes images r, r + ranks, …; rank
        0 gathers the categories and the rate uses the slowest rank's time. Exits 1 on FAIL.
        """)

    @Option(help: "Directory with the layer files n{N}-l{k}.tsv[.gz].")
    var network: String
    @Option(help: "Neurons per layer (N).")
    var neurons: Int
    @Option(help: "Number of layers to run (L).")
    var layers: Int
    @Option(help: "The inputs file sparse-images-{N}.tsv[.gz].")
    var inputs: String
    @Option(help: "Truth file (one 1-based input index per line): prints PASS or FAIL.")
    var truth: String?
    @Option(help: "Write the categories found to this file.")
    var categoriesOut: String?
    @Option(help: "Bias b (default: the challenge's for N: -0.3, -0.35, -0.4, -0.45).")
    var bias: Float?
    @Option(help: "Threads (default: all cores, shared among the ranks on a node).")
    var threads: Int?
    @Option(help: "Memory for activations per rank, in MiB (sets the batch of inputs processed at once).")
    var memory = 2048
    @Option(help: "cpu, gpu (cuSPARSE; an error where there is none) or auto (a GPU if one can be used); a rank uses GPU (local rank mod visible GPUs).")
    var device: DeviceKind = .cpu
    @Flag(help: "Do not read or write the binary network cache (~/.cache/sprig).")
    var noCache = false

    func validate() throws {
        guard neurons >= 1 else { throw ValidationError("--neurons \(neurons) is not positive") }
        guard layers >= 1 else { throw ValidationError("--layers \(layers) is not positive") }
        if let t = threads, t < 1 { throw ValidationError("--threads \(t) is not positive") }
        guard memory >= 1 else { throw ValidationError("--memory \(memory) is not positive") }
        guard bias != nil || InferenceEngine.challengeBias(neurons: neurons) != nil else {
            throw ValidationError("no challenge bias for \(neurons) neurons: give --bias")
        }
    }

    func run() throws {
        try withCommunicator { c in
            let pool = ThreadPool(threads: threads ?? defaultThreads())
            let clockRead = Stopwatch()   // all but inference: reading the network, the inputs, the truth
            var notes: [String] = []
            let gpu = try openGPU(notes: &notes)
            let weights = try NetworkCache.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool,
                                                       useCache: !noCache) { notes.append($0) }
            let expected = try truth.map { try ChallengeFiles.readCategories(path: $0) }
            let (engine, hardware) = try makeEngine(weights, bias: bias ?? InferenceEngine.challengeBias(neurons: neurons)!, gpu: gpu,
                                                    pool: pool)
            // The inputs are read a batch at a time (memory stays bounded); rank r takes images r, r + size, ….
            let images = try ChallengeInputStream(path: inputs, neurons: neurons, rank: c.rank, ranks: c.size)
            let batch = InferenceEngine.batchSize(neurons: neurons, memory: memory << 20)
            try c.barrier()
            let (mine, inference) = try engine.run(images, batchSize: batch)
            var seconds = [inference]
            try seconds.withUnsafeMutableBufferPointer { try c.allreduceMax($0) }
            let readSeconds = clockRead.seconds - inference
            // Gather every rank's categories (each rank's list, broadcast in turn).
            var found: [Int] = []
            for r in 0..<c.size {
                let bytes = try c.broadcastBytes(r == c.rank ? mine.flatMap { withUnsafeBytes(of: Int64($0)) { Array($0) } } : [], root: r)
                found += stride(from: 0, to: bytes.count, by: 8).map { i in
                    bytes[i..<(i + 8)].withUnsafeBytes { Int($0.loadUnaligned(as: Int64.self)) }
                }
            }
            found.sort()
            guard c.isRoot else { return }
            let edges = engine.edges
            let rate = Double(images.imageCount) * Double(edges) / seconds[0]
            for text in notes { print("  " + text) }
            print("sprig challenge: \(neurons) neurons, \(layers) layers, \(images.imageCount) inputs, \(edges) edges, "
                  + "\(c.size > 1 ? "\(c.size) ranks × " : "")\(hardware)")
            print(String(format: "  read %.2f s (not timed)  inference %.4f s  rate %.4g edges/s  categories %d",
                         readSeconds, seconds[0], rate, found.count))
            if let path = categoriesOut { try ChallengeFiles.writeCategories(found, path: path) }
            if let expected {
                if found == expected.sorted() {
                    print("PASS: \(found.count) categories match \(truth!)")
                } else {
                    let missing = Set(expected).subtracting(found).sorted().prefix(5).map { String($0 + 1) }
                    let extra = Set(found).subtracting(expected).sorted().prefix(5).map { String($0 + 1) }
                    print("FAIL: \(found.count) categories, truth has \(expected.count); missing [\(missing.joined(separator: ", "))], "
                          + "extra [\(extra.joined(separator: ", "))]")
                    throw ExitCode(1)
                }
            }
        }
    }

    /// This rank's GPU for `--device gpu|auto`, opened before anything is read, so a machine
    /// without one fails at once (gpu) or says it runs on the CPU (auto).
    private func openGPU(notes: inout [String]) throws -> GPUContext? {
        guard device != .cpu else { return nil }
        do {
            return try GPUContext(localRank: localRank())
        } catch let error as GPUError {
            guard device == .auto else { throw SprigError.invalidArgument("--device gpu: \(error)") }
            notes.append("--device auto: no GPU (\(error)); running on the CPU")
            return nil
        }
    }

    /// The engine on `gpu`, or on the CPU, and words for where it runs.
    private func makeEngine(_ layers: [ChallengeLayer], bias: Float, gpu: GPUContext?, pool: ThreadPool) throws -> (ChallengeEngine, String) {
        guard let gpu else { return (InferenceEngine(layers: layers, neurons: neurons, bias: bias, pool: pool), "\(pool.threads) threads") }
        return (try GPUInferenceEngine(layers: layers, neurons: neurons, bias: bias, context: gpu),
                "GPU \(gpu.ordinal) (\(gpu.name), sm_\(gpu.computeCapability), NVRTC \(gpu.compilerVersion))")
    }
}

extension DeviceKind: ExpressibleByArgument {}
