import ArgumentParser
import CBLAS
import Foundation
import Sprig

/// `sprig train`: trains a sparse MLP (Nerva's flag vocabulary).
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a sparse MLP with CSR weights.",
        discussion: """
        Sparse layers hold only their nonzeros (CSR); a layer of density 1 is dense (BLAS).
        Per-layer densities come from --densities, or from --overall-density with the
        Erdős–Rényi allocation. Example:
          sprig train --layer-sizes 784,1024,512,10 --overall-density 0.05 --epochs 10
        """)

    @Option(help: "Layer sizes, inputs first and classes last.")
    var layerSizes = "784,1024,512,10"
    @Option(help: "One density per layer, comma-separated (1 = dense layer).")
    var densities: String?
    @Option(help: "Overall density, split over layers with the Erdős–Rényi allocation (default 0.05 when --densities is not given).")
    var overallDensity: Double?
    @Option(help: "Hidden-layer activation: relu, leaky_relu:A, all_relu:A, tanh, sigmoid, identity.")
    var activation = "relu"
    @Option(help: "Output-layer activation (identity for logits).")
    var outputActivation = "identity"
    @Option(help: "Loss: softmax-cross-entropy or squared-error.")
    var loss = "softmax-cross-entropy"
    @Option(help: "Optimizer: sgd, momentum:MU or nesterov:MU.")
    var optimizer = "nesterov:0.9"
    @Option(help: "Initial learning rate.")
    var learningRate = 0.01
    @Option(help: "Learning-rate schedule: constant, step:S:G, multistep:M1,M2:G, exponential:G, cosine[:MIN].")
    var lrSchedule = "constant"
    @Option(help: "L2 weight decay (added to the gradient of every parameter).")
    var weightDecay: Float = 0
    @Option(help: "Initializer: xavier, xavier-normalized, he or pytorch.")
    var initializer = "pytorch"
    @Option(help: "How a sparse layer's fan-in is counted for initialisation: dense (D, as Nerva/PyTorch) or sparse (nnz per row).")
    var fanIn = "dense"
    @Option(help: "Examples per mini-batch.")
    var batchSize = 100
    @Option(help: "Number of epochs.")
    var epochs = 10
    @Option(help: "Random seed (patterns, initial values, shuffling, synthetic data).")
    var seed: UInt64 = 1
    @Option(help: "Threads in this process (default: all cores).")
    var threads: Int?
    @Option(help: "Dataset: fashion-mnist, mnist, cifar10 or synthetic.")
    var dataset = "fashion-mnist"
    @Option(help: "Directory of the dataset's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist).")
    var dataDir: String?
    @Option(help: "Use only the first N training examples (synthetic: how many to make).")
    var trainSize: Int?
    @Option(help: "Use only the first N test examples (synthetic: how many to make).")
    var testSize: Int?
    @Option(help: "Input normalisation: standard (training mean and deviation), unit (x/255 only).")
    var normalize = "standard"
    @Option(help: "Write the trained weights to this .npz file (SciPy CSR arrays per sparse layer).")
    var saveWeights: String?
    @Option(help: "Start from the weights (and patterns) in this .npz file.")
    var loadWeights: String?
    @Option(help: "Append one JSON object per epoch to this file.")
    var metrics: String?
    @Option(help: "Gradient allreduce across ranks: per-layer (non-blocking, started as backward finishes each layer) or fused (one call).")
    var allreduce = "per-layer"
    @Option(help: "Directory for checkpoints (rank 0 writes them; the newest two are kept).")
    var checkpointDir: String?
    @Option(help: "Write a checkpoint after every N epochs.")
    var checkpointEvery: Int?
    @Option(help: "Write a checkpoint after every N steps.")
    var checkpointEverySteps: Int?
    @Flag(help: "Continue from the newest valid checkpoint in --checkpoint-dir (any number of ranks).")
    var resume = false
    @Option(help: "Stop after this many steps in all (counted from the start of training, also when resuming).")
    var maxSteps: Int?

    func validate() throws {
        if let t = threads, t < 1 { throw ValidationError("--threads \(t) is not positive") }
        if let n = trainSize, n < 1 { throw ValidationError("--train-size \(n) is not positive") }
        if let n = testSize, n < 0 { throw ValidationError("--test-size \(n) is negative") }
        if densities != nil && overallDensity != nil { throw ValidationError("give --densities or --overall-density, not both") }
        if !["standard", "unit"].contains(normalize) { throw ValidationError("--normalize must be standard or unit, not '\(normalize)'") }
        if let n = maxSteps, n < 0 { throw ValidationError("--max-steps \(n) is negative") }
        if let n = checkpointEvery, n < 1 { throw ValidationError("--checkpoint-every \(n) is not positive") }
        if let n = checkpointEverySteps, n < 1 { throw ValidationError("--checkpoint-every-steps \(n) is not positive") }
        if (resume || checkpointEvery != nil || checkpointEverySteps != nil) && checkpointDir == nil {
            throw ValidationError("--resume and --checkpoint-every need --checkpoint-dir")
        }
    }

    func run() throws {
        let options = try TrainingOptions(parsing: self)
        try withCommunicator { communicator in
            let reporter: any TrainingReporter = communicator.isRoot
                ? try ConsoleReporter(epochs: options.training.epochs, metricsPath: metrics) : SilentReporter()
            try TrainingRun(options, communicator: communicator).run(reporter: reporter)
        }
    }
}
