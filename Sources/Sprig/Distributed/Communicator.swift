/// What data-parallel training needs from the ranks of a job: identity, SUM-allreduce of
/// floats (blocking and non-blocking), broadcast, gather to all, barrier, and abort.
/// Implementations: `MPICommunicator` (the real one, under `mpirun`) and
/// `SingleProcessCommunicator` (one rank; every collective is the identity).
/// Collectives are called from one thread per rank.
public protocol Communicator: AnyObject {
    var rank: Int { get }
    var size: Int { get }

    /// buffer ← Σ over ranks of buffer, in place.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// buffer ← Σ over ranks of buffer, in place (for counters and timings).
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// buffer ← max over ranks of buffer, in place.
    func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Starts buffer ← Σ over ranks of buffer; the buffer must not be touched until `wait`.
    func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingCollective
    /// Completes a started collective.
    func wait(_ pending: PendingCollective) throws
    /// Every rank's buffer ← root's buffer.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Every rank gets every rank's value, indexed by rank.
    func allGather(_ value: UInt64) throws -> [UInt64]
    func barrier() throws
    /// Ends the whole job at once with `code` (MPI_Abort); never returns.
    func abort(code: Int32) -> Never
}

extension Communicator {
    /// Broadcasts an array of trivially copyable values, whose count all ranks already agree on.
    public func broadcast<T: BitwiseCopyable>(_ values: inout [T], root: Int) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }

    /// Broadcasts root's bytes, of any length, to every rank.
    public func broadcastBytes(_ bytes: [UInt8], root: Int) throws -> [UInt8] {
        var count = [UInt64(bytes.count)]
        try broadcast(&count, root: root)
        var result = rank == root ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try broadcast(&result, root: root)
        return result
    }

    public var isRoot: Bool { rank == 0 }

    /// Gathers every rank's `hash` (one 8-byte allgather); the first rank whose hash differs
    /// from rank 0's, with both hashes in hex, or nil when all agree. Every rank gets the same answer.
    public func firstRankDiffering(in hash: UInt64) throws -> (rank: Int, hash: String, rootHash: String)? {
        let all = try allGather(hash)
        guard let different = all.indices.first(where: { all[$0] != all[0] }) else { return nil }
        return (different, String(all[different], radix: 16), String(all[0], radix: 16))
    }
}
