import CPUControl
import Foundation
import Synchronization

/// Persistent worker threads for `ThreadPool`: a job is published by bumping `generation`;
/// workers spin briefly waiting for the next one (a training step issues about ten short jobs,
/// too short for a sleep/wake round trip each), then park on a condition variable. The caller
/// runs parts too and spins until all parts are done. Not reentrant: one job at a time.
final class WorkerTeam: @unchecked Sendable {
    private let generation = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let parked = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let lock = NSCondition()
    // Written by the caller before `generation` is bumped (release), read after it (acquire).
    private var parts = 0
    private var job: ((Int) -> Void)?

    /// How long an idle worker spins before parking (≈ 100 µs).
    private let spinsBeforeParking = 20_000

    init(workers: Int) {
        for _ in 0..<workers {
            let thread = Thread { [self] in workerLoop() }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs body(0..<parts) across the caller and the workers; returns when all are done.
    func run(parts: Int, _ body: (Int) -> Void) {
        withoutActuallyEscaping(body) { body in
            job = body
            self.parts = parts
            nextPart.store(0, ordering: .relaxed)
            unfinished.store(parts, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            if parked.load(ordering: .sequentiallyConsistent) > 0 {
                lock.lock(); lock.broadcast(); lock.unlock()
            }
            takeParts()
            while unfinished.load(ordering: .acquiring) > 0 { sprig_spin_pause() }
            job = nil
        }
    }

    /// Ends the worker threads (they exit after their current wait).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        lock.lock(); lock.broadcast(); lock.unlock()
    }

    private func takeParts() {
        let body = job!, count = parts
        while true {
            let part = nextPart.wrappingAdd(1, ordering: .relaxed).oldValue
            guard part < count else { return }
            body(part)
            unfinished.subtract(1, ordering: .releasing)
        }
    }

    private func workerLoop() {
        sprig_flush_subnormals_to_zero()
        var seen = generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < spinsBeforeParking { sprig_spin_pause(); continue }
                lock.lock()
                parked.add(1, ordering: .sequentiallyConsistent)
                while generation.load(ordering: .sequentiallyConsistent) == seen { lock.wait() }
                parked.subtract(1, ordering: .sequentiallyConsistent)
                lock.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .acquiring) { return }
            takeParts()
        }
    }
}
