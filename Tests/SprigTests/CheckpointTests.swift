import Foundation
import XCTest
@testable import Sprig

final class CheckpointTests: XCTestCase {
    func sample() throws -> Checkpoint {
        let configuration = NetworkConfiguration(layerSizes: [9, 7, 3], densities: [0.4, 1], hiddenActivation: .leakyReLU(0.1), seed: 8)
        let network = try Network(configuration)
        return Checkpoint(network: network.configuration,
                          training: TrainingConfiguration(epochs: 4, batchSize: 5, schedule: .multistep(milestones: [2, 3], gamma: 0.1)),
                          epoch: 1, step: 3, patterns: network.linearLayers.map(\.sparsity),
                          values: network.parameters.values.array, optimizerState: [Checkpoint.State(name: "velocity", values: randomFloats(network.parameters.count, seed: 2))])
    }

    func testRoundTrip() throws {
        let checkpoint = try sample()
        let decoded = try CheckpointFile.decode(try CheckpointFile.encode(checkpoint), path: "x")
        XCTAssertEqual(decoded, checkpoint)
    }

    func testEveryKindOfDamageIsRefusedWithItsReason() throws {
        let bytes = try CheckpointFile.encode(try sample())
        func reason(_ damaged: [UInt8]) -> String {
            do { _ = try CheckpointFile.decode(damaged, path: "ck.sprig"); return "accepted" } catch { return "\(error)" }
        }
        XCTAssertTrue(reason(Array(bytes.prefix(bytes.count - 1))).contains("truncated"))
        XCTAssertTrue(reason(Array(bytes.prefix(10))).contains("truncated"))
        XCTAssertTrue(reason(bytes + [0]).contains("end marker"))
        var magic = bytes; magic[0] = 0x58
        XCTAssertTrue(reason(magic).contains("magic"))
        var version = bytes; version[8] = 9
        XCTAssertTrue(reason(version).contains("version 9"))
        for position in [bytes.count / 3, bytes.count / 2, bytes.count - 12] {
            var flipped = bytes; flipped[position] ^= 1
            XCTAssertTrue(reason(flipped).contains("checksum mismatch"), "byte \(position): \(reason(flipped))")
        }
        XCTAssertTrue(reason(bytes).contains("accepted"))
    }

    func testWriteKeepsTheNewestTwoAndLeavesNoTemporaryFiles() throws {
        let dir = try TestFiles.makeDirectory(self)
        var checkpoint = try sample()
        for epoch in 0..<4 {
            checkpoint.epoch = epoch
            try CheckpointFile.write(checkpoint, directory: dir)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        XCTAssertEqual(names, ["checkpoint-e000002-s00000003.sprig", "checkpoint-e000003-s00000003.sprig"])
        XCTAssertEqual(try CheckpointFile.newestValid(in: dir).checkpoint.epoch, 3)
    }
}
