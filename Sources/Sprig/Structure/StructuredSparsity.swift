/// Structured sparsity learning (FSSL): make whole hidden neurons zero and remove them while
/// training, so the layers themselves shrink. Part of `TrainingConfiguration`, so checkpoints
/// and the ranks' agreement check carry it.
///
/// - `groupLasso` λ adds λ·Σ_g ‖w_g‖₂ over the hidden neurons' groups (a neuron's incoming
///   weights, a row of W_l, with its outgoing weights, a column of W_{l+1}), applied as a
///   proximal step after every optimizer update (`GroupLasso`), so groups reach exactly zero.
/// - `inputGroupLasso` does the same on the input features (the columns of W_1).
/// - Every `shrinkEvery` epochs, at the end of the epoch, `NeuronRemoval` removes the neurons
///   whose outgoing weights are all zero (exactly: they contribute nothing), those whose
///   weights are all below `shrinkThreshold` in magnitude, and, with `pruneNeurons`, the
///   fraction of each hidden layer's neurons with the least importance (Curci et al.).
/// - After the fraction `until` of the epochs, both stop: the remaining epochs fine-tune the
///   compact network (FSSL's fine-tuning phase).
public struct StructuredSparsity: Equatable, Sendable, Codable, CustomStringConvertible {
    public var groupLasso: Double
    public var inputGroupLasso: Double
    /// Epochs between shrinks (1: after every epoch).
    public var shrinkEvery: Int
    /// Neurons whose incoming and outgoing weights are all below this in magnitude are removed (0: none).
    public var shrinkThreshold: Double
    /// Fraction of each hidden layer's neurons removed at each shrink by importance (nil: none).
    public var pruneNeurons: NeuronPruning?
    /// Fraction of the epochs with the group lasso and shrinking, in (0, 1]; the rest fine-tune.
    public var until: Double

    public init(groupLasso: Double = 0, inputGroupLasso: Double = 0, shrinkEvery: Int = 1, shrinkThreshold: Double = 0,
                pruneNeurons: NeuronPruning? = nil, until: Double = 1) throws {
        self.groupLasso = groupLasso
        self.inputGroupLasso = inputGroupLasso
        self.shrinkEvery = shrinkEvery
        self.shrinkThreshold = shrinkThreshold
        self.pruneNeurons = pruneNeurons
        self.until = until
        try validate()
    }

    /// Whether the proximal step runs after each update.
    public var hasProximalStep: Bool { groupLasso > 0 || inputGroupLasso > 0 }

    /// Whether epoch `epoch` (0-based) of `epochs` regularises and shrinks: the first
    /// round(until·epochs) epochs (at least one).
    public func isActive(epoch: Int, epochs: Int) -> Bool {
        epoch < max(1, Int((until * Double(epochs)).rounded()))
    }

    /// Throws `SprigError.invalidField` for a negative or non-finite strength or threshold,
    /// a shrink period below 1, an `until` outside (0, 1] or a pruning fraction outside (0, 1).
    public func validate() throws {
        guard groupLasso >= 0, groupLasso.isFinite else {
            throw SprigError.invalidField(.groupLasso, "\(groupLasso) is not a finite number ≥ 0")
        }
        guard inputGroupLasso >= 0, inputGroupLasso.isFinite else {
            throw SprigError.invalidField(.groupLassoInputs, "\(inputGroupLasso) is not a finite number ≥ 0")
        }
        guard shrinkEvery >= 1 else { throw SprigError.invalidField(.shrinkEvery, "\(shrinkEvery) is not a positive number of epochs") }
        guard shrinkThreshold >= 0, shrinkThreshold.isFinite else {
            throw SprigError.invalidField(.shrinkThreshold, "\(shrinkThreshold) is not a finite number ≥ 0")
        }
        guard until > 0, until <= 1 else { throw SprigError.invalidField(.shrinkUntil, "\(until) is not in (0, 1]") }
        if case .importance(let f)? = pruneNeurons, !(f > 0 && f < 1) {
            throw SprigError.invalidField(.pruneNeurons, "'importance:\(f)': the fraction \(f) is not in (0, 1)")
        }
    }

    public var description: String {
        var parts: [String] = []
        if groupLasso > 0 { parts.append("group lasso \(groupLasso)") }
        if inputGroupLasso > 0 { parts.append("input group lasso \(inputGroupLasso)") }
        if let pruneNeurons { parts.append("prune neurons \(pruneNeurons)") }
        if shrinkThreshold > 0 { parts.append("threshold \(shrinkThreshold)") }
        parts.append(shrinkEvery == 1 ? "shrink every epoch" : "shrink every \(shrinkEvery) epochs")
        if until < 1 { parts.append("until \(until) of training, then fine-tune") }
        return parts.joined(separator: ", ")
    }
}

/// How neurons are pruned without a regulariser.
public enum NeuronPruning: Equatable, Sendable, Codable, CustomStringConvertible {
    /// Curci et al.: the fraction F of each hidden layer's neurons with the smallest
    /// Σ|incoming| + Σ|outgoing| weights.
    case importance(Double)

    /// "importance:F".
    public init(parsing text: String) throws {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0] == "importance", let f = Double(parts[1]) else {
            throw SprigError.invalidField(.pruneNeurons, "'\(text)' is not importance:F (F in (0, 1))")
        }
        guard f > 0, f < 1 else { throw SprigError.invalidField(.pruneNeurons, "'\(text)': the fraction \(f) is not in (0, 1)") }
        self = .importance(f)
    }

    public var description: String {
        switch self { case .importance(let f): "importance:\(f)" }
    }
}
