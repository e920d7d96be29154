/// Runs `parts` pieces of work on up to `threads` threads (the caller and `threads − 1`
/// persistent workers) and waits for all of them. Every worker flushes subnormals to zero.
/// One job at a time: `run` is not reentrant and is called from one thread.
public final class ThreadPool: @unchecked Sendable {
    public let threads: Int
    private let team: WorkerTeam?

    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
        team = threads > 1 ? WorkerTeam(workers: threads - 1) : nil
    }

    deinit { team?.stop() }

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
