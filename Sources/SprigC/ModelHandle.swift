import Foundation
import Sprig
import SprigArguments

/// A model held for a C caller (the Python package): the network, the flags that define it
/// (`--layer-sizes`, densities, layers, initialisation, seed) and the normalisation of the data
/// it was last trained on, which `predict` applies to raw inputs.
final class ModelHandle {
    var network: Network
    let flags: [String]
    var normalization: Normalization?

    init(network: Network, flags: [String], normalization: Normalization? = nil) {
        self.network = network
        self.flags = flags
        self.normalization = normalization
    }

    /// The run options of `flags` (the model's, then a call's own), parsed as `sprig train` parses them.
    static func options(_ flags: [String]) throws -> TrainingRun.Options {
        let arguments = try TrainArguments.parse(flags)
        return try arguments.options()
    }

    /// A data set over `n` examples of `d` features at `features` (float32 or uint8, example-major)
    /// and their labels. uint8 features are read in place, without a copy (the image table
    /// x/255, as the image loaders read them; standardising rewrites only the table): the memory
    /// must stay valid while the data set is used, which the C call that made it guarantees.
    /// float32 features are copied (standardising rewrites them), and so are the labels (4 bytes
    /// an example).
    static func dataset(name: String, features: UnsafeRawPointer?, bytes: Bool, count n: Int, featureCount d: Int,
                        labels: UnsafePointer<Int32>?, classes: Int) throws -> Dataset {
        guard n >= 0, d >= 1, n == 0 || (features != nil && labels != nil) else {
            throw SprigError.invalidArgument("\(name): \(n) examples of \(d) features is not a data set")
        }
        let (total, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow else { throw SprigError.invalidArgument("\(name): \(n) × \(d) features overflow") }
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
