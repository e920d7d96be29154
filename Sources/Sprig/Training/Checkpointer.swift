import Foundation

/// A run's checkpoints in one directory (`CheckpointFile`): rank 0 alone writes them (each
/// atomically, the newest two kept); to resume, rank 0 reads the newest valid one and sends
/// its bytes to every rank, so the ranks need not share a file system.
public final class Checkpointer {
    public let directory: String
    private let context: RunContext
    /// The run's training data, written into every checkpoint (a resumed run must train on it).
    public var trainingData: Checkpoint.DataIdentity?

    public init(directory: String, context: RunContext) {
        self.directory = directory
        self.context = context
    }

    /// Rank 0: creates the directory when it is missing and checks that it can write into it.
    /// Returns whether it created the directory (to be removed if the run cannot start).
    public func prepare() throws -> Bool {
        guard context.isRoot else { return false }
        var created = false
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            catch { throw SprigError.fileError(path: directory, action: "create the checkpoint directory", error: error) }
            created = true
        } else if !isDirectory.boolValue {
            throw SprigError.fileError(path: directory, action: "use it as the checkpoint directory", errno: ENOTDIR)
        }
        try AtomicFile.checkWritable((directory as NSString).appendingPathComponent("checkpoint-probe.sprig"))
        return created
    }

    /// Rank 0: writes the network (its current patterns, values and optimizer state) as having
    /// done `step` steps of epoch `epoch` (a finished epoch is saved as step 0 of the next).
    /// Returns the path written (nil on the other ranks).
    @discardableResult
    public func write(_ network: Network, training: TrainingConfiguration, epoch: Int, step: Int, stepsPerEpoch: Int) throws -> String? {
        guard context.isRoot else { return nil }
        try network.checkFinite(writing: "checkpoint")
        let next = step >= stepsPerEpoch ? (epoch + 1, 0) : (epoch, step)
        return try CheckpointFile.write(Checkpoint(network: network, training: training, epoch: next.0, step: next.1,
                                                            trainingData: trainingData), directory: directory)
    }

    /// Every rank: whether rank 0 finds any checkpoint file in the directory (a missing
    /// directory has none), for a run that resumes only when there is something to resume
    /// from (a requeued Slurm job).
    public func hasCheckpoint() throws -> Bool {
        var found: [UInt8] = [0]
        if context.isRoot, FileManager.default.fileExists(atPath: directory) {
            found[0] = try CheckpointFile.list(directory: directory).isEmpty ? 0 : 1
        }
        try context.communicator.broadcast(&found, root: 0)
        return found[0] == 1
    }

    /// Every rank: the newest valid checkpoint, read by rank 0 (which notes what it skipped)
    /// and broadcast. A failure on rank 0 is thrown on every rank.
    public func readNewest(reporter: any TrainingReporter) throws -> Checkpoint {
        let communicator = context.communicator
        var bytes: [UInt8] = []
        var failure = ""
        if communicator.isRoot {
            do {
                let found = try CheckpointFile.newestValid(in: directory)
                for (path, reason) in found.rejected { reporter.note("warning: skipping \(path): \(reason)") }
                reporter.note("resuming from \(found.path) (epoch \(found.checkpoint.epoch + 1), step \(found.checkpoint.step))")
                bytes = try CheckpointFile.encode(found.checkpoint)
            } catch {
                failure = "\(error)"
            }
        }
        let message = try communicator.broadcastBytes(Array(failure.utf8), root: 0)
        guard message.isEmpty else { throw SprigError.failed(String(decoding: message, as: UTF8.self)) }
        return try CheckpointFile.decode(try communicator.broadcastBytes(bytes, root: 0), path: directory)
    }

    /// Puts a checkpoint's values and optimizer state into `network`'s store (built from the
    /// checkpoint's configuration and patterns, the optimizer's state already added).
    public func restore(_ checkpoint: Checkpoint, into network: Network) throws {
        let store = network.parameters
        guard checkpoint.values.count == store.count else {
            throw SprigError.format(path: directory, reason: "checkpoint has \(checkpoint.values.count) parameters, the network \(store.count)")
        }
        try copy(checkpoint.optimizerState, into: store.states.map { ($0.name, $0.buffer) }, what: "optimizer state", owner: "the optimizer's")
        try copy(checkpoint.layerState, into: network.states.map { ($0.name, $0.values) }, what: "layer state", owner: "the network's")
        _ = store.values.buffer.update(fromContentsOf: checkpoint.values)
    }

    /// Copies saved named buffers into `targets` after checking that the names (in order) and
    /// every count agree; nothing is copied when any differs.
    private func copy(_ saved: [Checkpoint.State], into targets: [(name: String, buffer: FloatBuffer)], what: String, owner: String) throws {
        guard saved.map(\.name) == targets.map(\.name) else {
            throw SprigError.format(path: directory, reason: "checkpoint \(what) [\(saved.map(\.name).joined(separator: ", "))] "
                                    + "does not match \(owner) [\(targets.map(\.name).joined(separator: ", "))]")
        }
        for (state, target) in zip(saved, targets) where state.values.count != target.buffer.count {
            throw SprigError.format(path: directory, reason: "checkpoint \(state.name) has \(state.values.count) values, expected \(target.buffer.count)")
        }
        for (state, target) in zip(saved, targets) { _ = target.buffer.buffer.update(fromContentsOf: state.values) }
    }
}
