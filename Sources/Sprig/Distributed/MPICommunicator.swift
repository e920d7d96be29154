import CMPI
import Foundation
import MPIShim

/// The MPI communicator over MPI_COMM_WORLD. MPI is initialised once per process
/// (`MPI_THREAD_FUNNELED`: only the main thread calls MPI; kernel threads never do), errors are
/// returned rather than fatal (`MPI_ERRORS_RETURN`) and become thrown `DistributedError`s, and
/// `finalize()` ends MPI; the command-line tool calls it (or `abort`) on every exit path. When
/// MPI was already initialised by someone else (mpi4py in the same Python process), it is used
/// as it is and left for its owner to finalise.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    private let world: MPI_Comm

    /// At most this many elements per MPI call (MPI counts are 32-bit).
    private let chunk = 1 << 28

    nonisolated(unsafe) private static var initialized = false
    /// Whether this communicator initialised MPI (and so finalises it).
    private let ownsMPI: Bool

    /// Whether `finalize` frees `world` (a duplicate made here).
    private let ownsCommunicator: Bool
    /// A duplicate of the world for `allRanksFailed` alone, so that its barrier never pairs
    /// with a collective of the run (nil over a caller's communicator).
    private var failureChannel: MPI_Comm?

    /// Initialises MPI (once, unless another library already has) and returns the world
    /// communicator. `failureChannel`: also duplicate the world for `allRanksFailed` (collective:
    /// every rank must ask alike; the command line does).
    public init(failureChannel wanted: Bool = false) throws {
        precondition(!MPICommunicator.initialized, "MPI is initialised once per process")
        var already: Int32 = 0
        _ = MPI_Initialized(&already)
        if already == 0 {
            var provided: Int32 = 0
            let code = MPI_Init_thread(nil, nil, sprig_mpi_thread_funneled(), &provided)
            guard code == sprig_mpi_success() else { throw DistributedError.mpi(call: "MPI_Init_thread", message: "error \(code)") }
        }
        ownsMPI = already == 0
        ownsCommunicator = false
        MPICommunicator.initialized = true
        world = sprig_mpi_comm_world()
        (rank, size) = try MPICommunicator.setUp(world)
        var duplicate: MPI_Comm? = nil
        if wanted, size > 1, MPI_Comm_dup(world, &duplicate) == sprig_mpi_success() { failureChannel = duplicate }
    }

    /// After an error on this rank: whether every rank reaches this call within `seconds` (a
    /// non-blocking barrier on a communicator of its own). When they all do, they all failed
    /// at the same point — the same flag, file or data on every rank — and rank 0 alone needs
    /// to say why; when a rank does not come (it is still training, or waits in a collective),
    /// this rank's error is its own and the job must be aborted.
    public func allRanksFailed(within seconds: Double) -> Bool {
        guard let failureChannel else { return size == 1 }
        var request: MPI_Request? = sprig_mpi_request_null()
        guard MPI_Ibarrier(failureChannel, &request) == sprig_mpi_success() else { return false }
        let deadline = Date().addingTimeInterval(seconds)
        var done: Int32 = 0
        while done == 0 {
            guard MPI_Test(&request, &done, sprig_mpi_status_ignore()) == sprig_mpi_success() else { return false }
            if done == 0 {
                guard Date() < deadline else { return false }   // the request is left: the job is aborted next
                usleep(1000)
            }
        }
        return true
    }

    /// A communicator over a duplicate of `communicator`, from an MPI its caller initialised
    /// (mpi4py's communicator in Python): Sprig's messages never mix with the caller's, the
    /// caller's error handler is untouched, and MPI is never finalised here (`finalize` frees
    /// the duplicate). Collective: every rank of `communicator` must make one.
    public init(duplicating communicator: MPI_Comm) throws {
        var initialized: Int32 = 0
        _ = MPI_Initialized(&initialized)
        guard initialized != 0 else {
            throw DistributedError.mpi(call: "MPI_Comm_dup", message: "MPI is not initialised: a communicator given must come from an initialised MPI")
        }
        var duplicate: MPI_Comm? = nil
        let code = MPI_Comm_dup(communicator, &duplicate)
        guard code == sprig_mpi_success(), let duplicate else {
            throw DistributedError.mpi(call: "MPI_Comm_dup", message: "error \(code)")
        }
        ownsMPI = false
        ownsCommunicator = true
        world = duplicate
        (rank, size) = try MPICommunicator.setUp(duplicate)
    }

    /// Makes `communicator`'s errors returned (not fatal) and reads this rank and the size.
    private static func setUp(_ communicator: MPI_Comm) throws -> (Int, Int) {
        var rank: Int32 = 0, size: Int32 = 0
        for (call, result) in [("MPI_Comm_set_errhandler", MPI_Comm_set_errhandler(communicator, sprig_mpi_errors_return())),
                               ("MPI_Comm_rank", MPI_Comm_rank(communicator, &rank)), ("MPI_Comm_size", MPI_Comm_size(communicator, &size))]
            where result != sprig_mpi_success() {
            throw DistributedError.mpi(call: call, message: "error \(result)")
        }
        return (Int(rank), Int(size))
    }

    /// Ends MPI when this communicator started it; call once, after the last collective.
    public func finalize() {
        if ownsCommunicator {
            var communicator: MPI_Comm? = world
            _ = MPI_Comm_free(&communicator)
        }
        if failureChannel != nil {
            _ = MPI_Comm_free(&failureChannel)
            failureChannel = nil
        }
        if ownsMPI { _ = MPI_Finalize() }
    }

    private func check(_ code: Int32, _ call: String) throws {
        guard code != sprig_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(sprig_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        _ = MPI_Error_string(code, &text, &length)
        throw DistributedError.mpi(call: call, message: String(cString: text))
    }

    /// Runs `body(offset, count)` over the chunks of a buffer of `total` elements.
    private func chunked(_ total: Int, _ body: (Int, Int32) throws -> Void) throws {
        var offset = 0
        repeat {
            let count = min(chunk, total - offset)
            try body(offset, Int32(count))
            offset += count
        } while offset < total
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try chunked(buffer.count) { offset, count in
            try check(MPI_Allreduce(sprig_mpi_in_place(), base + offset, count, sprig_mpi_float(), sprig_mpi_op_sum(), world),
                      "MPI_Allreduce")
        }
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try check(MPI_Allreduce(sprig_mpi_in_place(), base, Int32(buffer.count), sprig_mpi_double(), sprig_mpi_op_sum(), world),
                  "MPI_Allreduce")
    }

    public func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try check(MPI_Allreduce(sprig_mpi_in_place(), base, Int32(buffer.count), sprig_mpi_double(), sprig_mpi_op_max(), world),
                  "MPI_Allreduce")
    }

    public func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingCollective {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return PendingCollective(request: nil) }
        guard buffer.count <= chunk else {   // too large for one request: do it now
            try allreduceSum(buffer)
            return PendingCollective(request: nil)
        }
        var request: MPI_Request? = sprig_mpi_request_null()
        try check(MPI_Iallreduce(sprig_mpi_in_place(), base, Int32(buffer.count), sprig_mpi_float(), sprig_mpi_op_sum(),
                                 world, &request), "MPI_Iallreduce")
        return PendingCollective(request: request)
    }

    public func wait(_ pending: PendingCollective) throws {
        guard let started = pending.request else { return }
        var request: MPI_Request? = started
        try check(MPI_Wait(&request, sprig_mpi_status_ignore()), "MPI_Wait")
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        try chunked(buffer.count) { offset, count in
            try check(MPI_Bcast(base + offset, count, sprig_mpi_byte(), Int32(root), world), "MPI_Bcast")
        }
    }

    public func allGather(_ value: UInt64) throws -> [UInt64] {
        var send = value
        var all = [UInt64](repeating: 0, count: size)
        try check(MPI_Allgather(&send, 1, sprig_mpi_uint64(), &all, 1, sprig_mpi_uint64(), world), "MPI_Allgather")
        return all
    }

    public func barrier() throws { try check(MPI_Barrier(world), "MPI_Barrier") }

    public func abort(code: Int32) -> Never {
        _ = MPI_Abort(world, code)
        exit(code)
    }
}
