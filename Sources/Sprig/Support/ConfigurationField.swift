/// A field of a training run's configuration, by its name in the library
/// (`TrainingRun.Options`, `NetworkConfiguration`, `TrainingConfiguration`). A value that
/// fails validation is reported as `SprigError.invalidField` naming its field; the command
/// line maps each field to its flag, a Python caller sees the field.
public enum ConfigurationField: String, Sendable, CaseIterable {
    case layerSizes = "network.layerSizes"
    case densities = "network.densities"
    case layers = "network.layers"
    case dropouts = "network.layers.dropout"
    case epochs = "training.epochs"
    case batchSize = "training.batchSize"
    case learningRate = "training.learningRate"
    case weightDecay = "training.weightDecay"
    case learningRateFanIn = "training.learningRateFanIn"
    case loss = "training.loss"
    case optimizer = "training.optimizer"
    case prune = "training.dynamicSparsity.prune"
    case grow = "training.dynamicSparsity.grow"
    case growWeights = "training.dynamicSparsity.growWeights"
    case regrowEvery = "training.dynamicSparsity.schedule.every"
    case regrowSchedule = "training.dynamicSparsity.schedule.decay"
    case regrowUntil = "training.dynamicSparsity.schedule.until"
    case groupLasso = "training.structuredSparsity.groupLasso"
    case groupLassoInputs = "training.structuredSparsity.inputGroupLasso"
    case shrinkEvery = "training.structuredSparsity.shrinkEvery"
    case shrinkThreshold = "training.structuredSparsity.shrinkThreshold"
    case pruneNeurons = "training.structuredSparsity.pruneNeurons"
    case shrinkUntil = "training.structuredSparsity.until"
    case threads
    case layerKernels
    case trainSize
    case testSize
    case maxSteps
    case checkpointDirectory
    case checkpointEveryEpochs
    case checkpointEverySteps
    case checkReplicas
    case resume
}
