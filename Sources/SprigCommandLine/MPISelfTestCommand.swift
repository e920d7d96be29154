import ArgumentParser
import Foundation
import Sprig

/// `sprig mpi-selftest` (hidden): checks every collective of the communicator against values
/// each rank can compute on its own, e.g. Σ_r (r+1)·v = v·P(P+1)/2. Run under mpirun.
struct MPISelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mpi-selftest", abstract: "Check the MPI collectives.",
                                                    shouldDisplay: false)

    @Option(parsing: .unconditional, help: "Floats per allreduce.")
    var count = 1_000_003

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count \(count) is not positive") }
        var budget = MemoryBudget("--count \(count)")
        do {
            try budget.add(product: [count, 2 * 4])
            try budget.check()
        } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        try withCommunicator { c in
            let p = c.size, r = c.rank
            let triangle = Float(p * (p + 1) / 2)
            var problems: [String] = []

            var floats = (0..<count).map { Float($0 % 97) * Float(r + 1) }
            try floats.withUnsafeMutableBufferPointer { try c.allreduceSum($0) }
            if let i = floats.indices.first(where: { floats[$0] != Float($0 % 97) * triangle }) {
                problems.append("allreduce: element \(i) is \(floats[i]), expected \(Float(i % 97) * triangle)")
            }

            var started = (0..<count).map { Float($0 % 89) * Float(r + 1) }
            try started.withUnsafeMutableBufferPointer { buffer in
                let pending = try c.startAllreduceSum(buffer)
                try c.wait(pending)
            }
            if let i = started.indices.first(where: { started[$0] != Float($0 % 89) * triangle }) {
                problems.append("non-blocking allreduce: element \(i) is \(started[i])")
            }

            var doubles = [Double(r), Double(r + 1) * 0.5]
            try doubles.withUnsafeMutableBufferPointer { try c.allreduceMax($0) }
            if doubles != [Double(p - 1), Double(p) * 0.5] { problems.append("allreduce max: \(doubles)") }

            var bytes = r == 0 ? (0..<100_001).map { UInt8($0 % 251) } : [UInt8](repeating: 0, count: 100_001)
            try c.broadcast(&bytes, root: 0)
            if bytes != (0..<100_001).map({ UInt8($0 % 251) }) { problems.append("broadcast from rank 0 differs") }
            let text = try c.broadcastBytes(r == p - 1 ? Array("from the last rank".utf8) : [], root: p - 1)
            if text != Array("from the last rank".utf8) { problems.append("broadcast of bytes from rank \(p - 1) differs") }

            let gathered = try c.allGather(UInt64(r * 1000 + 7))
            if gathered != (0..<p).map({ UInt64($0 * 1000 + 7) }) { problems.append("allgather: \(gathered)") }
            try c.barrier()

            guard problems.isEmpty else { throw SprigError.invalidArgument("rank \(r): " + problems.joined(separator: "; ")) }
            if c.isRoot { print("mpi-selftest: \(p) ranks: allreduce, non-blocking allreduce, max, broadcast, allgather agree") }
        }
    }
}
