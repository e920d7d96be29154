import Foundation
import ZlibC

/// The challenge's file formats (1-based, tab-separated, plain or `.gz`):
/// layer `n{N}-l{k}.tsv` = `row col value` (W(row, col), Y·W maps row → col); inputs
/// `sparse-images-{N}.tsv` = `image pixel value`; truth `neuron{N}-l{L}-categories.tsv` = one
/// image index per line. Reading is strict: a malformed line, an index out of range or a
/// repeated entry is an error naming the file and the line.
public enum ChallengeFiles {
    /// The path of layer k (1-based) in `directory`, `.tsv` or `.tsv.gz`, whichever exists.
    public static func layerPath(directory: String, neurons: Int, layer k: Int) throws -> String {
        let base = (directory as NSString).appendingPathComponent("n\(neurons)-l\(k).tsv")
        for candidate in [base, base + ".gz"] where FileManager.default.fileExists(atPath: candidate) { return candidate }
        throw SprigError.io(path: base, reason: "no such file: a missing layer file (also looked for \(base).gz)")
    }

    public static func readLayer(directory: String, neurons: Int, layer k: Int) throws -> ChallengeLayer {
        let path = try layerPath(directory: directory, neurons: neurons, layer: k)
        let bytes = try GzipFile.readAll(path: path)
        // Every line is one entry (of at least 6 bytes), so entry e is line e + 1.
        let capacity = bytes.count / 6
        var scanner = TSVScanner(bytes: consume bytes, path: path)
        // Wᵀ: row j (the output neuron, the file's column) lists the inputs i (the file's rows).
        var builder = CSRBuilder(columns: neurons, capacity: capacity)
        var values: [Float] = []
        values.reserveCapacity(capacity)
        while !scanner.atEnd {
            let line = scanner.line
            let r = try scanner.integer(); try scanner.tab()
            let c = try scanner.integer(); try scanner.tab()
            let v = try scanner.float(); try scanner.endOfLine()
            guard (1...neurons).contains(r), (1...neurons).contains(c) else {
                throw scanner.error("entry (\(r), \(c)) is outside a \(neurons)-neuron layer", line: line)
            }
            builder.append(row: Int32(c - 1), column: Int32(r - 1))
            values.append(v)
        }
        let (pattern, entryOfSlot) = try builder.build(rows: neurons) { j, i, earlier, later in
            SprigError.format(path: path, reason: "line \(later + 1): entry (\(i + 1), \(j + 1)) appears twice (also line \(earlier + 1))")
        }
        return ChallengeLayer(transposed: pattern, values: entryOfSlot.map { $0.map { values[Int($0)] } } ?? values)
    }

    /// All layers 1…L of a network.
    public static func readNetwork(directory: String, neurons: Int, layers: Int, pool: ThreadPool) throws -> [ChallengeLayer] {
        var result = [ChallengeLayer?](repeating: nil, count: layers)
        var failure: Error?
        let lock = NSLock()
        pool.run(parts: layers) { l in
            do {
                let layer = try readLayer(directory: directory, neurons: neurons, layer: l + 1)
                lock.lock(); result[l] = layer; lock.unlock()
            } catch {
                lock.lock(); if failure == nil { failure = error }; lock.unlock()
            }
        }
        if let failure { throw failure }
        return result.map { $0! }
    }

    /// All inputs of a file at once: the images that have lines (`count`, when given, bounds
    /// the indices). Large files are better read a batch at a time with `ChallengeInputStream`.
    public static func readInputs(path: String, neurons: Int, count: Int? = nil) throws -> ChallengeInputs {
        let stream = try ChallengeInputStream(path: path, neurons: neurons, count: count)
        return try stream.next(capacity: .max) ?? ChallengeInputs(neurons: neurons, ids: [], offsets: [0], pixels: [], values: [])
    }

    /// Names the contents of an inputs file without reading all of it (it may hold many GB):
    /// its size and a CRC-32 of its first MiB, as stored. Ranks compare it.
    public static func inputsIdentity(path: String) throws -> UInt64 {
        do {
            let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
            defer { try? file.close() }
            let head = [UInt8](try file.read(upToCount: 1 << 20) ?? Data())
            let size = try file.seekToEnd()
            var hasher = StableHasher()
            hasher.combine(size)
            hasher.combine(head.withUnsafeBufferPointer { UInt32(ZlibC.crc32(0, $0.baseAddress, UInt32($0.count))) })
            return hasher.value
        } catch {
            throw SprigError.fileError(path: path, action: "read the inputs file", error: error)
        }
    }

    /// A truth (or categories) file: 1-based image indices, one per line, returned 0-based.
    public static func readCategories(path: String) throws -> [Int] {
        var scanner = TSVScanner(bytes: try GzipFile.readAll(path: path), path: path)
        var result: [Int] = []
        while !scanner.atEnd {
            let line = scanner.line
            let m = try scanner.integer(); try scanner.endOfLine()
            guard m >= 1 else { throw scanner.error("image index \(m) is not positive", line: line) }
            result.append(m - 1)
        }
        return result
    }

    /// Writes categories (0-based) as the challenge's 1-based list (temporary file, then rename).
    public static func writeCategories(_ categories: [Int], path: String) throws {
        let text = categories.map { String($0 + 1) }.joined(separator: "\n") + (categories.isEmpty ? "" : "\n")
        try AtomicFile.write(text, to: path)
    }
}
