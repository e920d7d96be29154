import Foundation
import XCTest
@testable import Sprig

/// Every rank of a data-parallel job must hold bitwise the same parameters after every update
/// (DESIGN.md, "Topology that changes during training"): `--check-replicas 1` compares a hash
/// of every rank's values and velocity after every step, under real `mpirun` with 2, 3 and 4
/// ranks, both gradient exchanges, arenas of the sizes that make Open MPI pick each of its
/// allreduce algorithms, and each algorithm forced by MCA parameter; and the check itself
/// must catch a difference of one bit.
final class ReplicaIdentityTests: XCTestCase {
    var binary: String { CommandLineTests.binary }

    /// A synthetic job of `steps` steps in batches of 10 with the given layers, checked after every step.
    func job(layers: String, densities: String, steps: Int, exchange: String) -> [String] {
        ["train", "--dataset", "synthetic", "--layer-sizes", layers, "--densities", densities,
         "--train-size", "\(10 * steps)", "--test-size", "20", "--batch-size", "10", "--epochs", "1", "--seed", "5",
         "--threads", "1", "--learning-rate", "0.05", "--allreduce", exchange, "--check-replicas", "1"]
    }


    /// Asserts that the run passed every one of its `steps` checks: exit 0 and rank 0's summary line.
    func assertIdentical(_ result: TestFiles.ProcessResult, ranks: Int, steps: Int, _ context: String,
                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 0, "\(context): \(result.errors)", file: file, line: line)
        let summary = "replicas: all \(ranks) ranks held bitwise-identical values and optimizer state at all \(steps) checks (every 1 steps)"
        XCTAssertTrue(result.output.contains(summary) || result.errors.contains(summary),
                      "\(context): no '\(summary)' in\n\(result.output)\n\(result.errors)", file: file, line: line)
    }

    /// The arenas (in bytes: 4 × parameters) that select Open MPI 4.1.4's allreduce algorithms
    /// (coll_tuned_decision_fixed.c, commutative op): 30,24,16,5 ≈ 3 KB (recursive doubling
    /// for 2–7 ranks), 64,300,200,10 at 0.1 ≈ 42 KB (ring for 2–3 ranks, Rabenseifner for 4),
    /// at 0.5 ≈ 168 KB (segmented ring for 2–3 ranks), 784,1000,1000,10 at 0.1 ≈ 760 KB
    /// (Rabenseifner). The per-layer exchange's in-place MPI_Iallreduce is libnbc's binomial
    /// reduce + broadcast at every size.
    static let arenas: [(layers: String, densities: String)] = [
        ("30,24,16,5", "0.4,1,0.6"), ("64,300,200,10", "0.1,0.1,1"), ("64,300,200,10", "0.5,0.5,1"),
        ("784,1000,1000,10", "0.1,0.1,1"),
    ]

    func testRanksHoldBitwiseIdenticalParametersAfterEveryStep() throws {
        for ranks in 2...4 {
            for exchange in ["fused", "per-layer"] {
                for (index, arena) in Self.arenas.enumerated() {
                    let steps = index == Self.arenas.count - 1 ? 60 : 300
                    let context = "\(ranks) ranks, \(exchange), \(arena.layers) at \(arena.densities)"
                    let result = try mpirun(ranks, job(layers: arena.layers, densities: arena.densities, steps: steps, exchange: exchange))
                    assertIdentical(result, ranks: ranks, steps: steps, context)
                }
            }
        }
    }

    /// Whichever algorithm Open MPI is told to use — every blocking allreduce of coll/tuned
    /// (1 basic linear, 2 nonoverlapping, 3 recursive doubling, 4 ring, 5 segmented ring,
    /// 6 Rabenseifner) and every non-blocking one of coll/libnbc (1 ring, 2 binomial,
    /// 3 reduce-scatter + allgather, 4 recursive doubling) — 3 ranks (not a power of two) stay
    /// bitwise identical. The algorithms really were used: they sum in different orders, so
    /// their trained weights are not all the same bits.
    func testEveryOpenMPIAllreduceAlgorithmKeepsRanksIdentical() throws {
        let version = try TestFiles.run(["ompi_info", "--version"])
        guard version.status == 0, version.output.contains("Open MPI v4.") else {
            throw TestFiles.MissingRequirement(description: "these MCA algorithm numbers are Open MPI 4's (ompi_info says: \(version.output)\(version.errors))")
        }
        let dir = try TestFiles.makeDirectory(self)
        let arena = Self.arenas[2]
        let configuration = NetworkConfiguration(layerSizes: [64, 300, 200, 10], densities: [1, 1, 1])
        for (component, parameters, exchange, algorithms) in [
            ("tuned", ["coll_tuned_use_dynamic_rules", "1", "coll_tuned_allreduce_algorithm"], "fused", 1...6),
            ("libnbc", ["coll_libnbc_iallreduce_algorithm"], "per-layer", 1...4)] {
            var results: Set<[UInt32]> = []
            for algorithm in algorithms {
                let values = parameters + ["\(algorithm)"]
                let mca = stride(from: 0, to: values.count, by: 2).flatMap { ["--mca", values[$0], values[$0 + 1]] }
                let weights = "\(dir)/\(component)-\(algorithm).npz"
                let result = try mpirun(3, job(layers: arena.layers, densities: arena.densities, steps: 100, exchange: exchange)
                                        + ["--save-weights", weights], mca: mca)
                assertIdentical(result, ranks: 3, steps: 100, "\(parameters.last!) \(algorithm)")
                guard result.status == 0 else { continue }
                results.insert(try WeightsFile.load(path: weights, configuration: configuration).parameters.values.array.map(\.bitPattern))
            }
            XCTAssertGreaterThanOrEqual(results.count, 2, "every \(component) algorithm gave the same bits: was the MCA parameter ignored?")
        }
    }

    /// A job whose ranks do come apart (the test-only variable moves one value of one rank by
    /// one unit in the last place) is stopped by the check, on every rank, at the first check
    /// after the difference, with one error line naming the rank and the step; without the
    /// check the same job runs to its end.
    func testCheckStopsAJobWhoseRanksDiffer() throws {
        let dir = try TestFiles.makeDirectory(self)
        let arena = Self.arenas[0]
        let perturb = ["-x", "\(TrainingRun.perturbReplicaVariable)=2:5"]
        for exchange in ["fused", "per-layer"] {
            for (every, detected) in [(1, 5), (4, 8)] {
                var arguments = job(layers: arena.layers, densities: arena.densities, steps: 30, exchange: exchange)
                arguments[arguments.count - 1] = "\(every)"
                let weights = "\(dir)/\(exchange)-\(every).npz"
                let result = try mpirun(3, arguments + ["--save-weights", weights], mca: perturb, timeout: 60)
                // mpirun adds its own notice of the non-zero exit; sprig's is one line, printed once.
                let context = "\(exchange), every \(every): \(result.errors)"
                XCTAssertEqual(result.status, 1, context)
                let errors = result.errors.split(separator: "\n").filter { $0.hasPrefix("error:") }
                XCTAssertEqual(errors.count, 1, context)
                XCTAssertTrue(errors.first?.hasPrefix("error: rank 2's parameters differ from rank 0's after step \(detected) (epoch 1; ") ?? false,
                              context)
                XCTAssertFalse(FileManager.default.fileExists(atPath: weights), "weights were written from diverged ranks")
            }
            let unchecked = job(layers: arena.layers, densities: arena.densities, steps: 30, exchange: exchange).dropLast(2)
            let result = try mpirun(3, Array(unchecked), mca: perturb, timeout: 60)
            XCTAssertEqual(result.status, 0, "without --check-replicas: \(result.errors)")
        }
    }

    /// A communicator of two ranks as rank 0 sees it: the other rank's hash is given.
    final class TwoRanks: Communicator {
        var otherHash: UInt64 = 0
        var rank: Int { 0 }
        var size: Int { 2 }
        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
        func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
        func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
        func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingCollective {
            PendingCollective(request: nil)
        }
        func wait(_ pending: PendingCollective) throws {}
        func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
        func allGather(_ value: UInt64) throws -> [UInt64] { [value, otherHash] }
        func barrier() throws {}
        func abort(code: Int32) -> Never { fatalError("abort \(code)") }
    }

    /// rank 0 holds (values, velocity); rank 1 holds (otherValues, otherVelocity).
    func verify(_ values: [Float], _ velocity: [Float], against otherValues: [Float], _ otherVelocity: [Float]) throws {
        let communicator = TwoRanks()
        communicator.otherHash = otherValues.withUnsafeBufferPointer { v in
            otherVelocity.withUnsafeBufferPointer { ReplicaCheck.hash([v, $0]) }
        }
        try values.withUnsafeBufferPointer { v in
            try velocity.withUnsafeBufferPointer {
                try ReplicaCheck.verify([v, $0], step: 7, epoch: 2, communicator: communicator)
            }
        }
    }

    func assertDetected(_ body: @autoclosure () throws -> Void, _ context: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("\(context): the difference went unnoticed", file: file, line: line)
        } catch SprigError.failed(let text) {
            XCTAssertTrue(text.hasPrefix("rank 1's parameters differ from rank 0's after step 7 (epoch 2; "), text, file: file, line: line)
        } catch {
            XCTFail("\(context): expected SprigError.failed, got \(error)", file: file, line: line)
        }
    }

    func testCheckCatchesOneBitOfDifference() throws {
        var g = RandomGenerator(seed: 9, stream: 0)
        let values = (0..<10_007).map { _ in g.nextUnitFloat() - 0.5 }
        let velocity = (0..<10_007).map { _ in (g.nextUnitFloat() - 0.5) * 1e-3 }
        XCTAssertNoThrow(try verify(values, velocity, against: values, velocity), "identical replicas must pass")
        for index in [0, 5_000, 10_006] {
            var nudged = values
            nudged[index] = nudged[index].nextUp   // one unit in the last place
            assertDetected(try verify(values, velocity, against: nudged, velocity), "value \(index) one ulp up")
            var otherVelocity = velocity
            otherVelocity[index] = otherVelocity[index].nextDown
            assertDetected(try verify(values, velocity, against: values, otherVelocity), "velocity \(index) one ulp down")
        }
        var signed = values
        signed[3] = 0
        var negative = signed
        negative[3] = -0.0   // equal as numbers, not as bits
        assertDetected(try verify(signed, velocity, against: negative, velocity), "+0 against -0")
        // One rank alone has nothing to compare.
        XCTAssertNoThrow(try values.withUnsafeBufferPointer { v in
            try velocity.withUnsafeBufferPointer {
                try ReplicaCheck.verify([v, $0], step: 1, epoch: 1, communicator: SingleProcessCommunicator())
            }
        })
    }

    /// The word-wise hash the check uses sees every bit: flipping any one bit of a buffer whose
    /// length is not a multiple of 8 (whole words and a tail) changes it.
    func testWordHashSeesEveryBit() {
        var bytes = (0..<37).map { UInt8(truncatingIfNeeded: $0 &* 73 &+ 11) }
        func hash(_ bytes: [UInt8]) -> UInt64 {
            var hasher = StableHasher()
            bytes.withUnsafeBytes { hasher.combine(words: $0) }
            return hasher.value
        }
        let reference = hash(bytes)
        var seen: Set<UInt64> = [reference]
        for index in bytes.indices {
            for bit in 0..<8 {
                bytes[index] ^= 1 << bit
                seen.insert(hash(bytes))
                bytes[index] ^= 1 << bit
            }
        }
        XCTAssertEqual(seen.count, 1 + 37 * 8, "some one-bit changes gave the same hash")
        XCTAssertEqual(hash(bytes), reference)
    }

    func testCheckReplicasFlag() throws {
        let base = ["train", "--dataset", "synthetic", "--layer-sizes", "20,8,3", "--train-size", "50", "--test-size", "10",
                    "--batch-size", "10", "--epochs", "1", "--threads", "1"]
        for bad in ["0", "-3", "x"] {
            let result = try CommandLineTests.sprig(base + ["--check-replicas", bad])
            assertOneErrorLine(result, status: 64, mentions: ["--check-replicas"], context: bad)
        }
        XCTAssertThrowsError(try ReplicaCheck(every: 0))
        // One process: nothing to compare, and it says so.
        let single = try CommandLineTests.sprig(base + ["--check-replicas", "2"])
        XCTAssertEqual(single.status, 0, single.errors)
        XCTAssertTrue((single.output + single.errors).contains("replicas: one process, nothing to compare"), single.output + single.errors)
    }
}
