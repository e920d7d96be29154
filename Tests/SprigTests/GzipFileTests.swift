import Foundation
import Sprig
import XCTest

/// `GzipFile.readAll` against files compressed by the system `gzip` tool.
final class GzipFileTests: XCTestCase {
    /// Bytes that compress somewhat but not trivially (runs of three, with random bytes mixed in).
    private func sampleBytes(count: Int) -> [UInt8] {
        var random = RandomGenerator(seed: 7)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBufferPointer { bytes in
            for i in 0 ..< count {
                bytes[i] = i % 251 == 0 ? UInt8(truncatingIfNeeded: random.next() >> 56) : UInt8(truncatingIfNeeded: i / 3)
            }
        }
        return bytes
    }

    func testReadsPlainFileUnchanged() throws {
        let directory = try TestFiles.makeDirectory(self)
        let path = directory + "/plain.bin"
        let bytes = sampleBytes(count: 4_500_000)  // longer than one 4 MiB read
        try TestFiles.write(bytes, to: path)
        XCTAssertEqual(try GzipFile.readAll(path: path), bytes)
    }

    func testReadsFileCompressedByGzipTool() throws {
        let directory = try TestFiles.makeDirectory(self)
        let path = directory + "/data.tsv"
        let bytes = sampleBytes(count: 4_500_000)
        try TestFiles.write(bytes, to: path)
        let compressed = try TestFiles.gzip(path)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: compressed)[.size] as! Int, bytes.count)
        XCTAssertEqual(try GzipFile.readAll(path: compressed), bytes)
    }

    func testReadsConcatenatedGzipMembers() throws {
        let directory = try TestFiles.makeDirectory(self)
        let first: [UInt8] = Array("1\t2\t0.5\n".utf8), second: [UInt8] = Array("3\t4\t-1\n".utf8)
        try TestFiles.write(first, to: directory + "/a")
        try TestFiles.write(second, to: directory + "/b")
        let a = try Data(contentsOf: URL(fileURLWithPath: TestFiles.gzip(directory + "/a")))
        let b = try Data(contentsOf: URL(fileURLWithPath: TestFiles.gzip(directory + "/b")))
        try (a + b).write(to: URL(fileURLWithPath: directory + "/both.gz"))
        XCTAssertEqual(try GzipFile.readAll(path: directory + "/both.gz"), first + second)
    }

    func testEmptyFileGivesNoBytes() throws {
        let directory = try TestFiles.makeDirectory(self)
        try TestFiles.write([], to: directory + "/empty")
        XCTAssertEqual(try GzipFile.readAll(path: directory + "/empty"), [])
    }

    func testTruncatedGzipIsFormatError() throws {
        let directory = try TestFiles.makeDirectory(self)
        let path = directory + "/data.bin"
        try TestFiles.write(sampleBytes(count: 200_000), to: path)
        let compressed = Array(try Data(contentsOf: URL(fileURLWithPath: TestFiles.gzip(path))))
        let truncatedPath = directory + "/truncated.bin.gz"
        try TestFiles.write(Array(compressed[0 ..< compressed.count / 2]), to: truncatedPath)
        assertSprigError(try GzipFile.readAll(path: truncatedPath), kind: .format,
                         mentions: ["truncated.bin.gz", "truncated or corrupt gzip"])
        // Only the 8-byte trailer (CRC and size) missing.
        try TestFiles.write(Array(compressed.dropLast(8)), to: truncatedPath)
        assertSprigError(try GzipFile.readAll(path: truncatedPath), kind: .format,
                         mentions: ["truncated.bin.gz", "truncated or corrupt gzip"])
    }

    func testCorruptGzipIsFormatError() throws {
        let directory = try TestFiles.makeDirectory(self)
        let path = directory + "/data.bin"
        try TestFiles.write(sampleBytes(count: 200_000), to: path)
        var compressed = Array(try Data(contentsOf: URL(fileURLWithPath: TestFiles.gzip(path))))
        compressed[compressed.count - 6] ^= 0xFF  // the stored CRC-32 no longer matches
        try TestFiles.write(compressed, to: directory + "/corrupt.gz")
        assertSprigError(try GzipFile.readAll(path: directory + "/corrupt.gz"), kind: .format,
                         mentions: ["corrupt.gz", "truncated or corrupt gzip"])
    }

    func testMissingFileIsIOError() throws {
        let directory = try TestFiles.makeDirectory(self)
        XCTAssertThrowsError(try GzipFile.readAll(path: directory + "/absent.gz")) { error in
            XCTAssertEqual(error as? SprigError, .io(path: directory + "/absent.gz", reason: "no such file"))
        }
        assertSprigError(try GzipFile.readAll(path: directory), kind: .io, mentions: [directory, "directory"])
    }
}
