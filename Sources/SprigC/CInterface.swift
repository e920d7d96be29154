import CMPI
import Foundation
import Sprig
import SprigArguments

// The C interface of the Python package (`python/sprig/_library.py` declares these for ctypes).
// Every function returning Int32 returns a `CallStatus`; on failure `sprig_last_error` gives
// the message. Flags are `sprig train`'s, as argc/argv. Arrays are example-major (row-major
// n×d), float32 or uint8, and are copied into the library's storage (see `ModelHandle.dataset`).

/// Copies the calling thread's last error message (NUL-terminated, truncated to fit) into
/// `buffer` of `capacity` bytes; returns the message's full length in bytes.
@_cdecl("sprig_last_error")
public func sprig_last_error(_ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int {
    let bytes = Array(CallStatus.lastMessage.utf8)
    if let buffer, capacity > 0 {
        let n = min(bytes.count, capacity - 1)
        for i in 0..<n { buffer[i] = CChar(bitPattern: bytes[i]) }
        buffer[n] = 0
    }
    return bytes.count
}

/// A new model from the network flags (`--layer-sizes`, `--overall-density`, `--layers`, …,
/// `--seed`; `--load-weights PATH` reads its weights); `*model` receives its handle.
@_cdecl("sprig_model_new")
public func sprig_model_new(_ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                            _ model: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    CallStatus.run {
        let flags = strings(argc, argv)
        let options = try ModelHandle.options(flags)
        let network = try options.loadWeights.map { try WeightsFile.load(path: $0, configuration: options.network) }
            ?? Network(options.network)
        let handle = ModelHandle(network: network, flags: flags.filter { $0 != "--load-weights" && $0 != options.loadWeights })
        model?.pointee = Unmanaged.passRetained(handle).toOpaque()
    }
}

/// Parses and checks `sprig train` flags without making anything (a model's keywords are
/// checked when it is made, not at its first fit).
@_cdecl("sprig_check_flags")
public func sprig_check_flags(_ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?) -> Int32 {
    CallStatus.run { _ = try ModelHandle.options(strings(argc, argv)) }
}

@_cdecl("sprig_model_free")
public func sprig_model_free(_ model: UnsafeMutableRawPointer?) {
    guard let model else { return }
    Unmanaged<ModelHandle>.fromOpaque(model).release()
}

/// Trains the model on n examples (`features`, `labels`; `bytes` ≠ 0: uint8 features) with the
/// training flags (`--epochs`, `--batch-size`, `--optimizer`, `--prune`, …), testing after each
/// epoch on the nt examples of `testFeatures`/`testLabels` (nt may be 0); `callback` receives
/// the run's reports as JSON (`CallbackReporter`). `communicator` (may be NULL) points to an
/// MPI_Comm of an MPI the caller initialised (mpi4py's `MPI._addressof(comm)`): the run uses a
/// duplicate of it instead of the job's world.
@_cdecl("sprig_model_fit")
public func sprig_model_fit(_ model: UnsafeMutableRawPointer?, _ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                            _ features: UnsafeRawPointer?, _ bytes: Int32, _ n: Int, _ d: Int, _ labels: UnsafePointer<Int32>?,
                            _ testFeatures: UnsafeRawPointer?, _ nt: Int, _ testLabels: UnsafePointer<Int32>?,
                            _ callback: CallbackReporter.Callback?, _ context: UnsafeMutableRawPointer?,
                            _ communicator: UnsafeRawPointer?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        var options = try ModelHandle.options(handle.flags + strings(argc, argv))
        options.threads = min(options.threads, MemoryBudget.maximumThreads)
        let classes = handle.network.outputSize
        let train = try ModelHandle.dataset(name: "x", features: features, bytes: bytes != 0, count: n, featureCount: d,
                                            labels: labels, classes: classes)
        let test = try ModelHandle.dataset(name: "validation", features: testFeatures, bytes: bytes != 0, count: nt, featureCount: d,
                                           labels: testLabels, classes: classes)
        let given = try communicator.map { try MPICommunicator(duplicating: $0.load(as: MPI_Comm.self)) }
        defer { given?.finalize() }   // frees the duplicate
        let run = TrainingRun(options, communicator: try given ?? JobCommunicator.shared())
        let reporter = CallbackReporter(callback: callback, context: context)
        reporter.data(train)
        let result = try run.run(reporter: reporter, data: (train, test), network: handle.network)
        handle.network = result.network
        handle.normalization = result.normalization
    }
}

/// The network's outputs (logits, or what its last layer gives) for n examples: `output`
/// receives n×K floats, row-major. The normalisation of the last training data is applied first.
@_cdecl("sprig_model_predict")
public func sprig_model_predict(_ model: UnsafeMutableRawPointer?, _ features: UnsafeRawPointer?, _ bytes: Int32, _ n: Int,
                                _ d: Int, _ output: UnsafeMutablePointer<Float>?, _ threads: Int) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        let network = handle.network
        guard d == network.inputSize else {
            throw SprigError.invalidArgument("x has \(d) features per example but the network takes \(network.inputSize)")
        }
        guard n > 0 else { return }
        guard let output else { throw SprigError.invalidArgument("no output buffer") }
        let zeros = [Int32](repeating: 0, count: n)
        var data = try zeros.withUnsafeBufferPointer {
            try ModelHandle.dataset(name: "x", features: features, bytes: bytes != 0, count: n, featureCount: d,
                                    labels: $0.baseAddress, classes: network.outputSize)
        }
        handle.normalization?.apply(to: &data)
        let pool = ThreadPool(threads: max(1, min(threads, MemoryBudget.maximumThreads)))
        let k = network.outputSize, capacity = min(n, 1000)
        let workspace = try Workspace(network: network, capacity: capacity)
        let assembler = BatchAssembler(for: network)
        var start = 0
        while start < n {
            let end = min(start + capacity, n), b = end - start
            let indices = Array(start..<end)[...]
            workspace.labels.withUnsafeMutableBufferPointer { labels in
                assembler.gather(data, indices: indices, into: workspace.input.pointer, labels: labels.baseAddress!, pool: pool)
            }
            try network.forward(workspace, context: network.context(batch: b, pool: pool, mode: .evaluation))
            let y = workspace.output.pointer
            for j in 0..<b { for c in 0..<k { output[(start + j) * k + c] = y[c * b + j] } }   // K×b → b×K
            start = end
        }
    }
}

/// Ends MPI if a fit started it (the Python package calls this at exit); nothing otherwise.
@_cdecl("sprig_finalize")
public func sprig_finalize() { JobCommunicator.finalize() }

/// The process's rank and the number of ranks (0 and 1 outside mpirun); MPI is initialised
/// here when the process was started by mpirun or srun.
@_cdecl("sprig_rank")
public func sprig_rank(_ rank: UnsafeMutablePointer<Int>?, _ size: UnsafeMutablePointer<Int>?) -> Int32 {
    CallStatus.run {
        let communicator = try JobCommunicator.shared()
        rank?.pointee = communicator.rank
        size?.pointee = communicator.size
    }
}

/// The mean loss (the configured `--loss`, from the flags in argv: the model's training flags)
/// and the accuracy over n labelled examples, written to `result[0]` and `result[1]`; the
/// normalisation of the last training data is applied first.
@_cdecl("sprig_model_evaluate")
public func sprig_model_evaluate(_ model: UnsafeMutableRawPointer?, _ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                                 _ features: UnsafeRawPointer?, _ bytes: Int32, _ n: Int, _ d: Int,
                                 _ labels: UnsafePointer<Int32>?, _ result: UnsafeMutablePointer<Double>?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        let options = try ModelHandle.options(handle.flags + strings(argc, argv))
        guard d == handle.network.inputSize else {
            throw SprigError.invalidArgument("x has \(d) features per example but the network takes \(handle.network.inputSize)")
        }
        var data = try ModelHandle.dataset(name: "x", features: features, bytes: bytes != 0, count: n, featureCount: d,
                                           labels: labels, classes: handle.network.outputSize)
        handle.normalization?.apply(to: &data)
        let context = try RunContext(threads: options.threads, communicator: SingleProcessCommunicator())
        let trainer = try Trainer(network: handle.network, configuration: options.training, pool: context.pool,
                                  trainingExamples: 1)
        let (loss, accuracy) = try trainer.evaluate(data)
        result?[0] = loss
        result?[1] = accuracy
    }
}

/// Writes the model's weights as `sprig train --save-weights` does.
@_cdecl("sprig_model_save")
public func sprig_model_save(_ model: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        guard let path else { throw SprigError.invalidArgument("no path") }
        try handle.network.checkFinite(writing: "weights")
        try WeightsFile.save(handle.network, path: String(cString: path))
    }
}

/// Fills `sizes` (capacity entries) with D₀, D₁, …, D_L; returns how many there are.
@_cdecl("sprig_model_layer_sizes")
public func sprig_model_layer_sizes(_ model: UnsafeMutableRawPointer?, _ sizes: UnsafeMutablePointer<Int>?, _ capacity: Int) -> Int {
    guard let model else { return 0 }
    let all = Unmanaged<ModelHandle>.fromOpaque(model).takeUnretainedValue().network.configuration.layerSizes
    if let sizes { for (i, size) in all.prefix(max(capacity, 0)).enumerated() { sizes[i] = size } }
    return all.count
}

private func handleOf(_ model: UnsafeMutableRawPointer?) throws -> ModelHandle {
    guard let model else { throw SprigError.invalidArgument("no model (it was freed or never made)") }
    return Unmanaged<ModelHandle>.fromOpaque(model).takeUnretainedValue()
}

private func strings(_ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?) -> [String] {
    guard let argv, argc > 0 else { return [] }
    return (0..<Int(argc)).compactMap { argv[$0].map { String(cString: $0) } }
}
