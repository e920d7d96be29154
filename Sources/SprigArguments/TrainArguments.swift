import ArgumentParser
import Sprig

/// The flags of a training run (Nerva's vocabulary), shared by `sprig train` and the Python
/// package, which passes the same flags through the C interface: one parser, one set of checks
/// and messages. `options()` turns them into the library's `TrainingRun.Options`.
public struct TrainArguments: ParsableArguments {
    public init() {}

    // Options are optional so that `--resume` can tell a flag the user gave from a default
    // (TrainingOptions applies the defaults). Numeric options take their value unconditionally,
    // so that `--batch-size -1` reaches the check that names it.
    @Option(parsing: .unconditional, help: "Layer sizes, inputs first and classes last, separated by ',' or (Nerva's) ';' (default 784,1024,512,10).")
    public var layerSizes: String?
    @Option(parsing: .unconditional, help: "One density per layer, separated by ',' or ';' (1 = dense layer).")
    public var densities: String?
    @Option(parsing: .unconditional, help: "Overall density, split over layers with the Erdős–Rényi allocation (default 0.05 when --densities is not given).")
    public var overallDensity: Double?
    @Option(help: """
        Hidden-layer activation: relu, leaky_relu:A (max(z, A·z)), all_relu:A (z < 0 ? A·z : z), trelu:E \
        (z < E ? 0 : z; also truncated_relu:E), clipped_relu:C (min(C, max(0, z)); also relu_clip:C), tanh, sigmoid \
        (also logistic) or identity (also linear, none) (default relu). Names in any case, with -, _ or nothing \
        between words; Nerva's ReLU, LeakyReLU(A), AllReLU(A) and TReLU(E) are the same. SReLU has trainable \
        parameters: give it in --layers.
        """)
    public var activation: String?
    @Option(help: "Output-layer activation, any --activation name (default identity, for logits).")
    public var outputActivation: String?
    @Option(help: """
        The layers, Nerva's way: one entry per linear layer naming its activation (Linear, ReLU, LeakyReLU(a), \
        AllReLU(a), TReLU(e), Sigmoid, Tanh, SReLU or SReLU(al,tl,ar,tr) (trainable, initially 0,0,0,1), Softmax, \
        LogSoftmax), plus BatchNorm entries, each a layer after the one before it, separated by ';', e.g. \
        "ReLU;BatchNorm;ReLU;BatchNorm;Linear" (default: --activation's chain).
        """)
    public var layers: String?
    @Option(parsing: .unconditional, help: "Dropout rates, one per linear layer, on its input (inverted dropout; 0 = none), separated by ',' or ';', e.g. 0.2,0.2,0.")
    public var dropouts: String?
    @Option(help: """
        Loss: softmax-cross-entropy (on logits; default; also ce, softmax), logistic-cross-entropy (a sigmoid per \
        class), cross-entropy (on probabilities, after a softmax), negative-log-likelihood (on log-probabilities, \
        after a log-softmax; also nll) or squared-error (also mse, se). Names in any case, with -, _ or nothing \
        between words: Nerva's SoftmaxCrossEntropy, LogisticCrossEntropy, CrossEntropy, NegativeLogLikelihood and \
        SquaredError are the same.
        """)
    public var loss: String?
    @Option(help: """
        Optimizer: sgd (also gradient_descent), momentum:MU, nesterov:MU, adam:B1,B2,EPS (adam alone: \
        0.9,0.999,1e-8) or adamw:B1,B2,EPS,WD (adamw alone: 0.9,0.999,1e-8,0.01); names in any case, and Nerva's \
        GradientDescent, Momentum(MU), Nesterov(MU), Adam(B1,B2,EPS) and AdamW(B1,B2,EPS,WD) are the same. \
        Several, comma-separated, give one per layer, e.g. nesterov:0.9,adam:0.9,0.999,1e-8 or \
        Nesterov(0.9),Adam(0.9,0.999,1e-8) (default nesterov:0.9).
        """)
    public var optimizer: String?
    @Option(parsing: .unconditional, help: "Initial learning rate (default 0.01).")
    public var learningRate: Double?
    @Option(help: "Learning-rate schedule: constant, step:S:G, multistep:M1,M2:G, exponential:G, cosine[:MIN] (default constant).")
    public var lrSchedule: String?
    @Option(parsing: .unconditional, help: "L2 weight decay, added to the gradient of every parameter (default 0).")
    public var weightDecay: Float?
    @Option(parsing: .unconditional, help: """
        A linear layer whose rows hold more than N nonzeros on average (fan-in n) learns at the learning rate \
        times N/n, so that its outputs move per step as a layer of fan-in N's do; 0 keeps every layer at the \
        learning rate (default 4096).
        """)
    public var learningRateFanIn: Int?
    @Option(help: """
        Initializer: xavier, xavier-normalized (also glorot, glorot-uniform), he (also kaiming) or pytorch (also \
        torch, default) (default pytorch). Names in any case, with -, _ or nothing between words: Nerva's Xavier, \
        XavierNormalized, He and PyTorch are the same.
        """)
    public var initializer: String?
    @Option(help: """
        How a sparse layer's fan-in (and fan-out) is counted for initialisation: per-row (each row's own \
        nonzeros, each column's for fan-out; the default), sparse (the layer's mean nonzeros per row) or \
        dense (D and K, as Nerva and PyTorch-with-masks count: for parity runs).
        """)
    public var fanIn: String?
    @Option(help: """
        Dynamic sparse training: at each regrow, drop from every sparse layer magnitude:F (the fraction F \
        with the smallest |w|), set:F (SET: the fraction F of the positive and of the negative weights \
        closest to zero) or threshold:V (|w| < V); as many weights are grown again (--grow). Default: none.
        """)
    public var prune: String?
    @Option(help: "Where pruned weights grow again: random (uniform over the empty positions) or gradient (RigL: the largest |∂L/∂w| of the current batch) (default random).")
    public var grow: String?
    @Option(help: "Initial value of grown weights: zero, xavier, xavier-normalized, he or pytorch (default zero).")
    public var growWeights: String?
    @Option(parsing: .unconditional, help: "Prune and regrow after every N steps (default: once per epoch, before each epoch after the first).")
    public var regrowEvery: Int?
    @Option(help: "How the prune fraction decays: constant or cosine (RigL) (default constant).")
    public var regrowSchedule: String?
    @Option(parsing: .unconditional, help: "Fraction of training after which the topology stays fixed, in (0, 1] (default 1).")
    public var regrowUntil: Double?
    @Option(parsing: .unconditional, help: "Structured sparsity (FSSL): group lasso strength λ on the hidden neurons (a neuron's incoming and outgoing weights form a group), applied as a proximal step after every update so that groups become exactly zero; zeroed neurons are removed at each shrink (default 0: none).")
    public var groupLasso: Double?
    @Option(parsing: .unconditional, help: "Group lasso strength on the input features (the columns of W1); features whose weights are all zero stop being read (default 0).")
    public var groupLassoInputs: Double?
    @Option(help: "Remove neurons while training: importance:F removes, at each shrink, the fraction F of each hidden layer's neurons with the smallest sum of |incoming| + |outgoing| weights (Curci et al.) (default none).")
    public var pruneNeurons: String?
    @Option(parsing: .unconditional, help: "Shrink the layers at the end of every N-th epoch: remove the neurons whose outgoing weights are all zero, and those --shrink-threshold and --prune-neurons name (default 1).")
    public var shrinkEvery: Int?
    @Option(parsing: .unconditional, help: "At a shrink, also remove the neurons whose incoming and outgoing weights are all below this in magnitude (default 0).")
    public var shrinkThreshold: Double?
    @Option(parsing: .unconditional, help: "Fraction of the epochs, in (0, 1], with the group lasso and shrinking; the remaining epochs fine-tune the compact network (default 1).")
    public var shrinkUntil: Double?
    @Option(parsing: .unconditional, help: "Examples per mini-batch (default 100).")
    public var batchSize: Int?
    @Option(parsing: .unconditional, help: "Number of epochs (default 10; when resuming, the checkpoint's).")
    public var epochs: Int?
    @Option(parsing: .unconditional, help: "Random seed: patterns, initial values, shuffling, synthetic data (default 1).")
    public var seed: UInt64?
    @Option(parsing: .unconditional, help: "Threads in this process (default: SLURM_CPUS_PER_TASK in a Slurm job, else all cores, shared by the ranks on this node).")
    public var threads: Int?
    @Option(help: "Dataset: fashion-mnist, mnist, cifar10 or synthetic (default fashion-mnist).")
    public var dataset: String?
    @Option(help: "Directory of the dataset's files (default: /usr/share/datasets/fashion-mnist for fashion-mnist).")
    public var dataDir: String?
    @Option(parsing: .unconditional, help: "Use only the first N training examples (synthetic: how many to make).")
    public var trainSize: Int?
    @Option(parsing: .unconditional, help: "Use only the first N test examples (synthetic: how many to make).")
    public var testSize: Int?
    @Option(help: "Input normalisation: standard (training mean and deviation), unit (x/255 only) (default standard).")
    public var normalize: String?
    @Option(help: "Write the trained weights to this .npz file (SciPy CSR arrays per sparse layer).")
    public var saveWeights: String?
    @Option(help: "Start from this model file (.npz): its weights, patterns, layers and normalisation, which the file describes; flags that define the network must agree with it.")
    public var loadWeights: String?
    @Option(help: "Write one JSON object per epoch to this file (a new file; appended to when resuming).")
    public var metrics: String?
    @Option(help: """
        Each sparse layer's kernel: csr (work in proportion to the nonzeros), dense (GEMM on the masked \
        matrix, for dense-ish layers) or auto (both timed at start-up on the layer, the faster taken); one \
        value for every layer or a comma list, one per linear layer (default auto).
        """)
    public var layerKernels: String?
    @Option(help: "Gradient allreduce across ranks: per-layer (non-blocking, started as backward finishes each layer) or fused (one call) (default per-layer).")
    public var allreduce: String?
    @Option(help: "Directory for checkpoints (rank 0 writes them; the newest two are kept). In a Slurm job, default checkpoints/job-<SLURM_JOB_ID>, and a requeued job (SLURM_RESTART_COUNT > 0) resumes from it.")
    public var checkpointDir: String?
    @Option(parsing: .unconditional, help: "Write a checkpoint after every N epochs.")
    public var checkpointEvery: Int?
    @Option(parsing: .unconditional, help: "Write a checkpoint after every N steps.")
    public var checkpointEverySteps: Int?
    @Flag(help: "Continue from the newest valid checkpoint in --checkpoint-dir (any number of ranks); flags that define the run must agree with it, --epochs may extend it.")
    public var resume = false
    @Option(parsing: .unconditional, help: "Stop after this many steps in all (counted from the start of training, also when resuming).")
    public var maxSteps: Int?
    @Option(parsing: .unconditional, help: "Every N steps, check that all ranks hold bitwise-identical parameters (values and optimizer state); a difference stops the job (default: never).")
    public var checkReplicas: Int?

    public func validate() throws {
        if densities != nil && overallDensity != nil { throw ValidationError("give --densities or --overall-density, not both") }
        if layers != nil && (activation != nil || outputActivation != nil) {
            throw ValidationError("give --layers or --activation/--output-activation, not both (--layers names every layer's activation)")
        }
        if let n = normalize, !["standard", "unit"].contains(n) { throw ValidationError("--normalize must be standard or unit, not '\(n)'") }
    }
}
