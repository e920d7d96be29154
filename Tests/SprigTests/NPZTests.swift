import Foundation
import Sprig
import XCTest

/// `.npy` / `.npz` encoding and decoding, checked against NumPy and SciPy where available.
final class NPZTests: XCTestCase {
    /// One array of each dtype, including a scalar, an empty and a 3-D array.
    private func sampleArrays() throws -> [(name: String, array: NPYArray)] {
        [
            ("weights", try NPYArray(shape: [2, 3], elements: .float32([0.5, -1.25, 3e-8, .infinity, -0.0, 7]))),
            ("doubles", try NPYArray(shape: [3], elements: .float64([Double.pi, -1e300, 0x1p-1074]))),
            ("indices", try NPYArray(shape: [2, 2], elements: .int32([0, -1, .max, .min]))),
            ("offsets", try NPYArray(shape: [2, 1, 2], elements: .int64([0, 1 << 40, -5, .max]))),
            ("pixels", NPYArray(.uint8([0, 128, 255]))),
            ("step", try NPYArray(shape: [], elements: .int64([12345]))),
            ("empty", try NPYArray(shape: [0, 4], elements: .float32([]))),
        ]
    }

    func testRoundTripStoredAndCompressed() throws {
        let directory = try TestFiles.makeDirectory(self)
        let arrays = try sampleArrays()
        for compressed in [false, true] {
            let path = directory + "/round\(compressed).npz"
            try NPZArchive.write(arrays, to: path, compressed: compressed)
            let read = try NPZArchive.read(path: path)
            XCTAssertEqual(Set(read.keys), Set(arrays.map(\.name)))
            for (name, array) in arrays {
                XCTAssertEqual(read[name], array, name)
                XCTAssertEqual(read[name]?.source, "\(path): \(name)")
            }
        }
        // Overwriting an existing archive replaces it and leaves no temporary file behind.
        let path = directory + "/roundfalse.npz"
        try NPZArchive.write([("only", NPYArray(.int32([1])))], to: path)
        XCTAssertEqual(try NPZArchive.read(path: path), ["only": NPYArray(.int32([1]))])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).sorted(),
                       ["roundfalse.npz", "roundtrue.npz"])
    }

    func testEncodedHeaderMatchesNumPyLayout() throws {
        let bytes = try NPYArray(shape: [3, 4], elements: .float32([Float](repeating: 1, count: 12))).encoded()
        XCTAssertEqual(Array(bytes[0 ..< 8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: bytes[10 ..< 10 + headerLength], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), header)
        XCTAssertTrue(header.hasSuffix(" \n"))
        XCTAssertEqual(bytes.count, 10 + headerLength + 48)
        // 1.0 as little-endian float: 00 00 80 3F.
        XCTAssertEqual(Array(bytes[(10 + headerLength)...].prefix(4)), [0, 0, 0x80, 0x3F])
        let vector = String(decoding: NPYArray(.int64([1, 2])).encoded()[10 ..< 70], as: UTF8.self)
        XCTAssertTrue(vector.contains("'shape': (2,), "), vector)
    }

    /// A hand-made `.npy` file: header text (padded to 64 bytes) and raw data.
    private func npy(header: String, data: [UInt8]) -> [UInt8] {
        var text = Array(header.utf8)
        text += [UInt8](repeating: 0x20, count: (64 - (10 + text.count + 1) % 64) % 64) + [0x0A]
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(text.count & 0xFF), UInt8(text.count >> 8)] + text + data
    }

    func testDecodesFortranOrderByTransposing() throws {
        let data = (1 ... 6).flatMap { value -> [UInt8] in [UInt8(value), 0, 0, 0] }
        let array = try NPYArray.decode(npy(header: "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }",
                                            data: data), source: "f.npz: m")
        // Column-major 1…6 for a 2 × 3 matrix is [[1, 3, 5], [2, 4, 6]].
        XCTAssertEqual(array.elements, .int32([1, 3, 5, 2, 4, 6]))
        XCTAssertEqual(array.shape, [2, 3])
        XCTAssertEqual(try array.integers(), [1, 3, 5, 2, 4, 6])
    }

    func testRejectsMalformedArrays() throws {
        let four: [UInt8] = [0, 0, 128, 63]
        let cases: [(bytes: [UInt8], mentions: [String])] = [
            (Array("PK\u{3}\u{4}not npy".utf8), ["magic"]),
            (npy(header: "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", data: four), ["big-endian", ">f4"]),
            (npy(header: "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }", data: four), ["unsupported dtype", "<c8"]),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", data: four), ["needs 8 bytes", "4 follow"]),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: four + four), ["needs 4 bytes", "8 follow"]),
            (npy(header: "{'descr': '<f4', 'shape': (1,), }", data: four), ["missing 'fortran_order'"]),
            (npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1, x), }", data: four), ["malformed"]),
            (npy(header: "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,), }", data: four), ["True or False"]),
            (Array(npy(header: "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", data: four).prefix(40)),
             ["truncated .npy header"]),
        ]
        for (bytes, mentions) in cases {
            assertSprigError(try NPYArray.decode(bytes, source: "model.npz: W1.data"), kind: .format,
                             mentions: ["model.npz: W1.data"] + mentions)
        }
    }

    func testTypedAccessors() throws {
        XCTAssertEqual(try NPYArray(.float64([0.5, Double(Float(1e-3))])).floats(), [0.5, Float(1e-3)])
        assertSprigError(try NPYArray(.float64([0.5, 1e-3])).floats(), kind: .format, mentions: ["index 1", "0.001"])
        XCTAssertEqual(try NPYArray(.int32([-3, 4])).integers(), [-3, 4])
        XCTAssertEqual(try NPYArray(.uint8([255])).integers(), [255])
        var indices = NPYArray(.int64([1]))
        indices.source = "run.npz: W1.indices"
        assertSprigError(try indices.floats(), kind: .format, mentions: ["run.npz: W1.indices", "<i8"])
        assertSprigError(try NPYArray(.float32([1])).integers(), kind: .format, mentions: ["<f4"])
        assertSprigError(try NPYArray(shape: [2, 2], elements: .float32([1])), kind: .invalidArgument, mentions: ["[2, 2]"])
    }

    func testRejectsBadArchives() throws {
        let directory = try TestFiles.makeDirectory(self)
        assertSprigError(try NPZArchive.read(path: directory + "/absent.npz"), kind: .io,
                         mentions: ["absent.npz", "no such file"])

        try TestFiles.write(Array("hello, not a zip file".utf8), to: directory + "/text.npz")
        assertSprigError(try NPZArchive.read(path: directory + "/text.npz"), kind: .format, mentions: ["text.npz", "ZIP"])

        try NPZArchive.write(try sampleArrays(), to: directory + "/good.npz", compressed: true)
        let whole = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/good.npz")))
        try TestFiles.write(Array(whole.prefix(whole.count / 2)), to: directory + "/cut.npz")
        assertSprigError(try NPZArchive.read(path: directory + "/cut.npz"), kind: .format, mentions: ["cut.npz"])

        // A flipped bit in a stored entry still decodes as an array; only the CRC-32 catches it.
        try NPZArchive.write([("w", NPYArray(.float32([1, 2, 3, 4])))], to: directory + "/stored.npz")
        var flipped = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/stored.npz")))
        let two: [UInt8] = [0, 0, 0, 0x40]
        let at = try XCTUnwrap((0 ..< flipped.count - 4).first { Array(flipped[$0 ..< $0 + 4]) == two })
        flipped[at + 3] ^= 0x01
        try TestFiles.write(flipped, to: directory + "/flipped.npz")
        assertSprigError(try NPZArchive.read(path: directory + "/flipped.npz"), kind: .format,
                         mentions: ["flipped.npz", "w.npy", "CRC-32"])

        // Damaged compressed data inside an otherwise intact archive.
        var damaged = whole
        for i in 200 ..< 260 { damaged[i] ^= 0x5A }
        try TestFiles.write(damaged, to: directory + "/damaged.npz")
        assertSprigError(try NPZArchive.read(path: directory + "/damaged.npz"), kind: .format,
                         mentions: ["damaged.npz"])
    }

    func testFailedWriteLeavesNoFiles() throws {
        let directory = try TestFiles.makeDirectory(self)
        // The destination is a non-empty directory, so the final rename fails.
        try FileManager.default.createDirectory(atPath: directory + "/taken.npz/inner", withIntermediateDirectories: true)
        assertSprigError(try NPZArchive.write([("a", NPYArray(.float32([1])))], to: directory + "/taken.npz"),
                         kind: .io, mentions: ["taken.npz"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["taken.npz"])
        assertSprigError(try NPZArchive.write([("a", NPYArray(.float32([1])))], to: directory + "/no/such/dir/x.npz"),
                         kind: .io, mentions: ["x.npz", "No such file or directory"])
        assertSprigError(try NPZArchive.write([("a", NPYArray(.float32([1]))), ("a", NPYArray(.float32([2])))],
                                              to: directory + "/twice.npz"),
                         kind: .invalidArgument, mentions: ["twice.npz", "a"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["taken.npz"])
    }

    // MARK: Cross-checks with NumPy and SciPy

    func testReadsArchivesWrittenByNumPy() throws {
        let directory = try TestFiles.makeDirectory(self)
        _ = try TestFiles.python("""
        import numpy as np
        arrays = dict(
            f4=(np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5),
            f8=np.array([np.pi, -1e300, 5e-324]),
            i4=np.array([[-(2**31), 2**31 - 1], [0, -7]], dtype=np.int32),
            i8=np.arange(5, dtype=np.int64) * (2**40) - 3,
            u1=np.array([0, 17, 255], dtype=np.uint8),
            fortran=np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
            scalar=np.int64(42),
        )
        assert arrays['fortran'].flags.f_contiguous
        np.savez('\(directory)/stored.npz', **arrays)
        np.savez_compressed('\(directory)/deflated.npz', **arrays)
        """)
        for file in ["stored.npz", "deflated.npz"] {
            let arrays = try NPZArchive.read(path: directory + "/" + file)
            XCTAssertEqual(Set(arrays.keys), ["f4", "f8", "i4", "i8", "u1", "fortran", "scalar"], file)
            XCTAssertEqual(arrays["f4"], try NPYArray(shape: [3, 4], elements: .float32((0 ..< 12).map { Float($0) / 8 - 0.5 })))
            XCTAssertEqual(arrays["f8"], NPYArray(.float64([Double.pi, -1e300, 0x1p-1074])))
            XCTAssertEqual(arrays["i4"], try NPYArray(shape: [2, 2], elements: .int32([.min, .max, 0, -7])))
            XCTAssertEqual(arrays["i8"], NPYArray(.int64((0 ..< 5).map { Int64($0) << 40 - 3 })))
            XCTAssertEqual(arrays["u1"], NPYArray(.uint8([0, 17, 255])))
            XCTAssertEqual(arrays["fortran"], try NPYArray(shape: [2, 3], elements: .int32([0, 1, 2, 3, 4, 5])))
            XCTAssertEqual(arrays["scalar"], try NPYArray(shape: [], elements: .int64([42])))
        }
    }

    func testNumPyReadsArchivesWeWrite() throws {
        let directory = try TestFiles.makeDirectory(self)
        try NPZArchive.write(try sampleArrays(), to: directory + "/ours.npz")
        try NPZArchive.write(try sampleArrays(), to: directory + "/ours-deflated.npz", compressed: true)
        let output = try TestFiles.python("""
        import numpy as np
        for name in ['ours.npz', 'ours-deflated.npz']:
            z = np.load('\(directory)/' + name)
            assert sorted(z.files) == sorted(['weights', 'doubles', 'indices', 'offsets', 'pixels', 'step', 'empty']), z.files
            w = z['weights']
            assert w.dtype == np.float32 and w.shape == (2, 3)
            assert w.tolist() == [[0.5, -1.25, float(np.float32(3e-8))], [float('inf'), -0.0, 7.0]], w.tolist()
            assert np.signbit(w[1, 1])
            d = z['doubles']
            assert d.dtype == np.float64 and d.tolist() == [np.pi, -1e300, 5e-324]
            i = z['indices']
            assert i.dtype == np.int32 and i.tolist() == [[0, -1], [2**31 - 1, -2**31]]
            o = z['offsets']
            assert o.dtype == np.int64 and o.shape == (2, 1, 2) and o.ravel().tolist() == [0, 2**40, -5, 2**63 - 1]
            p = z['pixels']
            assert p.dtype == np.uint8 and p.tolist() == [0, 128, 255]
            s = z['step']
            assert s.shape == () and s.dtype == np.int64 and int(s) == 12345
            e = z['empty']
            assert e.shape == (0, 4) and e.dtype == np.float32
        print('verified')
        """)
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "verified")
    }

    /// A sparse layer saved as CSR arrays (`W1.data` f4, `W1.indices` i4, `W1.indptr` i8,
    /// `W1.shape` i8) is rebuilt by `scipy.sparse.csr_matrix` into the expected dense matrix.
    func testSciPyRebuildsSparseMatrixWeWrite() throws {
        let directory = try TestFiles.makeDirectory(self)
        let rows = 4, columns = 5
        // Dense reference with a few nonzeros per row (row 2 empty), in CSR order.
        var dense = [Float](repeating: 0, count: rows * columns)
        var data: [Float] = [], indices: [Int32] = [], indptr: [Int64] = [0]
        let entries: [[(Int, Float)]] = [[(0, 1.5), (3, -2)], [(1, 0.25), (2, 3), (4, -0.125)], [], [(4, 8)]]
        for (row, rowEntries) in entries.enumerated() {
            for (column, value) in rowEntries {
                dense[row * columns + column] = value
                data.append(value)
                indices.append(Int32(column))
            }
            indptr.append(Int64(data.count))
        }
        try NPZArchive.write([
            ("W1.data", NPYArray(.float32(data))),
            ("W1.indices", NPYArray(.int32(indices))),
            ("W1.indptr", NPYArray(.int64(indptr))),
            ("W1.shape", NPYArray(.int64([Int64(rows), Int64(columns)]))),
        ], to: directory + "/layer.npz")
        let output = try TestFiles.python("""
        import numpy as np, scipy.sparse
        z = np.load('\(directory)/layer.npz')
        assert z['W1.data'].dtype == np.float32 and z['W1.indices'].dtype == np.int32
        assert z['W1.indptr'].dtype == np.int64 and z['W1.shape'].dtype == np.int64
        m = scipy.sparse.csr_matrix((z['W1.data'], z['W1.indices'], z['W1.indptr']), shape=tuple(z['W1.shape']))
        m.check_format(full_check=True)
        print(m.shape[0], m.shape[1], m.nnz)
        print(' '.join(repr(float(v)) for v in m.toarray().ravel()))
        """, needsSciPy: true)
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, output)
        guard lines.count == 2 else { return }
        XCTAssertEqual(lines[0], "\(rows) \(columns) \(data.count)")
        XCTAssertEqual(lines[1].split(separator: " ").map { Float(String($0)) }, dense.map { Optional($0) })
    }

    func testRejectsNpzEntryWithBadHeader() throws {
        let directory = try TestFiles.makeDirectory(self)
        _ = try TestFiles.python("""
        import zipfile
        header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
        header += b' ' * (63 - (10 + len(header)) % 64) + b'\\n'
        body = b'\\x93NUMPY\\x01\\x00' + len(header).to_bytes(2, 'little') + header + b'\\x00' * 8
        with zipfile.ZipFile('\(directory)/short.npz', 'w') as z:
            z.writestr('W1.data.npy', body)
        with zipfile.ZipFile('\(directory)/garbage.npz', 'w', compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr('W1.shape.npy', b'just some bytes, no magic')
        """)
        assertSprigError(try NPZArchive.read(path: directory + "/short.npz"), kind: .format,
                         mentions: ["short.npz", "W1.data", "declares 136 bytes", "header needs 140"])
        assertSprigError(try NPZArchive.read(path: directory + "/garbage.npz"), kind: .format,
                         mentions: ["garbage.npz", "W1.shape", "magic"])
    }
}
