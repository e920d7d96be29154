import Foundation

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
        throw SprigError.io(path: base, reason: "missing layer file (also looked for \(base).gz)")
    }

    public static func readLayer(directory: String, neurons: Int, layer k: Int) throws -> ChallengeLayer {
        let path = try layerPath(directory: directory, neurons: neurons, layer: k)
        var scanner = TSVScanner(bytes: try GzipFile.readAll(path: path), path: path)
        var rows: [Int32] = [], columns: [Int32] = [], values: [Float] = []
        rows.reserveCapacity(32 * neurons); columns.reserveCapacity(32 * neurons); values.reserveCapacity(32 * neurons)
        while !scanner.atEnd {
            let line = scanner.line
            let r = try scanner.integer(); try scanner.tab()
            let c = try scanner.integer(); try scanner.tab()
            let v = try scanner.number(); try scanner.endOfLine()
            guard (1...neurons).contains(r), (1...neurons).contains(c) else {
                throw scanner.error("entry (\(r), \(c)) is outside a \(neurons)-neuron layer", line: line)
            }
            rows.append(Int32(r - 1)); columns.append(Int32(c - 1)); values.append(Float(v))
        }
        // Wᵀ: counting sort by column (the output neuron), then each row sorted by input.
        var offsets = [Int](repeating: 0, count: neurons + 1)
        for c in columns { offsets[Int(c) + 1] += 1 }
        for j in 0..<neurons { offsets[j + 1] += offsets[j] }
        var next = offsets
        var order = [Int](repeating: 0, count: rows.count)
        for e in rows.indices { let j = Int(columns[e]); order[next[j]] = e; next[j] += 1 }
        var indices = [Int32](repeating: 0, count: rows.count), sorted = [Float](repeating: 0, count: rows.count)
        for j in 0..<neurons {
            let slice = order[offsets[j]..<offsets[j + 1]].sorted { rows[$0] < rows[$1] }
            for (q, e) in zip(offsets[j]..., slice) {
                indices[q] = rows[e]
                sorted[q] = values[e]
                if q > offsets[j] && indices[q - 1] == rows[e] {
                    throw SprigError.format(path: path, reason: "entry (\(rows[e] + 1), \(j + 1)) appears twice")
                }
            }
        }
        return ChallengeLayer(transposed: SparsityPattern(unchecked: neurons, columns: neurons, rowOffsets: offsets, columnIndices: indices),
                              values: sorted)
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

    /// All inputs of a file at once: images 1 to the largest in the file (or `count` when
    /// given). Large files are better read a batch at a time with `ChallengeInputStream`.
    public static func readInputs(path: String, neurons: Int, count: Int? = nil) throws -> ChallengeInputs {
        let stream = try ChallengeInputStream(path: path, neurons: neurons, count: count)
        return try stream.next(capacity: .max) ?? ChallengeInputs(neurons: neurons, ids: [], offsets: [0], pixels: [], values: [])
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
