import CPUControl
import Foundation
import Synchronization

/// Persistent worker threads for `ThreadPool`.
///
/// A job is published by bumping `generation`; workers spin briefly waiting for the next one
/// (a training step issues about ten short jobs, too short for a sleep/wake round trip each),
/// then yield, then park on a condition variable. Parts are claimed from a shared counter, so
/// the caller does whatever the workers have not reached.
///
/// The job is a closure that must not outlive `run`. A worker announces itself (`active += 1`)
/// and only then reads the job's fields, and only if its job is still the latest and unsealed;
/// the caller, once every part is done, seals the job and waits until no worker is active.
/// Both sides use sequentially consistent order, so either the worker sees the seal (or a newer
/// generation) and backs off, or the caller sees the worker and waits — and it never waits for
/// a worker that has not woken up. Not reentrant: one job at a time.
final class WorkerTeam: @unchecked Sendable {
    private let generation = Atomic<Int>(0)
    private let sealed = Atomic<Int>(0)
    private let active = Atomic<Int>(0)
    private let nextPart = Atomic<Int>(0)
    private let unfinished = Atomic<Int>(0)
    private let parked = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let lock = NSCondition()
    // Written by the caller before `generation` is bumped, read by workers after they see it.
    private var parts = 0
    private var job: ((Int) -> Void)?

    /// An idle worker spins with PAUSE this many times (≈ 10–50 µs), then yields the core up to
    /// `yieldsBeforeParking` times (so an oversubscribed machine still makes progress), then parks.
    private let pausesBeforeYielding = 1_000
    private let yieldsBeforeParking = 200

    /// `cpus`: worker k is bound to cpus[k] (nil: the OS places them).
    init(workers: Int, cpus: [Int32]? = nil) {
        for k in 0..<workers {
            let cpu = cpus?[k] ?? -1
            let thread = Thread { [self] in
                if cpu >= 0 { var one = cpu; _ = sprig_bind_thread(&one, 1) }
                workerLoop()
            }
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
            let published = generation.add(1, ordering: .sequentiallyConsistent).newValue
            if parked.load(ordering: .sequentiallyConsistent) > 0 {
                lock.lock(); lock.broadcast(); lock.unlock()
            }
            takeParts()
            wait { self.unfinished.load(ordering: .acquiring) > 0 }
            sealed.store(published, ordering: .sequentiallyConsistent)
            wait { self.active.load(ordering: .sequentiallyConsistent) > 0 }
            job = nil
        }
    }

    /// Ends the worker threads (they exit when they next look for work).
    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        lock.lock(); lock.broadcast(); lock.unlock()
    }

    /// Spins (then yields) while `condition` holds.
    @inline(__always)
    private func wait(while condition: () -> Bool) {
        var spins = 0
        while condition() {
            spins += 1
            if spins < pausesBeforeYielding { sprig_spin_pause() } else { sched_yield() }
        }
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
        var seen = 0   // the team's first generation: a job published before this thread started is still seen
        while true {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen {
                spins += 1
                if spins < pausesBeforeYielding + yieldsBeforeParking {
                    if spins < pausesBeforeYielding { sprig_spin_pause() } else { sched_yield() }
                } else {
                    lock.lock()
                    parked.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { lock.wait() }
                    parked.subtract(1, ordering: .sequentiallyConsistent)
                    lock.unlock()
                }
                current = generation.load(ordering: .acquiring)
            }
            seen = current
            if stopping.load(ordering: .acquiring) { return }
            active.add(1, ordering: .sequentiallyConsistent)
            // Help only with the latest job, and only while it is unsealed: a worker delayed
            // after reading `current` may find later jobs published (or being written) since.
            if generation.load(ordering: .sequentiallyConsistent) == current
                && sealed.load(ordering: .sequentiallyConsistent) != current {
                takeParts()
            }
            active.subtract(1, ordering: .sequentiallyConsistent)
        }
    }
}
