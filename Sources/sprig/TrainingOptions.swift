import Foundation
import Sprig

/// Turns `sprig train`'s flags into the library's run options (each flag's text parsed and
/// checked, so a bad value names the flag).
typealias TrainingOptions = TrainingRun.Options

extension TrainingRun.Options {
    init(parsing c: TrainCommand) throws {
        let sizes = try parseList(c.layerSizes, flag: "--layer-sizes") { Int($0) }
        var network = NetworkConfiguration(layerSizes: sizes, densities: [])
        if let text = c.densities {
            network.densities = try parseList(text, flag: "--densities") { Double($0) }
        } else {
            let overall = c.overallDensity ?? 0.05
            guard sizes.count >= 2 else { throw SprigError.invalidArgument("--layer-sizes needs at least two sizes") }
            guard overall > 0, overall <= 1 else { throw SprigError.invalidArgument("--overall-density \(overall) is not in (0, 1]") }
            network.densities = try ErdosRenyi.densities(layerSizes: sizes, overall: overall)
        }
        network.hiddenActivation = try Activation(parsing: c.activation)
        network.outputActivation = try Activation(parsing: c.outputActivation, flag: "--output-activation")
        network.initializer = try Initializer(parsing: c.initializer)
        guard let fanIn = Initializer.FanIn(rawValue: c.fanIn) else {
            throw SprigError.invalidArgument("--fan-in must be dense or sparse, not '\(c.fanIn)'")
        }
        network.fanIn = fanIn
        network.seed = c.seed
        try network.validate()

        let training = TrainingConfiguration(
            epochs: c.epochs, batchSize: c.batchSize, learningRate: c.learningRate,
            schedule: try LearningRateSchedule(parsing: c.lrSchedule), optimizer: try OptimizerKind(parsing: c.optimizer),
            weightDecay: c.weightDecay, loss: try LossKind(parsing: c.loss), seed: c.seed)
        try training.validate()

        self.init(network: network, training: training, dataset: try DatasetKind(parsing: c.dataset),
                  threads: c.threads ?? defaultThreads())
        dataDirectory = c.dataDir
        trainSize = c.trainSize
        testSize = c.testSize
        standardize = c.normalize == "standard"
        saveWeights = c.saveWeights
        loadWeights = c.loadWeights
        guard let exchange = GradientExchange(rawValue: c.allreduce) else {
            throw SprigError.invalidArgument("--allreduce must be per-layer or fused, not '\(c.allreduce)'")
        }
        self.exchange = exchange
        checkpointDirectory = c.checkpointDir
        checkpointEveryEpochs = c.checkpointEvery
        checkpointEverySteps = c.checkpointEverySteps
        resume = c.resume
        maxSteps = c.maxSteps
    }
}

/// "a,b,c" → [T], naming the flag and the bad item on failure.
func parseList<T>(_ text: String, flag: String, _ parse: (String) -> T?) throws -> [T] {
    try text.split(separator: ",", omittingEmptySubsequences: false).map {
        let item = $0.trimmingCharacters(in: .whitespaces)
        guard let value = parse(item) else { throw SprigError.invalidArgument("\(flag): '\(item)' is not a number") }
        return value
    }
}

/// The first of the launchers' variables `names` (Open MPI, MPICH/Hydra, Slurm) that is set to an integer.
private func launcherInteger(_ names: [String]) -> Int? {
    let environment = ProcessInfo.processInfo.environment
    return names.lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
}

/// This rank's index among the ranks on its node (0 outside mpirun/srun).
func localRank() -> Int {
    launcherInteger(["OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"]) ?? 0
}

/// All cores, shared among the ranks mpirun started on this node.
func defaultThreads() -> Int {
    let local = launcherInteger(["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]) ?? 1
    return max(1, ProcessInfo.processInfo.activeProcessorCount / max(local, 1))
}
