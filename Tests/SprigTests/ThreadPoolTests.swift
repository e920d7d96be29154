import Synchronization
import XCTest
@testable import Sprig

final class ThreadPoolTests: XCTestCase {
    /// Every part of every job runs exactly once, and `run` returns only after all have run,
    /// over many short jobs (the pattern of a training step) and several pool sizes.
    func testEveryPartRunsExactlyOnceAcrossManyJobs() {
        for threads in [2, 3, 4] {
            let pool = ThreadPool(threads: threads)
            let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: 64)
            defer { counts.deallocate() }
            for job in 0..<20_000 {
                let parts = 1 + job % 17
                counts.initialize(repeating: 0)
                pool.run(parts: parts) { part in counts[part] += 1 }
                for part in 0..<parts where counts[part] != 1 {
                    XCTFail("threads \(threads), job \(job): part \(part) ran \(counts[part]) times")
                    return
                }
                XCTAssertTrue(counts[parts...].allSatisfy { $0 == 0 })
            }
        }
    }

    /// A job published right after the pool is made (before its workers have started) and
    /// jobs after the workers have parked still complete.
    func testJobsRightAfterCreationAndAfterParking() {
        for _ in 0..<50 {
            let pool = ThreadPool(threads: 2)
            let done = Atomic<Int>(0)
            pool.run(parts: 8) { _ in done.add(1, ordering: .relaxed) }
            XCTAssertEqual(done.load(ordering: .relaxed), 8)
        }
        let pool = ThreadPool(threads: 2)
        for _ in 0..<3 {
            usleep(20_000)   // long enough for the worker to park
            let done = Atomic<Int>(0)
            pool.run(parts: 5) { _ in done.add(1, ordering: .relaxed) }
            XCTAssertEqual(done.load(ordering: .relaxed), 5)
        }
    }

    func testForEachRangeCoversEveryIndexOnce() {
        let pool = ThreadPool(threads: 3)
        for count in [0, 1, 2, 7, 100, 1001] {
            var seen = [Int](repeating: 0, count: count)
            seen.withUnsafeMutableBufferPointer { s in
                pool.forEachRange(count, minimumPerThread: 3) { range in for i in range { s[i] += 1 } }
            }
            XCTAssertEqual(seen, [Int](repeating: 1, count: count))
        }
    }
}
