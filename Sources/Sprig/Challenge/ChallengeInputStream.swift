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
        // The rows are built as the lines come: offsets[k] starts position first + k.
        var offsets = [0], pixels: [Int32] = [], values: [Float] = []
        var current = -1   // the batch index of the image being read
        var previous = (pixel: Int32(-1), line: 0), imageLines = 0..<0
        var unordered: [(position: Int, lines: Range<Int>)] = []
        var more = false
        // The scanner is a local while parsing (a class's stored struct mutated per call would pay
        // a dynamic exclusivity check on every integer), and uniquely owned, so refills reuse it.
        var scanner = self.scanner
        self.scanner = TSVScanner(bytes: [], path: path)
        defer { self.scanner = scanner }
        while let entry = try pending ?? readLine(&scanner) {
            pending = nil
            guard entry.image % ranks == rank else { continue }
            let position = entry.image / ranks
            if position >= end { pending = entry; more = true; break }
            let k = position - first
            if k != current {
                // A new image: close the ones before it (images without lines stay empty).
                while offsets.count - 1 < k { offsets.append(pixels.count) }
                current = k
                previous = (-1, 0)
                imageLines = entry.line..<entry.line
            }
            if entry.pixel == previous.pixel {
                throw SprigError.format(path: path, reason: "line \(entry.line): pixel \(entry.pixel + 1) of image \(entry.image + 1) "
                                        + "appears twice (also line \(previous.line))")
            }
            if entry.pixel < previous.pixel, unordered.last?.position != k { unordered.append((k, imageLines)) }
            imageLines = imageLines.lowerBound..<(entry.line + 1)
            if unordered.last?.position == k { unordered[unordered.count - 1].lines = imageLines }
            previous = (entry.pixel, entry.line)
            pixels.append(entry.pixel)
            values.append(entry.value)
        }
        // Positions first ..< last: the whole batch when images follow, else up to the file's last image.
        let mine = imageCount > rank ? (imageCount - 1 - rank) / ranks + 1 : 0
        let last = more ? end : min(end, mine)
        guard last > first else { return nil }
        nextPosition = last
        while offsets.count < last - first + 1 { offsets.append(pixels.count) }
        // Images whose pixels came out of order: sorted, then checked for a pixel given twice.
        for (k, lines) in unordered {
            let rows = offsets[k]..<offsets[k + 1]
            let sorted = rows.sorted { pixels[$0] < pixels[$1] }.map { (pixels[$0], values[$0]) }
            for (q, (pixel, value)) in zip(rows, sorted) {
                if q > rows.lowerBound && pixels[q - 1] == pixel {
                    throw SprigError.format(path: path, reason: "lines \(lines.lowerBound)–\(lines.upperBound - 1): pixel \(pixel + 1) "
                                            + "of image \(rank + (first + k) * ranks + 1) appears twice")
                }
                pixels[q] = pixel
                values[q] = value
            }
        }
        return ChallengeInputs(neurons: neurons, ids: (first..<last).map { rank + $0 * ranks }, offsets: offsets,
                               pixels: pixels, values: values)
    }

    /// The next line, checked; nil at the end of the file.
    private func readLine(_ scanner: inout TSVScanner) throws -> Entry? {
        while scanner.atEnd { guard try refill(&scanner) else { return nil } }
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
    /// its newline), in the previous piece's storage. Returns false at the end of the file.
    private func refill(_ scanner: inout TSVScanner) throws -> Bool {
        var bytes = scanner.takeBytes()
        bytes.removeAll(keepingCapacity: true)
        bytes.reserveCapacity(2 * pieceSize)
        bytes += carry
        carry.removeAll(keepingCapacity: true)
        var searched = 0
        while true {
            let got = try reader.append(to: &bytes, count: pieceSize)
            if got == 0 { break }
            if let newline = bytes[searched...].lastIndex(of: 10) {
                carry += bytes[(newline + 1)...]
                bytes.removeSubrange((newline + 1)...)
                break
            }
            searched = bytes.count   // one line longer than a piece: read on
        }
        guard !bytes.isEmpty else { return false }
        scanner = TSVScanner(bytes: consume bytes, path: path, firstLine: scanner.line)
        return true
    }
}
