/// Reads a challenge inputs file (`image pixel value` per line, 1-based, plain or `.gz`) a
/// batch of images at a time, so memory stays bounded whatever the file's size: the inputs of
/// the 65536-neuron network run to ~17 GB of text. Lines come grouped by image in increasing
/// order, as the challenge writes them (an image going back is an error naming the line);
/// pixels within an image may come in any order. Reading is strict, as `ChallengeFiles`.
///
/// With `ranks` > 1, image m (0-based) belongs to rank m mod ranks: every rank reads and checks
/// the whole file and keeps its own images, so the split is even however many images the file
/// holds. Batch k of a rank holds its images at positions k·capacity ..< (k+1)·capacity of its
/// sequence r, r + ranks, r + 2·ranks, … (images without lines as empty rows) up to the file's
/// last image.
public final class ChallengeInputStream {
    public let path: String
    public let neurons: Int
    public let rank: Int
    public let ranks: Int
    /// Images 1 … imageCount: the largest index read so far (or the `count` given), which is
    /// the file's once `next` has returned nil.
    public private(set) var imageCount: Int

    private struct Entry { var image: Int; var pixel: Int32; var value: Float; var line: Int }

    private let pieceSize: Int
    private let limit: Int?
    private let reader: GzipReader
    private var scanner: TSVScanner
    private var carry: [UInt8] = []     // the unfinished last line of the previous piece
    private var pending: Entry?         // a line of a later batch, read while filling this one
    private var nextPosition = 0        // this rank's position of the next batch's first image
    private var lastImage = -1

    /// `count`: the number of images when known (an index above it is an error);
    /// `pieceSize`: the bytes read from the file at a time.
    public init(path: String, neurons: Int, count: Int? = nil, rank: Int = 0, ranks: Int = 1, pieceSize: Int = 1 << 24) throws {
        precondition(ranks >= 1 && (0..<ranks).contains(rank) && pieceSize >= 1)
        self.pieceSize = pieceSize
        self.path = path
        self.neurons = neurons
        self.rank = rank
        self.ranks = ranks
        limit = count
        imageCount = count ?? 0
        reader = try GzipReader(path: path)
        scanner = TSVScanner(bytes: [], path: path)
    }

    /// The next batch of at most `capacity` of this rank's images; nil when none are left.
    public func next(capacity: Int) throws -> ChallengeInputs? {
        precondition(capacity >= 1)
        let first = nextPosition
        let (sum, overflow) = first.addingReportingOverflow(capacity)
        let end = overflow ? Int.max : sum
        var entries: [Entry] = []
        var more = false
        while let entry = try pending ?? readLine() {
            pending = nil
            guard entry.image % ranks == rank else { continue }
            if entry.image / ranks >= end { pending = entry; more = true; break }
            entries.append(entry)
        }
        // Positions first ..< last: the whole batch when images follow, else up to the file's last image.
        let mine = imageCount > rank ? (imageCount - 1 - rank) / ranks + 1 : 0
        let last = more ? end : min(end, mine)
        guard last > first else { return nil }
        nextPosition = last
        return try batch(entries, positions: first..<last)
    }

    /// One batch's rows: entries sorted by (image, pixel) (they already are, by image), a
    /// pixel given twice is an error.
    private func batch(_ unsorted: [Entry], positions: Range<Int>) throws -> ChallengeInputs {
        var entries = unsorted
        if zip(entries, entries.dropFirst()).contains(where: { ($0.image, $0.pixel) >= ($1.image, $1.pixel) }) {
            entries.sort { ($0.image, $0.pixel, $0.line) < ($1.image, $1.pixel, $1.line) }
        }
        var offsets = [Int](repeating: 0, count: positions.count + 1)
        for (q, e) in entries.enumerated() {
            offsets[e.image / ranks - positions.lowerBound + 1] += 1
            if q > 0, entries[q - 1].image == e.image, entries[q - 1].pixel == e.pixel {
                let (a, b) = (min(entries[q - 1].line, e.line), max(entries[q - 1].line, e.line))
                throw scanner.error("pixel \(e.pixel + 1) of image \(e.image + 1) appears twice (also line \(a))", line: b)
            }
        }
        for k in 0..<positions.count { offsets[k + 1] += offsets[k] }
        return ChallengeInputs(neurons: neurons, ids: positions.map { rank + $0 * ranks }, offsets: offsets,
                               pixels: entries.map(\.pixel), values: entries.map(\.value))
    }

    /// The next line, checked; nil at the end of the file.
    private func readLine() throws -> Entry? {
        while scanner.atEnd { guard try refill() else { return nil } }
        let line = scanner.line
        let m = try scanner.integer(); try scanner.tab()
        let p = try scanner.integer(); try scanner.tab()
        let v = try scanner.number(); try scanner.endOfLine()
        guard m >= 1 else { throw scanner.error("image index \(m) is not positive", line: line) }
        if let limit, m > limit { throw scanner.error("image index \(m) exceeds the \(limit) inputs", line: line) }
        guard (1...neurons).contains(p) else { throw scanner.error("pixel \(p) is outside 1...\(neurons)", line: line) }
        guard m - 1 >= lastImage else {
            throw scanner.error("image \(m) after image \(lastImage + 1): the lines must be grouped by image in increasing order",
                                line: line)
        }
        lastImage = m - 1
        imageCount = max(imageCount, m)
        return Entry(image: m - 1, pixel: Int32(p - 1), value: Float(v), line: line)
    }

    /// Scans the next piece of the file: its complete lines (the last line of the file may lack
    /// its newline). Returns false at the end of the file.
    private func refill() throws -> Bool {
        var bytes = carry
        carry = []
        var searched = 0
        while true {
            let got = try reader.append(to: &bytes, count: pieceSize)
            if got == 0 { break }
            if let newline = bytes[searched...].lastIndex(of: 10) {
                carry = Array(bytes[(newline + 1)...])
                bytes.removeSubrange((newline + 1)...)
                break
            }
            searched = bytes.count   // one line longer than a piece: read on
        }
        guard !bytes.isEmpty else { return false }
        scanner = TSVScanner(bytes: bytes, path: path, firstLine: scanner.line)
        return true
    }
}
