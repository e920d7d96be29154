import Foundation
import XCTest
@testable import Sprig

/// Files that are damaged on purpose, or that cannot be written: every one refused with one
/// message naming the file and the cause, nothing half-written, no trap.
final class FileHardeningTests: XCTestCase {
    /// The `sprig` built beside the test bundle.
    static var binary: String { CommandLineTests.binary }

    func sprig(_ arguments: [String]) throws -> TestFiles.ProcessResult {
        try CommandLineTests.sprig(arguments)
    }


    // MARK: Checkpoints whose checksum is valid but whose fields are not (item 7)

    /// A checkpoint of a 9-7-3 network (layer 1 sparse, layer 2 dense) at epoch 1, step 3.
    func sampleCheckpoint() throws -> Checkpoint {
        let configuration = NetworkConfiguration(layerSizes: [9, 7, 3], densities: [0.4, 1], seed: 8)
        let network = try Network(configuration)
        return Checkpoint(network: network.configuration, training: TrainingConfiguration(epochs: 4, batchSize: 5),
                          epoch: 1, step: 3, patterns: network.linearLayers.map(\.sparsity),
                          values: network.parameters.values.array, optimizerState: [Checkpoint.State(name: "velocity", values: [Float](repeating: 0.5, count: network.parameters.count))])
    }

    /// The file `encode` writes, with its JSON header edited by `edit` and its sections by
    /// `editSections`, then given a fresh CRC-32 (computed here independently of zlib).
    func patchedCheckpoint(_ checkpoint: Checkpoint, header edit: (inout [String: Any]) -> Void = { _ in },
                           sections editSections: (inout [UInt8]) -> Void = { _ in }, version: UInt8? = nil) throws -> [UInt8] {
        let bytes = try CheckpointFile.encode(checkpoint)
        let headerLength = bytes[12..<20].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(bytes[20..<(20 + headerLength)])) as? [String: Any])
        edit(&header)
        let json = [UInt8](try JSONSerialization.data(withJSONObject: header))
        var sections = Array(bytes[(20 + headerLength)..<(bytes.count - 8)])
        editSections(&sections)
        var result = Array(bytes[0..<12])
        if let version { result[8] = version }
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { result += $0 }
        result += json + sections
        withUnsafeBytes(of: crc32(result).littleEndian) { result += $0 }
        return result + Array("SEND".utf8)
    }

    /// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), bit by bit.
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// A version-1 checkpoint (one `velocity` count in its header, before optimizer state had
    /// names) still reads, as the same checkpoint; a version-1 header with no velocity for an
    /// optimizer that keeps one is refused.
    func testVersionOneCheckpointStillReads() throws {
        let checkpoint = try sampleCheckpoint()
        let v1 = try patchedCheckpoint(checkpoint, header: { h in
            h["states"] = nil
            h["velocity"] = checkpoint.values.count
        }, version: 1)
        XCTAssertEqual(try CheckpointFile.decode(v1, path: "old.sprig"), checkpoint)
        let noVelocity = try patchedCheckpoint(checkpoint, header: { h in
            h["states"] = nil
            h["velocity"] = 0
        }, version: 1)
        assertSprigError(try CheckpointFile.decode(noVelocity, path: "old.sprig"), kind: .format,
                         mentions: ["old.sprig", "optimizer state []", "keeps [velocity]"])
    }

    /// A kernel named for a dense layer, or a kernel Sprig does not have, is refused naming the layer or the value.
    func testCheckpointWithAKernelThatCannotBeIsRefused() throws {
        let checkpoint = try sampleCheckpoint()
        func layers(_ kernels: [String?]) -> (inout [String: Any]) -> Void {
            { h in
                var list = h["layers"] as! [[String: Any]]
                for (l, kernel) in kernels.enumerated() { list[l]["kernel"] = kernel }
                h["layers"] = list
            }
        }
        XCTAssertEqual(try CheckpointFile.decode(try patchedCheckpoint(checkpoint, header: layers(["dense", nil])), path: "ck").kernels,
                       [.dense, nil])
        assertSprigError(try CheckpointFile.decode(try patchedCheckpoint(checkpoint, header: layers(["csr", "csr"])), path: "ck.sprig"),
                         kind: .format, mentions: ["ck.sprig", "layer 2 is dense but has a kernel"])
        assertSprigError(try CheckpointFile.decode(try patchedCheckpoint(checkpoint, header: layers(["gemm", nil])), path: "ck.sprig"),
                         kind: .format, mentions: ["ck.sprig", "unreadable header", "gemm"])
    }

    func testCheckpointWithValidChecksumButBadFieldsIsRefusedNamingTheField() throws {
        let checkpoint = try sampleCheckpoint()
        // Unchanged, the patching itself is faithful.
        XCTAssertEqual(try CheckpointFile.decode(try patchedCheckpoint(checkpoint), path: "ck.sprig"), checkpoint)
        func layers(_ header: inout [String: Any], _ edit: (inout [[String: Any]]) -> Void) {
            var list = header["layers"] as! [[String: Any]]
            edit(&list)
            header["layers"] = list
        }
        func training(_ header: inout [String: Any], _ key: String, _ value: Any) {
            var t = header["training"] as! [String: Any]
            t[key] = value
            header["training"] = t
        }
        func network(_ header: inout [String: Any], _ key: String, _ value: Any) {
            var n = header["network"] as! [String: Any]
            n[key] = value
            header["network"] = n
        }
        let cases: [(mentions: [String], edit: (inout [String: Any]) -> Void)] = [
            (["step -1", "negative"], { $0["step"] = -1 }),
            (["epoch -2"], { $0["epoch"] = -2 }),
            (["epoch 9", "0…4"], { $0["epoch"] = 9 }),
            (["configuration", "training.batchSize 0"], { training(&$0, "batchSize", 0) }),
            (["configuration", "training.epochs -1"], { training(&$0, "epochs", -1) }),
            (["configuration", "density 1.5"], { network(&$0, "densities", [1.5, 1]) }),
            (["configuration", "size 0"], { network(&$0, "layerSizes", [9, 0, 3]) }),
            (["2 layers in the header", "configuration has 3"], { network(&$0, "layerSizes", [9, 7, 3, 2]); network(&$0, "densities", [0.4, 1, 1]) }),
            (["layer 1 shape 6×9", "7×9"], { h in layers(&h) { $0[0]["rows"] = 6 } }),
            (["layer 2 nonzeros 5", "dense"], { h in layers(&h) { $0[1]["nonzeros"] = 5 } }),
            (["layer 1 nonzeros 64"], { h in layers(&h) { $0[0]["nonzeros"] = 64 } }),
            (["parameters", "has \(checkpoint.values.count)"], { $0["parameters"] = checkpoint.values.count - 4 }),
            (["velocity 0", "keeps \(checkpoint.values.count)"], { $0["states"] = [["name": "velocity", "count": 0]] }),
            (["optimizer state [momentum]", "keeps [velocity]"], { $0["states"] = [["name": "momentum", "count": checkpoint.values.count]] }),
            (["no `states`"], { $0["states"] = nil }),
        ]
        for (mentions, edit) in cases {
            assertSprigError(try CheckpointFile.decode(try patchedCheckpoint(checkpoint, header: edit), path: "ck.sprig"),
                             kind: .format, mentions: ["ck.sprig", "not a valid checkpoint"] + mentions)
        }
        // Non-finite values in the store's values and in the velocity (the last sections of the file).
        let velocityStart = { (sections: [UInt8]) in sections.count - 4 * checkpoint.optimizerState[0].values.count }
        let nan = try patchedCheckpoint(checkpoint, sections: { s in
            withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { s.replaceSubrange((velocityStart(s) - 8)..<(velocityStart(s) - 4), with: $0) }
        })
        assertSprigError(try CheckpointFile.decode(nan, path: "ck.sprig"), kind: .format,
                         mentions: ["ck.sprig", "parameters[\(checkpoint.values.count - 2)] is nan"])
        let infinite = try patchedCheckpoint(checkpoint, sections: { s in
            withUnsafeBytes(of: Float.infinity.bitPattern.littleEndian) { s.replaceSubrange(velocityStart(s)..<(velocityStart(s) + 4), with: $0) }
        })
        assertSprigError(try CheckpointFile.decode(infinite, path: "ck.sprig"), kind: .format, mentions: ["velocity[0] is inf"])
        // indptr out of range in a valid-checksum file: named, not read through.
        let offsets = try patchedCheckpoint(checkpoint, sections: { s in
            withUnsafeBytes(of: Int64(1 << 40).littleEndian) { s.replaceSubrange(8..<16, with: $0) }
        })
        assertSprigError(try CheckpointFile.decode(offsets, path: "ck.sprig"), kind: .format,
                         mentions: ["ck.sprig", "layer 1", "indptr"])
        // A step beyond the epoch is known once the data is: 3 is past an epoch of 2 steps.
        assertSprigError(try checkpoint.checkPosition(stepsPerEpoch: 2, path: "ck.sprig"), kind: .format,
                         mentions: ["ck.sprig", "step 3", "2 steps"])
        XCTAssertNoThrow(try checkpoint.checkPosition(stepsPerEpoch: 4, path: "ck.sprig"))
    }

    func testResumeFromACheckpointWithANegativeStepFailsWithOneLine() throws {
        let directory = try TestFiles.makeDirectory(self)
        let bytes = try patchedCheckpoint(try sampleCheckpoint(), header: { $0["step"] = -5 })
        try TestFiles.write(bytes, to: directory + "/checkpoint-e000001-s00000003.sprig")
        let result = try sprig(["train", "--dataset", "synthetic", "--train-size", "50", "--test-size", "10", "--threads", "1",
                                "--resume", "--checkpoint-dir", directory, "--epochs", "4"])
        assertOneErrorLine(result, mentions: ["checkpoint-e000001-s00000003.sprig", "step -5"])
    }

    // MARK: Weights files (items 9, 11, 16)

    /// Arrays of a valid 4-3-2 network: layer 1 CSR (3×4), layer 2 dense (2×3).
    func weights(replacing replacements: [String: NPYArray?] = [:]) throws -> [(name: String, array: NPYArray)] {
        var arrays: [(name: String, array: NPYArray)] = [
            ("W1.data", NPYArray(.float32([1, 2, 3]))), ("W1.indices", NPYArray(.int32([0, 3, 1]))),
            ("W1.indptr", NPYArray(.int64([0, 2, 2, 3]))), ("W1.shape", NPYArray(.int64([3, 4]))),
            ("b1", NPYArray(.float32([0.5, -0.5, 0.25]))),
            ("W2", try NPYArray(shape: [2, 3], elements: .float32([1, -1, 2, -2, 3, -3]))), ("b2", NPYArray(.float32([0, 1]))),
        ]
        for (name, replacement) in replacements {
            arrays.removeAll { $0.name == name }
            if let replacement { arrays.append((name, replacement)) }
        }
        return arrays
    }

    let configuration = NetworkConfiguration(layerSizes: [4, 3, 2], densities: [0.5, 1])

    func load(_ arrays: [(name: String, array: NPYArray)], _ name: String) throws -> Network {
        let path = try TestFiles.makeDirectory(self) + "/" + name
        try NPZArchive.write(arrays, to: path)
        return try WeightsFile.load(path: path, configuration: configuration)
    }

    func testNonFiniteWeightsAndBiasesAreRefusedNamingArrayAndIndex() throws {
        XCTAssertEqual(Array(try load(weights(), "good.npz").parameters.values.array.prefix(3)), [1, 2, 3])
        assertSprigError(try load(weights(replacing: ["W1.data": NPYArray(.float32([1, .nan, 3]))]), "nan.npz"),
                         kind: .format, mentions: ["nan.npz", "W1.data[1]", "nan"])
        assertSprigError(try load(weights(replacing: ["b2": NPYArray(.float32([0, -.infinity]))]), "inf.npz"),
                         kind: .format, mentions: ["inf.npz", "b2[1]", "-inf"])
        assertSprigError(try load(weights(replacing: ["W2": try NPYArray(shape: [2, 3], elements: .float64([1, 2, 3, 4, .infinity, 6]))]), "dense.npz"),
                         kind: .format, mentions: ["dense.npz", "W2[4]", "inf"])
    }

    func testFloat64WeightsAreReadOnlyWhenExactlyFloat32() throws {
        // Float64 copies of float32 values (as `astype('<f8')` makes) read back exactly.
        let exact: [Double] = [Double(Float(0.1)), 1, -1.5, 2, 3, Double(Float(-3.3))]
        let network = try load(weights(replacing: ["W2": try NPYArray(shape: [2, 3], elements: .float64(exact))]), "exact.npz")
        XCTAssertEqual(Array(network.values(of: network.linearLayers[1].weights)), exact.map { Float($0) })
        // 0.1 as a double is not a float32: refused instead of rounded.
        assertSprigError(try load(weights(replacing: ["W2": try NPYArray(shape: [2, 3], elements: .float64([1, 2, 3, 0.1, 5, 6]))]), "f8.npz"),
                         kind: .format, mentions: ["f8.npz", "W2", "index 3", "0.1", "float32"])
    }

    func testBiasOfTheWrongShapeIsRefused() throws {
        assertSprigError(try load(weights(replacing: ["b1": try NPYArray(shape: [1, 3], elements: .float32([0, 0, 0]))]), "b.npz"),
                         kind: .format, mentions: ["b.npz", "b1 has shape [1, 3]", "[3]"])
        assertSprigError(try load(weights(replacing: ["b1": NPYArray(.float32([0, 0]))]), "short.npz"),
                         kind: .format, mentions: ["short.npz", "b1 has shape [2]"])
    }

    func testALayerGivenBothDenseAndCSRIsRefused() throws {
        let dense = try NPYArray(shape: [3, 4], elements: .float32(.init(repeating: 1, count: 12)))
        assertSprigError(try load(weights(replacing: ["W1": dense]), "both.npz"),
                         kind: .format, mentions: ["both.npz", "layer 1 is given twice", "W1.data"])
    }

    func testIndptrIsCheckedBeforeAnyColumnIsRead() throws {
        // indptr[1] = 1000 points far past the 3 column indices; it must be named, not read through.
        assertSprigError(try load(weights(replacing: ["W1.indptr": NPYArray(.int64([0, 1000, 2, 3]))]), "far.npz"),
                         kind: .format, mentions: ["far.npz", "W1", "indptr", "1000"])
        assertSprigError(try load(weights(replacing: ["W1.indptr": NPYArray(.int64([0, 2, 2]))]), "rows.npz"),
                         kind: .format, mentions: ["rows.npz", "W1", "indptr has 3 entries", "4"])
        assertSprigError(try load(weights(replacing: ["W1.indptr": NPYArray(.int64([1, 2, 2, 3]))]), "first.npz"),
                         kind: .format, mentions: ["first.npz", "indptr[0] is 1"])
        assertSprigError(try load(weights(replacing: ["W1.indptr": NPYArray(.int64([0, 2, 2, 7]))]), "last.npz"),
                         kind: .format, mentions: ["last.npz", "indptr[3] is 7"])
    }

    func testBadWeightsThroughTheBinary() throws {
        let directory = try TestFiles.makeDirectory(self)
        let train = ["train", "--dataset", "synthetic", "--layer-sizes", "4,3,2", "--train-size", "20", "--test-size", "5",
                     "--epochs", "1", "--threads", "1"]
        try NPZArchive.write(weights(replacing: ["b1": NPYArray(.float32([0, .nan, 0]))]), to: directory + "/nan.npz")
        assertOneErrorLine(try sprig(train + ["--load-weights", directory + "/nan.npz"]), mentions: ["nan.npz", "b1[1]"])
        try NPZArchive.write(weights(replacing: ["W1.indptr": NPYArray(.int64([0, 1000, 2, 3]))]), to: directory + "/far.npz")
        assertOneErrorLine(try sprig(train + ["--load-weights", directory + "/far.npz"]), mentions: ["far.npz", "indptr"])
        XCTAssertEqual(try sprig(train + ["--load-weights", directory + "/far.npz"]).status, 1, "a bad file is exit status 1")
    }

    // MARK: .npz archives that would inflate far more than they hold (item 10)

    /// Python writes `path` with one deflated entry `W1.npy`: a .npy header for `shape` float32
    /// elements, then `zeros` zero bytes (streamed, so Python itself stays small). When
    /// `declare` is given, the archive's recorded uncompressed size is patched to it (local
    /// header and central directory).
    func writeInflatingArchive(_ path: String, shape: Int, zeros: Int, declare: Int? = nil) throws {
        _ = try TestFiles.python("""
        import zipfile, struct, numpy as np, io
        header = io.BytesIO(); np.lib.format.write_array_header_1_0(header, {'descr': '<f4', 'fortran_order': False, 'shape': (\(shape),)})
        with zipfile.ZipFile('\(path)', 'w', zipfile.ZIP_DEFLATED) as z:
            with z.open('W1.npy', 'w') as f:
                f.write(header.getvalue())
                left = \(zeros); chunk = bytes(1 << 24)
                while left > 0:
                    f.write(chunk[:min(left, len(chunk))]); left -= len(chunk)
        declare = \(declare.map(String.init) ?? "None")
        if declare is not None:
            data = bytearray(open('\(path)', 'rb').read())
            local = data.find(b'PK\\x03\\x04'); central = data.find(b'PK\\x01\\x02')
            struct.pack_into('<I', data, local + 22, declare); struct.pack_into('<I', data, central + 24, declare)
            open('\(path)', 'wb').write(bytes(data))
        """)
    }

    func testEntryWhoseDeclaredSizeDisagreesWithItsHeaderFailsBeforeInflating() throws {
        let directory = try TestFiles.makeDirectory(self)
        // A small file that declares a 4 GiB entry; the .npy header inside wants 16 bytes of data.
        try writeInflatingArchive(directory + "/declared.npz", shape: 4, zeros: 16, declare: 0xFFFF_FF00)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: directory + "/declared.npz")[.size] as! Int, 1000)
        assertSprigError(try NPZArchive.read(path: directory + "/declared.npz"), kind: .format,
                         mentions: ["declared.npz", "W1.npy", "\(0xFFFF_FF00) bytes"])
        // Where the machine has the memory, the .npy header is what refuses it.
        if MemoryBudget.machineBytes > 8 << 30 {
            assertSprigError(try NPZArchive.read(path: directory + "/declared.npz"), kind: .format,
                             mentions: ["declares \(0xFFFF_FF00) bytes but its .npy header needs 144"])
        }
    }

    func testOneGibibyteOfZerosIsRefusedWithoutInflatingIt() throws {
        let directory = try TestFiles.makeDirectory(self)
        let gib = 1 << 30
        // Declared truthfully (1 GiB + header), but the header says 4 elements.
        try writeInflatingArchive(directory + "/zeros.npz", shape: 4, zeros: gib)
        XCTAssertLessThan(try FileManager.default.attributesOfItem(atPath: directory + "/zeros.npz")[.size] as! Int, 4 << 20)
        assertSprigError(try NPZArchive.read(path: directory + "/zeros.npz"), kind: .format,
                         mentions: ["zeros.npz", "W1.npy", "its .npy header needs 144"])
        // Declared as the 144 bytes the header needs, but it inflates to 1 GiB: stopped at the bound.
        try writeInflatingArchive(directory + "/lying.npz", shape: 4, zeros: gib, declare: 144)
        assertSprigError(try NPZArchive.read(path: directory + "/lying.npz"), kind: .format,
                         mentions: ["lying.npz", "W1.npy", "inflates beyond the 144 bytes"])
        // Through the binary, whose peak memory stays far below the 1 GiB it would take.
        for name in ["zeros.npz", "lying.npz"] {
            let result = try TestFiles.run(["/usr/bin/time", "-f", "maxrss %M", Self.binary, "train", "--dataset", "synthetic",
                                            "--layer-sizes", "4,3,2", "--train-size", "20", "--test-size", "5", "--threads", "1",
                                            "--load-weights", directory + "/" + name])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.errors.contains("error: ") && result.errors.contains(name), result.errors)
            let kib = try XCTUnwrap(result.errors.split(separator: "\n").last.flatMap { Int($0.dropFirst("maxrss ".count)) }, result.errors)
            XCTAssertLessThan(kib, 256 * 1024, "peak memory \(kib) KiB while refusing \(name)")
        }
    }

    // MARK: gzip (item 16)

    func testGzipWithTrailingGarbageIsRefusedButConcatenatedMembersRead() throws {
        let directory = try TestFiles.makeDirectory(self)
        let text = Array("1\t2\t0.5\n".utf8)
        try TestFiles.write(text, to: directory + "/a")
        let member = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestFiles.gzip(directory + "/a"))))
        try TestFiles.write(member + member + member, to: directory + "/three.gz")
        XCTAssertEqual(try GzipFile.readAll(path: directory + "/three.gz"), text + text + text)
        for (name, tail) in [("garbage.gz", Array("garbage".utf8)), ("byte.gz", [0x1F]), ("zeros.gz", [0, 0, 0, 0])] {
            try TestFiles.write(member + member + tail, to: directory + "/" + name)
            assertSprigError(try GzipFile.readAll(path: directory + "/" + name), kind: .format,
                             mentions: [name, "trailing garbage", "\(2 * member.count) bytes of gzip data"])
        }
        // Members longer than the 4 MiB input buffer, so member ends and starts fall across refills.
        var random = RandomGenerator(seed: 11)
        let noise = (0..<5_000_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try TestFiles.write(noise, to: directory + "/noise")
        let big = [UInt8](try Data(contentsOf: URL(fileURLWithPath: TestFiles.gzip(directory + "/noise"))))
        XCTAssertGreaterThan(big.count, 4 << 20)
        try TestFiles.write(big + member + big, to: directory + "/big.gz")
        XCTAssertEqual(try GzipFile.readAll(path: directory + "/big.gz"), noise + text + noise)
        try TestFiles.write(big + big + [0x1F, 0x8B, 0x08], to: directory + "/cut.gz")
        assertSprigError(try GzipFile.readAll(path: directory + "/cut.gz"), kind: .format, mentions: ["cut.gz", "truncated or corrupt gzip"])
        try TestFiles.write(big + Array("x".utf8), to: directory + "/bigx.gz")
        assertSprigError(try GzipFile.readAll(path: directory + "/bigx.gz"), kind: .format,
                         mentions: ["bigx.gz", "trailing garbage", "\(big.count) bytes of gzip data"])
        // A plain file that happens not to be gzip is still read as it is.
        try TestFiles.write(Array("garbage".utf8), to: directory + "/plain")
        XCTAssertEqual(try GzipFile.readAll(path: directory + "/plain"), Array("garbage".utf8))
    }

    // MARK: File errors in words (item 12)

    func testWriteErrorsNameTheFileAndTheCauseInWords() throws {
        let directory = try TestFiles.makeDirectory(self)
        try TestFiles.write([1], to: directory + "/file")
        let inFile = directory + "/file/w.npz"
        assertSprigError(try NPZArchive.write(try weights(), to: inFile), kind: .io, mentions: [inFile, "Not a directory"])
        assertSprigError(try AtomicFile.write("x", to: "/proc/sprig-test.txt"), kind: .io,
                         mentions: ["/proc/sprig-test.txt", "cannot"])
        assertSprigError(try CheckpointFile.write(try sampleCheckpoint(), directory: directory + "/file"), kind: .io,
                         mentions: [directory + "/file", "Not a directory"])
        assertSprigError(try CheckpointFile.list(directory: directory + "/none"), kind: .io,
                         mentions: [directory + "/none", "No such file or directory"])
        try FileManager.default.createDirectory(atPath: directory + "/taken.npz", withIntermediateDirectories: false)
        assertSprigError(try AtomicFile.checkWritable(directory + "/taken.npz"), kind: .io,
                         mentions: [directory + "/taken.npz", "Is a directory"])
        // An unwritable destination is found before training, not after it.
        let proc = try sprig(["train", "--dataset", "synthetic", "--layer-sizes", "4,3,2", "--train-size", "20", "--test-size", "5",
                              "--densities", "1,1", "--epochs", "1", "--threads", "1", "--save-weights", "/proc/sprig-test.npz"])
        assertOneErrorLine(proc, status: 1, mentions: ["/proc/sprig-test.npz", "cannot write: No such file or directory"])
        XCTAssertFalse(proc.output.contains("epoch 1/1"), proc.output)
        // Nothing half-written or left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(), ["file", "taken.npz"])

        // Foundation's errors become words, never "NSCocoaErrorDomain Code=…".
        let cases: [(Error, String)] = [
            (CocoaError(.fileWriteOutOfSpace), "No space left on device"),
            (CocoaError(.fileWriteFileExists), "File exists"),
            (CocoaError(.fileWriteNoPermission), "Permission denied"),
            (NSError(domain: NSCocoaErrorDomain, code: 512, userInfo: [NSUnderlyingErrorKey: NSError(domain: NSPOSIXErrorDomain, code: Int(EISDIR))]),
             "Is a directory"),
            (NSError(domain: NSPOSIXErrorDomain, code: Int(ENOENT)), "No such file or directory"),
        ]
        for (error, words) in cases {
            XCTAssertEqual(SprigError.fileError(path: "out.npz", action: "write", error: error),
                           .io(path: "out.npz", reason: "cannot write: \(words)"))
        }
    }

    func testAFullDiskIsReportedInWords() throws {
        // Through the binary under a 4 KiB file-size limit (SIGXFSZ ignored, so writes fail with
        // EFBIG as on a full disk): one line in words, no weights file, no temporary file.
        let directory = try TestFiles.makeDirectory(self)
        let result = try TestFiles.run(["bash", "-c", "trap '' XFSZ; ulimit -f 4; exec \"$0\" \"$@\"", Self.binary, "train",
                                        "--dataset", "synthetic", "--layer-sizes", "20,200,3", "--densities", "1,1",
                                        "--train-size", "20", "--test-size", "5", "--epochs", "1", "--threads", "1",
                                        "--save-weights", directory + "/w.npz"])
        assertOneErrorLine(result, status: 1, mentions: [directory + "/w.npz", "cannot write: File too large"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), [])

        // A 64 KiB tmpfs that fills up, where this machine lets the test mount one.
        let small = try TestFiles.makeDirectory(self)
        guard try TestFiles.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", small]).status == 0 else { return }
        defer { _ = try? TestFiles.run(["umount", small]) }
        let big = try NPYArray(shape: [200_000], elements: .float32(.init(repeating: 1, count: 200_000)))
        assertSprigError(try NPZArchive.write([("W1", big)], to: small + "/w.npz"), kind: .io,
                         mentions: [small + "/w.npz", "No space left on device"])
        assertSprigError(try AtomicFile.write([UInt8](repeating: 7, count: 200_000), to: small + "/raw"), kind: .io,
                         mentions: [small + "/raw", "No space left on device"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: small), [])
    }

    // MARK: Temporary files of killed writers (item 19)

    func testStaleTemporaryFilesOfDeadWritersAreRemovedAndNoOneElses() throws {
        let directory = try TestFiles.makeDirectory(self)
        // A process that has exited: its pid names no process now.
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        XCTAssertEqual(kill(dead, 0), -1)
        let stale = ".w.npz.sprig-\(dead)-1f2e.tmp"
        let live = ".w.npz.sprig-1-abc.tmp"            // pid 1 always exists
        let ours = ".w.npz.sprig-\(getpid())-77.tmp"    // this process, still writing
        let others = [".w.npz.tmp", "notes.sprig-\(dead)-1.tmp", ".x.sprig-\(dead)-zz.tmp", ".x.sprig-\(dead).tmp", "data.txt"]
        for name in [stale, live, ours] + others { try TestFiles.write([1], to: directory + "/" + name) }
        XCTAssertEqual(AtomicFile.writerProcess(ofTemporaryName: stale), dead)
        try AtomicFile.write("new", to: directory + "/w.npz")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(),
                       ([live, ours, "w.npz"] + others).sorted())
    }

    // MARK: The network cache on the shared container

    func testAnOldNetworkCacheVersionIsRefusedByVersion() throws {
        let layers = (1...2).map { RadixNet.layer(neurons: 64, layer: $0, seed: 3) }
        var bytes = try NetworkCache.encode(layers, neurons: 64, fingerprint: 0xABCD)
        let decoded = NetworkCache.decode(bytes, neurons: 64, layers: 2, fingerprint: 0xABCD)
        XCTAssertEqual(decoded.layers?.map(\.values), layers.map(\.values))
        XCTAssertEqual(decoded.layers?.map(\.transposed), layers.map(\.transposed))
        XCTAssertTrue(NetworkCache.decode(bytes, neurons: 64, layers: 2, fingerprint: 0xABCE).reason.contains("layer files changed"))
        bytes[8] = 1
        XCTAssertTrue(NetworkCache.decode(bytes, neurons: 64, layers: 2, fingerprint: 0xABCD).reason
                        .contains("format version 1, this Sprig reads version 2"))
    }
}
