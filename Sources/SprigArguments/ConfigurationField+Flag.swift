import Sprig

extension ConfigurationField {
    /// The `sprig train` flag that sets this field (the Python package's keyword is its name
    /// without the dashes, with underscores).
    public var flag: String {
        switch self {
        case .layerSizes: return "--layer-sizes"
        case .densities: return "--densities"
        case .layers: return "--layers"
        case .dropouts: return "--dropouts"
        case .epochs: return "--epochs"
        case .batchSize: return "--batch-size"
        case .learningRate: return "--learning-rate"
        case .weightDecay: return "--weight-decay"
        case .learningRateFanIn: return "--learning-rate-fan-in"
        case .loss: return "--loss"
        case .optimizer: return "--optimizer"
        case .prune: return "--prune"
        case .grow: return "--grow"
        case .growWeights: return "--grow-weights"
        case .regrowEvery: return "--regrow-every"
        case .groupLasso: return "--group-lasso"
        case .groupLassoInputs: return "--group-lasso-inputs"
        case .shrinkEvery: return "--shrink-every"
        case .shrinkThreshold: return "--shrink-threshold"
        case .pruneNeurons: return "--prune-neurons"
        case .shrinkUntil: return "--shrink-until"
        case .regrowSchedule: return "--regrow-schedule"
        case .regrowUntil: return "--regrow-until"
        case .threads: return "--threads"
        case .layerKernels: return "--layer-kernels"
        case .trainSize: return "--train-size"
        case .testSize: return "--test-size"
        case .maxSteps: return "--max-steps"
        case .checkpointDirectory: return "--checkpoint-dir"
        case .checkpointEveryEpochs: return "--checkpoint-every"
        case .checkpointEverySteps: return "--checkpoint-every-steps"
        case .checkReplicas: return "--check-replicas"
        case .resume: return "--resume"
        }
    }
}
