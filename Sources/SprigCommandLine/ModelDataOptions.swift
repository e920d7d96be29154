import ArgumentParser
import Foundation
import Sprig

/// The flags shared by `sprig evaluate` and `sprig predict`: a model file and the data to
/// apply it to.
struct ModelDataOptions: ParsableArguments {
    @Option(help: "The model: a weights file written by `sprig train --save-weights` or Python's `model.save` (it describes its network, normalisation and inputs).")
    var model: String
    @Option(help: "Dataset: fashion-mnist, mnist, cifar10 or synthetic (default fashion-mnist).")
    var dataset: String = "fashion-mnist"
    @Option(help: "Directory of the dataset's files (default: the dataset's own, as for train).")
    var dataDir: String?
    @Option(help: "Which split of the dataset: test or train (default test).")
    var split: String = "test"
    @Option(parsing: .unconditional, help: "Use only the first N examples of the split.")
    var size: Int?
    @Option(parsing: .unconditional, help: "Synthetic data: the training examples it was made with (as train's --train-size); a model file without a normalisation: the training examples its normalisation is fitted on.")
    var trainSize: Int?
    @Option(parsing: .unconditional, help: "Threads in this process (default: all cores, shared by the ranks on this node).")
    var threads: Int?

    func options() throws -> ModelRun.Options {
        var options = ModelRun.Options(modelPath: model, dataset: try DatasetKind(parsing: dataset),
                                       threads: threads ?? Launcher.defaultThreads)
        options.dataDirectory = dataDir
        guard let split = ModelRun.Options.Split(rawValue: split) else {
            throw ValidationError("--split must be test or train, not '\(split)'")
        }
        options.split = split
        options.size = size
        options.trainSize = trainSize
        return options
    }
}
