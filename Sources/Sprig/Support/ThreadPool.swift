import Dispatch
import CPUControl

/// Runs `parts` pieces of work on up to `threads` threads and waits for all of them.
/// Every worker flushes subnormals to zero first (MXCSR is per thread).
public struct ThreadPool: Sendable {
    public let threads: Int

    public init(threads: Int) {
        precondition(threads >= 1)
        self.threads = threads
    }

    public static let single = ThreadPool(threads: 1)

    /// Calls `body(part)` for part in 0..<parts, concurrently when more than one thread.
    @inline(__always)
    public func run(parts: Int, _ body: (Int) -> Void) {
        if parts <= 1 || threads == 1 {
            for part in 0..<parts { body(part) }
            return
        }
        withoutActuallyEscaping(body) { body in
            DispatchQueue.concurrentPerform(iterations: parts) { part in
                sprig_flush_subnormals_to_zero()
                body(part)
            }
        }
    }

    /// Splits 0..<count into `threads` contiguous ranges and runs `body` on each.
    @inline(__always)
    public func forEachRange(_ count: Int, minimumPerThread: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = Swift.max(1, Swift.min(threads, count / Swift.max(minimumPerThread, 1)))
        run(parts: parts) { part in
            body((count * part / parts)..<(count * (part + 1) / parts))
        }
    }
}
