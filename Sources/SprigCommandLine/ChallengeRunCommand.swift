import ArgumentParser
import Foundation
import Sprig

/// `sprig challenge run`: Y ← min(32, ReLU(Y·W + b)) through L layers; categories, rate, PASS/FAIL.
struct ChallengeRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the inference benchmark on a network and inputs in the challenge's formats.",
        discussion: """
        Rate = inputs × edges / seconds (edges: the nonzeros of all layers); file reading is not \
        timed. The inputs are read a batch at a time (--memory sizes the batch), so memory stays \
        bounded whatever the file's size. Under mpirun rank r takes images r, r + ranks, …; rank \
        0 gathers the categories and the rate uses the slowest rank's time. Every rank must run \
        the same flags on the same files (checked). Exits 2 on FAIL.

        A binary copy of each network is cached in $SPRIG_CACHE_DIR, else $XDG_CACHE_HOME/sprig, \
        else ~/.cache/sprig, and kept within SPRIG_CACHE_MAX_BYTES (default 1 GiB; the least \
        recently used copies are removed first); see sprig cache info and sprig cache clear.
        """)

    @Option(help: "Directory with the layer files n{N}-l{k}.tsv[.gz].")
    var network: String
    @Option(parsing: .unconditional, help: "Neurons per layer (N).")
    var neurons: Int
    @Option(parsing: .unconditional, help: "Number of layers to run (L).")
    var layers: Int
    @Option(help: "The inputs file sparse-images-{N}.tsv[.gz].")
    var inputs: String
    @Option(help: "Truth file (one 1-based input index per line): prints PASS or FAIL.")
    var truth: String?
    @Option(help: "Write the categories found to this file.")
    var categoriesOut: String?
    // Unconditional: the bias is negative, and `--bias -0.3` must not read as a flag.
    @Option(parsing: .unconditional, help: "Bias b ≤ 0 (default: the challenge's for N: -0.3, -0.35, -0.4, -0.45).")
    var bias: Float?
    @Option(parsing: .unconditional, help: "Threads (default: all cores, shared among the ranks on a node).")
    var threads: Int?
    @Option(parsing: .unconditional, help: "Memory for activations per rank, in MiB (bounds the batch of inputs processed at once).")
    var memory = 2048
    @Option(help: "cpu, gpu (cuSPARSE; an error where there is none) or auto (a GPU if one can be used); a rank uses GPU (local rank mod visible GPUs).")
    var device: DeviceKind = .cpu
    @Flag(help: "Do not read or write the binary network cache (see sprig cache info).")
    var noCache = false
    @Option(name: .customLong("repeat"), parsing: .unconditional, help: "Run the inference this many times in this process (the inputs read again each time; a FIFO or pipe is copied to a temporary file first) and report the fastest, as the benchmark's peers are timed; every pass must find the same categories.")
    var passes = 1
    @Flag(help: "Print where the CPU engine's time went (rank 0): layer 1, the other layers, freeing lanes and refilling panels, and the live inputs after layers 1, 2, 4, ….")
    var profile = false

    func validate() throws {
        guard neurons >= 1 else { throw ValidationError("--neurons \(neurons) is not positive") }
        guard layers >= 1 else { throw ValidationError("--layers \(layers) is not positive") }
        guard memory >= 1 else { throw ValidationError("--memory \(memory) is not positive") }
        guard (1...1000).contains(passes) else { throw ValidationError("--repeat \(passes) is not in 1…1000") }
        if let b = bias {
            guard b.isFinite else { throw ValidationError("--bias \(b) is not a finite number") }
            // A positive bias would revive inputs whose activations are all zero, which the engine drops.
            guard b <= 0 else { throw ValidationError("--bias \(b) is positive; the engine needs b ≤ 0 (the challenge's are negative)") }
        }
        guard bias != nil || InferenceEngine.challengeBias(neurons: neurons) != nil else {
            throw ValidationError("no challenge bias for \(neurons) neurons: give --bias")
        }
        do {
            if let threads { try MemoryBudget.checkThreads(threads) }
            var activations = MemoryBudget("--memory \(memory) MiB")
            try activations.add(memory, elementSize: 1 << 20)
            try activations.check(fraction: 1)
            // What any network of this shape needs: Wᵀ's row offsets per layer, the bias, and the
            // two activation buffers of one input (a 16-float vector per neuron); its nonzeros come on top.
            var network = MemoryBudget("a network of --neurons \(neurons) and --layers \(layers)")
            try network.add(product: [layers, neurons, 8], elementSize: 1)
            try network.add(product: [2 * 16 + 1, neurons])
            try network.check()
        } catch let error as SprigError {
            throw ValidationError(error.description)   // a size refused is a flag's error (exit 64)
        }
        guard neurons <= Int(Int32.max) else { throw ValidationError("--neurons \(neurons) exceeds the 32-bit index range") }
    }

    func run() throws {
        try withCommunicator { c in
            let pool = ThreadPool(threads: threads ?? Launcher.defaultThreads)
            let clockRead = Stopwatch()   // all but inference: reading the network, the inputs, the truth
            var notes: [String] = []
            if c.isRoot, let path = categoriesOut { try AtomicFile.checkWritable(path) }   // before the work, not after
            let gpu = try openGPU(notes: &notes)
            let weights = try NetworkCache.readNetwork(directory: network, neurons: neurons, layers: layers, pool: pool,
                                                       useCache: !noCache) { notes.append($0) }
            let expected = try truth.map { try ChallengeFiles.readCategories(path: $0) }
            let b = bias ?? InferenceEngine.challengeBias(neurons: neurons)!
            let (engine, hardware) = try makeEngine(weights, bias: b, gpu: gpu, pool: pool)
            // The inputs are read a batch at a time (memory stays bounded); rank r takes images r, r + size, ….
            // Several passes read the inputs several times: a FIFO or pipe is copied once first.
            let source = passes > 1 ? try ChallengeInputStream.rereadable(path: inputs) : (path: inputs, temporary: false)
            defer { if source.temporary { unlink(source.path) } }
            func stream() throws -> ChallengeInputStream {
                try ChallengeInputStream(path: source.path, neurons: neurons, rank: c.rank, ranks: c.size)
            }
            var images = try stream()
            try checkAgreement(c, network: weights, bias: b)
            let batch = InferenceEngine.batchSize(neurons: neurons, memory: memory << 20)
            try c.barrier()
            // Each pass on a fresh stream; the fastest counts (the first also pays for first touching its buffers).
            let cpu = engine as? InferenceEngine
            var mine: [Int] = [], inference = Double.infinity, allPasses = 0.0, profileOfFastest: InferenceProfile?
            for pass in 0..<passes {
                if pass > 0 { images = try stream() }
                cpu?.resetProfile()
                let result = try engine.run(images, batchSize: batch)
                if pass == 0 { mine = result.categories }
                guard result.categories == mine else {
                    throw SprigError.invalidArgument("--repeat: pass \(pass + 1) found \(result.categories.count) categories, the first \(mine.count)")
                }
                if result.seconds < inference { (inference, profileOfFastest) = (result.seconds, cpu?.profile) }
                allPasses += result.seconds
            }
            var seconds = [inference]
            try seconds.withUnsafeMutableBufferPointer { try c.allreduceMax($0) }
            let readSeconds = clockRead.seconds - allPasses
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
            print(String(format: "  read %.2f s (not timed)  inference %.4f s", readSeconds, seconds[0])
                  + (passes > 1 ? " (fastest of \(passes))" : "")
                  + String(format: "  rate %.4g edges/s  categories %d", rate, found.count))
            if profile, let fastest = profileOfFastest {
                print("  profile\(c.size > 1 ? " (rank 0)" : "")\(passes > 1 ? ", fastest pass" : ""): \(fastest.summary)")
                print("  live inputs after layer \(fastest.survivors)")
            }
            if let path = categoriesOut { try ChallengeFiles.writeCategories(found, path: path) }
            if let expected {
                if found == expected.sorted() {
                    print("PASS: \(found.count) categories match \(truth!)")
                } else {
                    let missing = Set(expected).subtracting(found).sorted().prefix(5).map { String($0 + 1) }
                    let extra = Set(found).subtracting(expected).sorted().prefix(5).map { String($0 + 1) }
                    print("FAIL: \(found.count) categories, truth has \(expected.count); missing [\(missing.joined(separator: ", "))], "
                          + "extra [\(extra.joined(separator: ", "))]")
                    throw ExitCode(2)
                }
            }
        }
    }

    /// Every rank must run the same network, bias and inputs: a rank that differs from rank 0
    /// is named (categories from mixed runs would be wrong without a word).
    private func checkAgreement(_ c: any Communicator, network: [ChallengeLayer], bias: Float) throws {
        guard c.size > 1 else { return }
        var hasher = StableHasher()
        hasher.combine(neurons)
        hasher.combine(layers)
        hasher.combine(bias.bitPattern)
        hasher.combine(network.reduce(UInt32(0)) { $1.checksum(continuing: $0) })
        hasher.combine(try ChallengeFiles.inputsIdentity(path: inputs))
        if let different = try c.firstRankDiffering(in: hasher.value) {
            throw DistributedError.mismatch("rank \(different.rank) differs from rank 0 in its flags, network or inputs "
                                            + "(hash \(different.hash) vs \(different.rootHash)); "
                                            + "every rank must run the same command on the same files")
        }
    }

    /// This rank's GPU for `--device gpu|auto`, opened before anything is read, so a machine
    /// without one fails at once (gpu) or says it runs on the CPU (auto).
    private func openGPU(notes: inout [String]) throws -> GPUContext? {
        guard device != .cpu else { return nil }
        do {
            return try GPUContext(localRank: Launcher.localRank)
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
