import ArgumentParser
import Foundation
import Sprig
import SprigArguments

/// `sprig mpi-bench` (hidden): times SUM-allreduces of float buffers of several sizes and
/// prints one JSON line per size (rank 0): {"bytes", "ranks", "seconds"} with the median over
/// repetitions of the slowest rank's time. The data for the α-β model of cluster/scaling.sh.
struct MPIBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "mpi-bench", abstract: "Time allreduces by buffer size.",
                                                    shouldDisplay: false)

    @Option(parsing: .unconditional, help: "Buffer sizes in bytes, comma-separated.")
    var bytes = "4,64,1024,16384,131072,1048576,4194304,16777216"
    @Option(parsing: .unconditional, help: "Repetitions per size.")
    var repetitions = 20

    func run() throws {
        let sizes = try parseList(bytes, flag: "--bytes") { Int($0) }
        if let bad = sizes.first(where: { $0 < 4 }) { throw SprigError.invalidArgument("--bytes: \(bad) is below 4 bytes") }
        guard repetitions >= 1 else { throw SprigError.invalidArgument("--repetitions \(repetitions) is not positive") }
        var budget = MemoryBudget("the largest --bytes buffer")
        try budget.add(sizes.max() ?? 0, elementSize: 1)
        try budget.check()
        try withCommunicator { c in
            for size in sizes {
                var buffer = [Float](repeating: 1, count: size / 4)
                var times: [Double] = []
                try c.barrier()
                for _ in 0..<(repetitions + 2) {
                    let clock = Stopwatch()
                    try buffer.withUnsafeMutableBufferPointer { try c.allreduceSum($0) }
                    var elapsed = [clock.seconds]
                    try elapsed.withUnsafeMutableBufferPointer { try c.allreduceMax($0) }
                    times.append(elapsed[0])
                }
                let median = times.dropFirst(2).sorted()[repetitions / 2]
                if c.isRoot { print("{\"bytes\": \(size), \"ranks\": \(c.size), \"seconds\": \(median)}") }
            }
        }
    }
}
