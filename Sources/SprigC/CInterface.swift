import CMPI
import Foundation
import Sprig
import SprigArguments
import StopSignals

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
/// `--seed`; `--load-weights PATH` reads its weights); `*model` receives its handle. Sizes are
/// checked against this machine's memory before anything is allocated.
@_cdecl("sprig_model_new")
public func sprig_model_new(_ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                            _ model: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    CallStatus.run {
        guard let model else { throw SprigError.invalidArgument("no place for the model's handle") }
        let flags = strings(argc, argv)
        let options = try ModelHandle.options(flags)
        let file = try options.loadWeights.map { try WeightsFile.read(path: $0) }
        let configuration = try file.map { try options.networkConfiguration(of: $0) } ?? options.network
        try configuration.validate()
        var budget = MemoryBudget("the network \(configuration.layerSizes.map(String.init).joined(separator: ","))")
        try configuration.addMemory(to: &budget, optimizerStates: 0)
        try budget.check()
        let network = try file.map { try WeightsFile.network($0, configuration: configuration) } ?? Network(configuration)
        let handle = ModelHandle(network: network, flags: flags.filter { $0 != "--load-weights" && $0 != options.loadWeights })
        if let description = file?.description {   // a model file that describes itself: its input transform too
            handle.normalization = description.normalization
            handle.trainedOnBytes = description.input.flatMap { $0 == .pixels ? true : $0 == .floats ? false : nil }
            handle.training = description.training
        }
        model.pointee = Unmanaged.passRetained(handle).toOpaque()
    }
}

/// An independent copy of `model` (network, optimizer state, normalisation); `*copy` receives its handle.
@_cdecl("sprig_model_copy")
public func sprig_model_copy(_ model: UnsafeMutableRawPointer?, _ copy: UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        guard let copy else { throw SprigError.invalidArgument("no place for the copy's handle") }
        let made = try handle.use("copy") { handle.copy() }
        copy.pointee = Unmanaged.passRetained(made).toOpaque()
    }
}

/// The normalisation `predict` applies and the kind of features fit read: `values[0]` 1 when
/// the model has a normalisation (then `values[1]` its mean, `values[2]` its deviation),
/// `values[3]` 1 for uint8, 0 for float32, −1 before any fit.
@_cdecl("sprig_model_get_normalization")
public func sprig_model_get_normalization(_ model: UnsafeMutableRawPointer?, _ values: UnsafeMutablePointer<Double>?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        guard let values else { throw SprigError.invalidArgument("no place for the normalisation") }
        values[0] = handle.normalization == nil ? 0 : 1
        values[1] = Double(handle.normalization?.mean ?? 0)
        values[2] = Double(handle.normalization?.standardDeviation ?? 1)
        values[3] = handle.trainedOnBytes.map { $0 ? 1 : 0 } ?? -1
    }
}

/// Sets what `sprig_model_get_normalization` reads (a model unpickled from its weights).
@_cdecl("sprig_model_set_normalization")
public func sprig_model_set_normalization(_ model: UnsafeMutableRawPointer?, _ has: Int32, _ mean: Double, _ deviation: Double,
                                          _ kind: Int32) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        guard mean.isFinite, deviation.isFinite, deviation >= 0, (-1...1).contains(kind) else {
            throw SprigError.invalidArgument("normalisation mean \(mean), deviation \(deviation), kind \(kind) is not one a fit makes")
        }
        try handle.use("set_normalization") {
            handle.normalization = has != 0 ? Normalization(mean: Float(mean), standardDeviation: Float(deviation)) : nil
            handle.trainedOnBytes = kind < 0 ? nil : kind == 1
        }
    }
}

/// Makes the model's network anew from its configuration and seed (new patterns and initial
/// values, no optimizer state) and forgets its normalisation and feature kind: a loaded model
/// trained from scratch (Python's `fit(warm_start=False)`).
@_cdecl("sprig_model_reinitialize")
public func sprig_model_reinitialize(_ model: UnsafeMutableRawPointer?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        try handle.use("reinitialize") {
            var configuration = handle.network.configuration
            configuration.compaction = nil   // a new network, shrunk from nothing
            handle.network = try Network(configuration)
            handle.normalization = nil
            handle.trainedOnBytes = nil
            handle.training = nil
        }
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

/// A failure the caller met before it could call `sprig_model_fit` (a Python check of its
/// arrays or keywords), with `status` and `message`, agreed with the job's other ranks as
/// `sprig_model_fit` agrees its own checks: every rank's fit fails together with the first
/// failing rank's error. Returns that status (the message is `sprig_last_error`), on one
/// process the caller's own. `communicator`: as for `sprig_model_fit`.
@_cdecl("sprig_fail_together")
public func sprig_fail_together(_ status: Int32, _ message: UnsafePointer<CChar>?, _ communicator: UnsafeRawPointer?) -> Int32 {
    let failure = AgreedFailure(status: CallStatus(rawValue: status) ?? .failure, message: message.map { String(cString: $0) } ?? "")
    return CallStatus.run {
        let given = try communicator.map { try MPICommunicator(duplicating: $0.load(as: MPI_Comm.self)) }
        defer { given?.finalize() }
        let job = try given ?? JobCommunicator.shared()
        guard job.size > 1 else { throw failure }
        try RankAgreement.agree(failure, communicator: job)
    }
}

/// Trains the model on n examples (`features`, d per example; `bytes` ≠ 0: uint8 features)
/// with labels, with the training flags (`--epochs`, `--batch-size`, `--optimizer`, `--prune`,
/// …), testing after each epoch on the nt examples of `testFeatures` (dt per example, the same
/// kind) and `testLabels` (nt may be 0); `callback` receives the run's reports as JSON
/// (`CallbackReporter`). `communicator` (may be NULL) points to an MPI_Comm of an MPI the
/// caller initialised (mpi4py's `MPI._addressof(comm)`): the run uses a duplicate of it instead
/// of the job's world.
///
/// Under MPI every check that can fail on one rank (flags, shapes, labels, values) is agreed by
/// all ranks first (`RankAgreement`). SIGINT (Ctrl-C) stops the run after the current step on
/// every rank (status 4, the model keeps what it trained). When the loss becomes non-finite the
/// model goes back to its last good state (the start of the epoch that failed) and the call fails.
@_cdecl("sprig_model_fit")
public func sprig_model_fit(_ model: UnsafeMutableRawPointer?, _ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                            _ features: UnsafeRawPointer?, _ bytes: Int32, _ n: Int, _ d: Int, _ labels: UnsafePointer<Int32>?,
                            _ testFeatures: UnsafeRawPointer?, _ testBytes: Int32, _ nt: Int, _ dt: Int,
                            _ testLabels: UnsafePointer<Int32>?,
                            _ callback: CallbackReporter.Callback?, _ context: UnsafeMutableRawPointer?,
                            _ communicator: UnsafeRawPointer?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        try handle.use("fit") {
            let given = try communicator.map { try MPICommunicator(duplicating: $0.load(as: MPI_Comm.self)) }
            defer { given?.finalize() }   // frees the duplicate
            let job = try given ?? JobCommunicator.shared()
            var prepared: (options: TrainingRun.Options, train: Dataset, test: Dataset)?
            var failure: Error?
            do {
                var options = try ModelHandle.options(handle.flags + strings(argc, argv))
                options.threads = min(options.threads, MemoryBudget.maximumThreads)
                options.keepsLastGoodState = true
                options.network = handle.network.configuration   // the model is the network (from flags or from its file)
                if !options.givenFlags.contains("--seed") { options.training.seed = options.network.seed }   // and seeds its training
                if handle.hasInputTransform {   // a trained or described model keeps its normalisation
                    options.inputNormalization = .fixed(handle.normalization)
                }
                try options.validate()
                let network = handle.network
                try handle.checkKind(bytes: bytes != 0, name: "x")
                guard (bytes != 0) == (testBytes != 0) || nt == 0 else {
                    throw SprigError.invalidArgument("validation x is \(testBytes != 0 ? "uint8" : "float32") but x is "
                                                     + "\(bytes != 0 ? "uint8" : "float32"): give both of one kind")
                }
                let train = try ModelHandle.dataset(name: "x", features: features, bytes: bytes != 0, count: n, featureCount: d,
                                                    inputs: network.inputSize, labels: labels, classes: network.outputSize)
                let test = try ModelHandle.dataset(name: "validation x", features: testFeatures, bytes: bytes != 0, count: nt,
                                                   featureCount: nt == 0 ? network.inputSize : dt, inputs: network.inputSize,
                                                   labels: testLabels, classes: network.outputSize)
                prepared = (options, train, test)
            } catch {
                failure = error
            }
            try RankAgreement.agree(failure, communicator: job)
            guard let (options, train, test) = prepared else { return }
            let run = TrainingRun(options, communicator: job)
            let reporter = CallbackReporter(callback: callback, context: context)
            reporter.data(train)
            sprig_catch_interrupt()
            var released = false
            defer { if !released { _ = sprig_release_interrupt() } }
            do {
                let result = try run.run(reporter: reporter, data: (train, test), network: handle.network)
                handle.network = result.network
                handle.normalization = result.normalization
                handle.trainedOnBytes = bytes != 0
                handle.training = options.training
            } catch {
                if let network = run.network {   // training started: keep what it trained (or its last good state)
                    handle.network = network
                    let restored = (error as? SprigError).map { if case .failed = $0 { return true } else { return false } } ?? false
                    if !restored || run.epochsFinished > 0 {
                        handle.normalization = run.normalization
                        handle.trainedOnBytes = bytes != 0
                    }
                }
                throw error
            }
            released = true
            if sprig_release_interrupt() != 0 {   // Ctrl-C after the last step: the model is trained, the caller is told
                throw AgreedFailure(status: .interrupted, message: "interrupted (Ctrl-C) as the run finished: the model holds all it trained")
            }
        }
    }
}

/// The network's outputs (logits, or what its last layer gives) for n examples: `output`
/// receives n×K floats, row-major. The normalisation of the last training data is applied first.
@_cdecl("sprig_model_predict")
public func sprig_model_predict(_ model: UnsafeMutableRawPointer?, _ features: UnsafeRawPointer?, _ bytes: Int32, _ n: Int,
                                _ d: Int, _ output: UnsafeMutablePointer<Float>?, _ threads: Int) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        try handle.use("predict") {
            let network = handle.network
            try handle.checkKind(bytes: bytes != 0, name: "x")
            guard n > 0 else { return }
            guard let output else { throw SprigError.invalidArgument("no output buffer") }
            let zeros = [Int32](repeating: 0, count: n)
            var data = try zeros.withUnsafeBufferPointer {
                try ModelHandle.dataset(name: "x", features: features, bytes: bytes != 0, count: n, featureCount: d,
                                        inputs: network.inputSize, labels: $0.baseAddress, classes: network.outputSize)
            }
            handle.normalization?.apply(to: &data)
            // Training's numeric settings (OpenBLAS single-threaded in Sprig's threads; `CallStatus`
            // gives the caller its own back): the outputs are bitwise those `fit` evaluated.
            let context = try RunContext(threads: max(1, min(threads, MemoryBudget.maximumThreads)), communicator: SingleProcessCommunicator())
            let outputs = try network.outputs(for: data, examples: 0..<n, pool: context.pool)
            _ = UnsafeMutableBufferPointer(start: output, count: outputs.count).update(fromContentsOf: outputs)
        }
    }
}

/// The mean loss (the configured `--loss`, from the flags in argv: the model's training flags)
/// and the accuracy over n labelled examples, written to `result[0]` and `result[1]`; the
/// normalisation of the last training data is applied first. Only the network's values are
/// read: nothing is added to its store. A loss that is not finite fails the call.
@_cdecl("sprig_model_evaluate")
public func sprig_model_evaluate(_ model: UnsafeMutableRawPointer?, _ argc: Int32, _ argv: UnsafePointer<UnsafePointer<CChar>?>?,
                                 _ features: UnsafeRawPointer?, _ bytes: Int32, _ n: Int, _ d: Int,
                                 _ labels: UnsafePointer<Int32>?, _ result: UnsafeMutablePointer<Double>?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        try handle.use("evaluate") {
            let options = try ModelHandle.options(handle.flags + strings(argc, argv))
            let context = try RunContext(threads: options.threads, communicator: SingleProcessCommunicator())   // checks threads
            let network = handle.network
            try handle.checkKind(bytes: bytes != 0, name: "x")
            var data = try ModelHandle.dataset(name: "x", features: features, bytes: bytes != 0, count: n, featureCount: d,
                                               inputs: network.inputSize, labels: labels, classes: network.outputSize)
            guard n > 0 else { throw SprigError.invalidArgument("x has no examples to evaluate") }
            handle.normalization?.apply(to: &data)
            let (loss, confusion) = try network.evaluation(of: data, examples: 0..<n, loss: options.training.loss, pool: context.pool)
            let classes = network.outputSize
            let correct = (0..<classes).reduce(0) { $0 + confusion[$1 * classes + $1] }
            guard loss.isFinite else {
                throw SprigError.failed("the loss on these data is not finite (\(loss)): the network's outputs overflow on them")
            }
            result?[0] = loss / Double(n)
            result?[1] = Double(correct) / Double(n)
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

/// Writes the model's weights as `sprig train --save-weights` does.
@_cdecl("sprig_model_save")
public func sprig_model_save(_ model: UnsafeMutableRawPointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    CallStatus.run {
        let handle = try handleOf(model)
        guard let path else { throw SprigError.invalidArgument("no path") }
        try handle.use("save") {
            try handle.network.checkFinite(writing: "weights")
            try WeightsFile.save(handle.network, path: String(cString: path), normalization: handle.normalization,
                                 input: handle.trainedOnBytes.map { $0 ? .pixels : .floats }, training: handle.training)
        }
    }
}

/// Fills `sizes` (capacity entries) with D₀, D₁, …, D_L; returns how many there are.
@_cdecl("sprig_model_layer_sizes")
public func sprig_model_layer_sizes(_ model: UnsafeMutableRawPointer?, _ sizes: UnsafeMutablePointer<Int>?, _ capacity: Int) -> Int {
    guard let model else { return 0 }
    let all = Unmanaged<ModelHandle>.fromOpaque(model).takeUnretainedValue().network.configuration.layerSizes   // read only
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
