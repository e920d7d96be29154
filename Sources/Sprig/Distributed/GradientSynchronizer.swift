/// Sums a step's gradients and loss across the ranks of a data-parallel job.
///
/// Per step, in the same order on every rank: `startLoss` (the rank's loss and whether it was
/// asked to stop, non-blocking, so that neither the non-finite check nor the ranks' agreement
/// to stop costs an extra round trip), then with `.perLayer` one
/// non-blocking allreduce per layer started by `startLayer` as soon as backward finishes it,
/// and `finish`, which runs the fused allreduce (`.fused`) and completes the pending ones.
/// Afterwards every rank holds Σ_ranks gradients (the store's, over the current nonzero
/// patterns, which every rank shares), `lossSum` and `stopRequested`. With one rank every call
/// is a no-op. On a backend whose memory is not the host's, the gradients cross to the host
/// for the sums (layer by layer with `.perLayer`) and back before the optimizer's update.
public final class GradientSynchronizer {
    public let communicator: any Communicator
    public let exchange: GradientExchange
    private var pending: [PendingCollective] = []
    /// [loss, stop]: this rank's loss and 1 when it was asked to stop; summed over the ranks.
    private let loss = FloatBuffer(count: 2)
    /// Seconds this rank has spent in gradient allreduces (including waiting for other ranks).
    public private(set) var communicationSeconds = 0.0

    public init(communicator: any Communicator, exchange: GradientExchange) {
        self.communicator = communicator
        self.exchange = exchange
    }

    /// The step's loss summed over the ranks (valid after `finish`).
    public var lossSum: Float { loss[0] }

    /// Whether any rank was asked to stop at this step (valid after `finish`): every rank gets
    /// the same answer, so all stop after the same step.
    public var stopRequested: Bool { loss[1] > 0 }

    /// Whether `startLayer` is to be called as backward finishes each layer.
    public var exchangesPerLayer: Bool { communicator.size > 1 && exchange == .perLayer }

    /// Starts the allreduce of this rank's loss and stop request (first of the step's
    /// collectives on every rank).
    public func startLoss(_ value: Double, stop: Bool = false) throws {
        loss[0] = Float(value)
        loss[1] = stop ? 1 : 0
        guard communicator.size > 1 else { return }
        pending.append(try communicator.startAllreduceSum(loss.buffer))
    }

    /// Starts the allreduce of layer l's gradients (its groups, contiguous in the store).
    public func startLayer(_ l: Int, of network: Network) throws {
        guard exchangesPerLayer else { return }
        let range = network.parameterRange(ofLayer: l)
        guard !range.isEmpty else { return }   // a layer without parameters (dropout, softmax)
        let clock = Stopwatch()
        pending.append(try communicator.startAllreduceSum(try network.parameters.hostGradients(in: range)))
        communicationSeconds += clock.seconds
    }

    /// Runs the fused allreduce (`.fused`), then completes the step's pending ones.
    public func finish(_ network: Network) throws {
        guard communicator.size > 1 else { return }
        let clock = Stopwatch()
        defer { communicationSeconds += clock.seconds }
        if exchange == .fused { try communicator.allreduceSum(network.parameters.gradients.buffer) }
        for request in pending { try communicator.wait(request) }   // the loss's, and the layers' (per-layer)
        pending.removeAll(keepingCapacity: true)
        if exchange == .perLayer { network.parameters.gradientsExchangedOnHost() }
    }
}
