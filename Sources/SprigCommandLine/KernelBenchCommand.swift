import ArgumentParser
import CBLAS
import Foundation
import Sprig
import SprigArguments

/// `sprig kernel-bench` (hidden): the roofline of the training kernels. For each square layer
/// W×W at density d and a batch of B examples it times the three CSR kernels of a training step
/// as the CPU backend runs them (forward SpMM with its ReLU epilogue, the transposed SpMM of the
/// input gradient, the SDDMM of the weight gradient with its activation derivative) and prints
/// one JSON line per kernel: GFLOP/s (2·nnz·B flops), the bytes each nonzero moves, where the
/// matrix it gathers rows from lives (L2, L3 or DRAM, by its size), and the bound that applies:
/// sgemm's rate, or the bandwidth of that level times the flops per byte. The machine's own
/// rates (sgemm and read bandwidths from L2, L3 and DRAM, on the same threads) come first.
/// bench/kernels.sh runs it and makes the table.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kernel-bench", abstract: "Time the training kernels against the machine's roofline.",
                                                    shouldDisplay: false)

    @Option(parsing: .unconditional, help: "Layer widths W (W×W layers), comma-separated.")
    var widths = "1024,4096,16384,65536,262144,1048576"
    @Option(parsing: .unconditional, help: "Densities, comma-separated.")
    var densities = "0.1,0.01,0.001"
    @Option(parsing: .unconditional, help: "Examples per batch.")
    var batch = 100
    @Option(parsing: .unconditional, help: "Threads (default: the cores).")
    var threads: Int?
    @Option(parsing: .unconditional, help: "Skip layers with more nonzeros than this.")
    var maxNonzeros = 70_000_000
    @Option(parsing: .unconditional, help: "Least time to spend timing each kernel, in seconds.")
    var seconds = 0.3

    func run() throws {
        let widthList = try parseList(widths, flag: "--widths") { Int($0) }
        let densityList = try parseList(densities, flag: "--densities") { Double($0) }
        let threadCount = threads ?? ProcessInfo.processInfo.activeProcessorCount
        guard batch >= 1, threadCount >= 1, seconds > 0, seconds.isFinite,
              widthList.allSatisfy({ $0 >= 1 && $0 <= Int(Int32.max) }),
              densityList.allSatisfy({ $0 > 0 && $0 <= 1 }) else {
            throw SprigError.invalidArgument("kernel-bench: --batch, --threads and --widths must be positive, --densities in (0, 1], --seconds positive")
        }
        let sgemm = MachineRates.sgemmRate(threads: threadCount)
        let pool = ThreadPool(threads: threadCount)
        let rates = MachineRates.measure(pool: pool, sgemm: sgemm)
        print(rates.json)
        let backend = CPUBackend(pool: pool)
        for width in widthList {
            for density in densityList {
                let nonzeros = Int((density * Double(width) * Double(width)).rounded())
                guard nonzeros <= maxNonzeros else {
                    print("{\"width\": \(width), \"density\": \(density), \"skipped\": \"\(nonzeros) nonzeros > --max-nonzeros \(maxNonzeros)\"}")
                    continue
                }
                var budget = MemoryBudget("the layer \(width)×\(width) at density \(density)")
                try budget.add(nonzeros, elementSize: 4 * 6)   // columns, values, gradient, transpose plan
                try budget.add(width, elementSize: 4 * batch * 4)
                try budget.check()
                try measure(width: width, density: density, nonzeros: nonzeros, backend: backend, rates: rates)
            }
        }
    }

    private func measure(width: Int, density: Double, nonzeros: Int, backend: CPUBackend, rates: MachineRates) throws {
        let start = Stopwatch()
        let pattern = try Self.evenRandomPattern(size: width, nonzeros: nonzeros, seed: 1)
        let operand = try backend.prepare(pattern, transpose: TransposePlan(of: pattern), kernel: .csr)
        let setup = start.seconds
        let values = FloatBuffer(count: nonzeros), gradient = FloatBuffer(count: nonzeros)
        let x = FloatBuffer(count: width * batch), z = FloatBuffer(count: width * batch)
        let y = FloatBuffer(count: width * batch), dy = FloatBuffer(count: width * batch)
        let bias = FloatBuffer(count: width), biasGradient = FloatBuffer(count: width)
        var g = RandomGenerator(seed: 2)
        for i in 0..<nonzeros { values.pointer[i] = g.nextUnitFloat() - 0.5 }
        for i in 0..<(width * batch) { x.pointer[i] = g.nextUnitFloat(); dy.pointer[i] = g.nextUnitFloat() - 0.5 }
        let b = batch
        let kernels: [(String, Int, () -> Void)] = [
            ("forward", 8, {
                backend.sparseForward(operand, values: values.pointer, bias: bias.pointer, input: x.pointer, preActivation: z.pointer,
                                      output: y.pointer, batch: b, activation: .relu) }),
            ("transposed", 12, {
                backend.sparseInputGradient(operand, values: values.pointer, outputGradient: dy.pointer, inputGradient: z.pointer, batch: b) }),
            ("sddmm", 8, {
                backend.sparseWeightGradient(operand, preActivation: y.pointer, activation: .identity, outputGradient: dy.pointer,
                                             biasGradient: biasGradient.pointer, input: x.pointer, weightGradient: gradient.pointer, batch: b) }),
        ]
        let gathered = width * batch * 4   // the matrix whose rows the kernel gathers (X or DZ)
        let level = rates.level(holding: gathered)
        for (name, indexBytes, kernel) in kernels {
            kernel()
            var times: [Double] = []
            let budget = Stopwatch()
            while times.count < 3 || budget.seconds < seconds {
                let clock = Stopwatch()
                kernel()
                times.append(clock.seconds)
            }
            times.sort()
            let median = times[times.count / 2]
            let flops = 2 * Double(nonzeros) * Double(batch)
            let gflops = flops / median / 1e9
            let bytesPerNonzero = Double(4 * batch + indexBytes)
            let bandwidthBound = level.bytesPerSecond * 2 * Double(batch) / bytesPerNonzero / 1e9
            let bound = min(rates.sgemmGFLOPS, bandwidthBound)
            let boundName = bound == rates.sgemmGFLOPS ? "sgemm" : "\(level.name) bandwidth"
            print("{\"kernel\": \"\(name)\", \"width\": \(width), \"density\": \(density), \"batch\": \(batch), \"nonzeros\": \(nonzeros), "
                  + "\"seconds\": \(median), \"gflops\": \(rounded(gflops)), \"bytes_per_nonzero\": \(Int(bytesPerNonzero)), "
                  + "\"gathered_from\": \"\(level.name)\", \"bound\": \"\(boundName)\", \"bound_gflops\": \(rounded(bound)), "
                  + "\"percent_of_bound\": \(rounded(100 * gflops / bound)), \"percent_of_sgemm\": \(rounded(100 * gflops / rates.sgemmGFLOPS)), "
                  + "\"setup_seconds\": \(rounded(setup))}")
            fflush(stdout)
        }
    }

    /// A W×W pattern whose rows hold ⌊nnz/W⌋ or ⌈nnz/W⌉ nonzeros at distinct uniform columns
    /// (Floyd's algorithm per row): as random as a layer's, in time ∝ nnz.
    static func evenRandomPattern(size: Int, nonzeros: Int, seed: UInt64) throws -> SparsityPattern {
        var g = RandomGenerator(seed: seed)
        var offsets = [0], columns: [Int32] = []
        offsets.reserveCapacity(size + 1)
        columns.reserveCapacity(nonzeros)
        var chosen = Set<Int32>()
        for r in 0..<size {
            let count = nonzeros / size + (r < nonzeros % size ? 1 : 0)
            chosen.removeAll(keepingCapacity: true)
            for j in (size - count)..<size {
                let t = Int32(g.below(j + 1))
                if !chosen.insert(t).inserted { chosen.insert(Int32(j)) }
            }
            columns.append(contentsOf: chosen.sorted())
            offsets.append(columns.count)
        }
        return try SparsityPattern(rows: size, columns: size, rowOffsets: offsets, columnIndices: columns)
    }
}

private func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
