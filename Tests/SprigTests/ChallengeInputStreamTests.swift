import Foundation
import XCTest
@testable import Sprig

/// Reading challenge inputs a batch at a time, split over ranks, in pieces that cut lines
/// anywhere; and the inputs generated from an image data set.
final class ChallengeInputStreamTests: XCTestCase {
    /// Images 1, 2, 4, 5, 7 have pixels (3 and 6 none); pixels of image 4 out of order.
    let text = "1\t1\t1\n1\t3\t0.5\n2\t2\t1\n4\t4\t1\n4\t1\t2\n5\t2\t1\n7\t3\t1\n7\t4\t1"

    func testBatchesPerRankCoverEveryImageOnce() throws {
        let dir = try TestFiles.makeDirectory(self)
        try text.write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
        // Expected, written out by hand: 0-based image → (pixel, value) pairs.
        let expected: [Int: [(Int32, Float)]] = [0: [(0, 1), (2, 0.5)], 1: [(1, 1)], 2: [], 3: [(0, 2), (3, 1)],
                                                 4: [(1, 1)], 5: [], 6: [(2, 1), (3, 1)]]
        for pieceSize in [1, 5, 1 << 20] {
            // Images without lines (2 and 5, 0-based) are in no batch.
            for (rank, batches) in [(0, [[0, 4], [6]]), (1, [[1, 3]])] {
                let stream = try ChallengeInputStream(path: "\(dir)/in.tsv", neurons: 4, rank: rank, ranks: 2, pieceSize: pieceSize)
                var seen: [[Int]] = []
                while let batch = try stream.next(capacity: 2) {
                    seen.append(batch.ids)
                    for (k, id) in batch.ids.enumerated() {
                        let rows = batch.offsets[k]..<batch.offsets[k + 1]
                        XCTAssertEqual(rows.map { batch.pixels[$0] }, expected[id]!.map(\.0), "image \(id)")
                        XCTAssertEqual(rows.map { batch.values[$0] }, expected[id]!.map(\.1), "image \(id)")
                    }
                }
                XCTAssertEqual(seen, batches, "rank \(rank), pieces of \(pieceSize)")
                XCTAssertEqual(stream.imageCount, 7)
            }
        }
        // One rank, one batch: the five images with lines.
        XCTAssertEqual(try ChallengeFiles.readInputs(path: "\(dir)/in.tsv", neurons: 4).ids, [0, 1, 3, 4, 6])
        XCTAssertEqual(try ChallengeFiles.readInputs(path: "\(dir)/in.tsv", neurons: 4, count: 9).ids, [0, 1, 3, 4, 6])
    }

    func testErrorsNameTheLineAcrossPieces() throws {
        let dir = try TestFiles.makeDirectory(self)
        func error(_ text: String, pieceSize: Int = 3) -> String {
            try? text.write(toFile: "\(dir)/in.tsv", atomically: true, encoding: .utf8)
            do {
                let stream = try ChallengeInputStream(path: "\(dir)/in.tsv", neurons: 4, pieceSize: pieceSize)
                while try stream.next(capacity: 2) != nil {}
                return "accepted"
            } catch { return "\(error)" }
        }
        let good = (1...50).map { "\($0)\t\($0 % 4 + 1)\t1\n" }.joined()
        XCTAssertEqual(error(good), "accepted")
        XCTAssertTrue(error(good + "51\t5\t1\n").contains("in.tsv: line 51: pixel 5 is outside 1...4"), error(good + "51\t5\t1\n"))
        XCTAssertTrue(error(good + "51\t2\t1\n52\t2").contains("line 52: expected a tab"))
        XCTAssertTrue(error(good + "49\t1\t1\n").contains("line 51: image 49 after image 50"), error(good + "49\t1\t1\n"))
        XCTAssertTrue(error("1\t2\t1\n1\t2\t1\n").contains("line 2: pixel 2 of image 1 appears twice (also line 1)"),
                      error("1\t2\t1\n1\t2\t1\n"))
        // Out of pixel order, the duplicate is found after sorting: both lines are named.
        XCTAssertTrue(error("1\t1\t1\n2\t2\t1\n2\t3\t1\n2\t2\t1\n").contains("line 4: pixel 2 of image 2 appears twice (also line 2)"),
                      error("1\t1\t1\n2\t2\t1\n2\t3\t1\n2\t2\t1\n"))
        XCTAssertTrue(error("0\t1\t1\n").contains("line 1: image index 0 is not positive"))
        XCTAssertEqual(error(""), "accepted")
    }

    /// Generated inputs against a direct reading of the images: at the source size (28) a pixel
    /// is kept iff its value exceeds half of full scale; at half size (14), an image made of
    /// constant 2×2 blocks keeps the blocks above half. Column-major: (r, c) → c·side + r.
    func testGeneratedInputsResizeThresholdAndFlattenColumnMajor() throws {
        var g = RandomGenerator(seed: 9)
        var bytes = [UInt8](repeating: 0, count: 3 * 784)
        for i in 0..<784 { bytes[i] = UInt8(g.below(256)) }                                  // image 0: noise
        for i in 784..<(3 * 784) { let r = (i % 784) / 28, c = i % 28; bytes[i] = UInt8((r / 2 * 37 + c / 2 * 91 + i / 784 * 11) % 256) }
        let data = Dataset(name: "blocks", featureCount: 784, classCount: 1, bytes: bytes,
                           values: (0..<256).map { Float($0) / 255 }, labels: [0, 0, 0])
        let full = try ChallengeImages(from: data, side: 28, count: 1)
        let expectedFull = (0..<784).compactMap { p -> Int32? in let (c, r) = (p / 28, p % 28); return bytes[r * 28 + c] > 127 ? Int32(p) : nil }
        XCTAssertEqual(full.pixels(ofImage: 0), expectedFull)
        XCTAssertFalse(expectedFull.isEmpty)
        // Another threshold keeps the pixels above it (0.9 of 255: above 229.5).
        let high = try ChallengeImages(from: data, side: 28, count: 1, threshold: 0.9)
        let expectedHigh = (0..<784).compactMap { p -> Int32? in let (c, r) = (p / 28, p % 28); return bytes[r * 28 + c] > 229 ? Int32(p) : nil }
        XCTAssertEqual(high.pixels(ofImage: 0), expectedHigh)
        XCTAssertTrue(!expectedHigh.isEmpty && expectedHigh.count < expectedFull.count)
        for bad in [-0.1, 1, .nan, .infinity] {
            XCTAssertThrowsError(try ChallengeImages(from: data, side: 28, count: 1, threshold: bad), "threshold \(bad)")
        }
        let half = try ChallengeImages(from: data, side: 14, count: 3)
        for m in 1...2 {
            let expected = (0..<196).compactMap { p -> Int32? in
                let (c, r) = (p / 14, p % 14)
                return bytes[m * 784 + 2 * r * 28 + 2 * c] > 127 ? Int32(p) : nil
            }
            XCTAssertEqual(half.pixels(ofImage: m), expected, "image \(m)")
        }
        // Written in the challenge's format and read back: the same inputs.
        let dir = try TestFiles.makeDirectory(self)
        let written = try half.writeTSV(to: "\(dir)/images.tsv", pool: ThreadPool(threads: 2))
        let read = try ChallengeFiles.readInputs(path: "\(dir)/images.tsv", neurons: 196)
        let all = half.inputs()
        XCTAssertEqual(written, all.pixels.count)
        XCTAssertEqual(read.ids, [0, 1, 2]); XCTAssertEqual(read.offsets, all.offsets); XCTAssertEqual(read.pixels, all.pixels)
        XCTAssertTrue(read.values.allSatisfy { $0 == 1 })
        let firstLine = try String(contentsOfFile: "\(dir)/images.tsv", encoding: .utf8).split(separator: "\n")[0]
        XCTAssertEqual(firstLine, "1\t\(all.pixels[0] + 1)\t1")
    }

    /// A write that fails half way leaves the old file as it was and no temporary file.
    func testAtomicWriteKeepsTheOldFileOnFailure() throws {
        let dir = try TestFiles.makeDirectory(self)
        try AtomicFile.write("old\n", to: "\(dir)/f.tsv")
        struct Stop: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: "\(dir)/f.tsv") { write in try write(Array("new".utf8)); throw Stop() })
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/f.tsv", encoding: .utf8), "old\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["f.tsv"])
        try AtomicFile.write(to: "\(dir)/f.tsv") { write in try write(Array("ne".utf8)); try write(Array("w\n".utf8)) }
        XCTAssertEqual(try String(contentsOfFile: "\(dir)/f.tsv", encoding: .utf8), "new\n")
    }
}
