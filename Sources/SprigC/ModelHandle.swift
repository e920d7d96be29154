import Foundation
import Sprig
import SprigArguments

/// A model held for a C caller (the Python package): the network, the flags that define it
/// (`--layer-sizes`, densities, layers, initialisation, seed), the normalisation of the data
/// it was last trained on, which `predict` applies to raw inputs, and the kind of features
/// that training read (uint8 pixels read as x/255, or float32 as they are).
///
/// One call at a time uses a model: a second call while one runs (another thread, or a fit's
/// callback calling back into the same model) is refused rather than left to race.
final class ModelHandle {
    var network: Network
    let flags: [String]
    var normalization: Normalization?
    /// The features the model was trained on: true for uint8, false for float32, nil before any fit.
    var trainedOnBytes: Bool?
    /// The configuration of the last fit (written into the model file as a record).
    var training: TrainingConfiguration?
    /// Whether the model has its input transform (a fit made it, or its file described it):
    /// further fits keep it instead of fitting a new normalisation.
    var hasInputTransform: Bool { trainedOnBytes != nil || normalization != nil }
    private var busy = false
    private let lock = NSLock()

    init(network: Network, flags: [String], normalization: Normalization? = nil, trainedOnBytes: Bool? = nil) {
        self.network = network
        self.flags = flags
        self.normalization = normalization
        self.trainedOnBytes = trainedOnBytes
    }

    /// Runs `body` as the model's one call under way; throws when another is.
    func use<T>(_ what: String, _ body: () throws -> T) throws -> T {
        try lock.withLock {
            guard !busy else {
                throw SprigError.invalidArgument("the model is busy with another call (\(what) cannot run while it does: "
                                                 + "a callback or another thread used the model during its fit)")
            }
            busy = true
        }
        defer { lock.withLock { busy = false } }
        return try body()
    }

    /// An independent copy: network (values, patterns, optimizer and layer state), flags,
    /// normalisation and feature kind.
    func copy() -> ModelHandle {
        let copy = ModelHandle(network: network.copy(), flags: flags, normalization: normalization, trainedOnBytes: trainedOnBytes)
        copy.training = training
        return copy
    }

    /// The run options of `flags` (the model's, then a call's own), parsed as `sprig train` parses them.
    static func options(_ flags: [String]) throws -> TrainingRun.Options {
        let arguments = try TrainArguments.parse(flags)
        return try arguments.options()
    }

    /// Refuses features of another kind than the model was trained on: the library reads uint8
    /// as x/255 and float32 as they are, so pixels given the other way are silently wrong.
    func checkKind(bytes: Bool, name: String) throws {
        guard let trained = trainedOnBytes, trained != bytes else { return }
        throw SprigError.invalidArgument(
            "\(name) is \(bytes ? "uint8 (read as x/255)" : "float32") but the model was fitted on "
            + (trained ? "uint8 features (read as x/255): give uint8 here too" : "float32 features: give float32 here too, "
               + "on the scale fit saw (e.g. x.astype(np.float32) for pixels 0–255 fitted as floats)"))
    }

    /// A data set over `n` examples of `d` features at `features` (float32 or uint8, example-major)
    /// and their labels. uint8 features are read in place, without a copy (the image table
    /// x/255, as the image loaders read them; standardising rewrites only the table): the memory
    /// must stay valid while the data set is used, which the C call that made it guarantees.
    /// float32 features are copied (standardising rewrites them), and so are the labels (4 bytes
    /// an example). `d` must be the network's input width `inputs`.
    static func dataset(name: String, features: UnsafeRawPointer?, bytes: Bool, count n: Int, featureCount d: Int,
                        inputs: Int, labels: UnsafePointer<Int32>?, classes: Int) throws -> Dataset {
        guard n >= 0, d >= 1, n == 0 || (features != nil && labels != nil) else {
            throw SprigError.invalidArgument("\(name): \(n) examples of \(d) features is not a data set")
        }
        guard d == inputs else {
            throw SprigError.invalidArgument("\(name) has \(d) features per example but the network takes \(inputs)")
        }
        let (total, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow, !total.multipliedReportingOverflow(by: bytes ? 1 : 4).overflow else {
            throw SprigError.invalidArgument("\(name): \(n) × \(d) features overflow")
        }
        let labelArray = n == 0 ? [] : Array(UnsafeBufferPointer(start: labels, count: n))
        if let bad = labelArray.first(where: { $0 < 0 || Int($0) >= classes }) {
            throw SprigError.invalidArgument("\(name): label \(bad) is not in 0..<\(classes) (the network has \(classes) outputs)")
        }
        if bytes {
            let memory = UnsafeBufferPointer(start: n == 0 ? nil : features!.assumingMemoryBound(to: UInt8.self), count: total)
            return Dataset(name: name, featureCount: d, classCount: classes, borrowing: memory,
                           values: PixelScaling.unitInterval, labels: labelArray)
        }
        let values = n == 0 ? [] : Array(UnsafeBufferPointer(start: features!.assumingMemoryBound(to: Float.self), count: total))
        if let bad = values.first(where: { !$0.isFinite }) {
            throw SprigError.invalidArgument("\(name): the features hold \(bad); give finite numbers")
        }
        return Dataset(name: name, featureCount: d, classCount: classes, features: values, labels: labelArray)
    }
}
