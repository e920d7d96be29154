import CPUControl

/// Runs `parts` pieces of work on up to `threads` threads (the caller and `threads − 1`
/// persistent workers) and waits for all of them. Every worker flushes subnormals to zero.
/// One job at a time: `run` is not reentrant and is called from one thread.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let team: WorkerTeam?
    /// The CPUs the caller's thread was allowed before the pool bound it to the first (nil:
    /// not bound); given back when the pool ends, so that a short-lived pool (data generation)
    /// does not leave the thread bound for a later pool of fewer threads.
    private let callerCPUs: [Int32]?

    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        let cpus = Self.bindsThreads && threads > 1 ? Self.cpusToBind(threads: threads) : nil
        if let cpus { var first = cpus[0]; _ = sprig_bind_thread(&first, 1) }
        callerCPUs = cpus
        team = threads > 1 ? WorkerTeam(workers: threads - 1, cpus: cpus.map { Array($0.dropFirst()) }) : nil
    }

    /// Whether a pool binds its threads to CPUs: set by the `sprig` executable, which owns its
    /// threads; a library embedded in another program (the Python package) leaves them free.
    /// Unbound, the OS kept a pool's two threads on one of this machine's two CPUs for seconds
    /// at a time in some processes: the same command then ran at half speed (bench/README.md,
    /// "Reproducible speed").
    nonisolated(unsafe) public static var bindsThreads = false

    /// The CPUs for the caller and each worker: the process's allowed CPUs when it has exactly
    /// one per thread (a whole machine, a Slurm task's CPUs, an mpirun rank bound to its cores);
    /// nil otherwise (ranks sharing the machine's CPUs must not all take the first ones).
    static func cpusToBind(threads: Int) -> [Int32]? {
        var allowed = [Int32](repeating: 0, count: 4096)
        let count = Int(sprig_allowed_cpus(&allowed, Int32(allowed.count)))
        return count == threads ? Array(allowed.prefix(count)) : nil
    }

    deinit {
        team?.stop()
        if let callerCPUs { _ = sprig_bind_thread(callerCPUs, Int32(callerCPUs.count)) }
    }

    public static let single = ThreadPool(threads: 1)

    /// Calls `body(part)` for part in 0..<parts, concurrently when more than one thread.
    @inline(__always)
    public func run(parts: Int, _ body: (Int) -> Void) {
        guard parts > 1, let team else {
            for part in 0..<parts { body(part) }
            return
        }
        team.run(parts: parts, body)
    }

    /// Splits 0..<count into up to `threads` contiguous ranges and runs `body` on each.
    @inline(__always)
    public func forEachRange(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = Swift.max(1, Swift.min(threads, count / Swift.max(minimumPerThread, 1)))
        run(parts: parts) { part in
            body((count * part / parts)..<(count * (part + 1) / parts))
        }
    }
}
