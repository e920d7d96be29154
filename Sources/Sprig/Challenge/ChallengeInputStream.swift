import Foundation

/// Reads a challenge inputs file (`image pixel value` per line, 1-based, plain or `.gz`) a
/// batch of images at a time, so memory stays bounded whatever the file's size: the inputs of
/// the 65536-neuron network run to ~17 GB of text. Lines come grouped by image in increasing
/// order, as the challenge writes them (an image going back is an error naming the line);
/// pixels within an image may come in any order. Reading is strict, as `ChallengeFiles`.
///
/// A batch holds only images that have lines: an image without any is all zero, which a
/// non-positive bias keeps at zero, so it can never be a category. A file whose indices jump
/// far ahead therefore costs nothing for the images skipped; an index above
/// `largestImageIndex` is an error naming the line.
///
/// With `ranks` > 1, image m (0-based) belongs to rank m mod ranks: every rank reads and checks
/// the whole file and keeps its own images, so the split is even however many images the file
/// holds.
public final class ChallengeInputStream {
    public let path: String
    public let neurons: Int
    public let rank: Int
    public let ranks: Int
    /// Images 1 … imageCount: the largest index read so far (or the `count` given), which is
    /// the file's once `next` has returned nil.
    public private(set) var imageCount: Int

    /// The largest image index a file may hold (the challenge's files hold at most 60 000).
    public static let largestImageIndex = Int(Int32.max)

    private struct Entry { var image: Int; var pixel: Int32; var value: Float; var line: Int }

    private let pieceSize: Int
    private let limit: Int
    private let reader: GzipReader
    private var scanner: TSVScanner
    private var carry: [UInt8] = []     // the unfinished last line of the previous piece
    private var pending: Entry?         // the first line of the next batch, read while filling this one
    private var lastImage = -1

    /// `count`: the number of images when known (an index above it is an error);
    /// `pieceSize`: the bytes read from the file at a time.
    public init(path: String, neurons: Int, count: Int? = nil, rank: Int = 0, ranks: Int = 1, pieceSize: Int = 1 << 24) throws {
        precondition(ranks >= 1 && (0..<ranks).contains(rank) && pieceSize >= 1 && (1...Int(Int32.max)).contains(neurons))
        self.pieceSize = pieceSize
        self.path = path
        self.neurons = neurons
        self.rank = rank
        self.ranks = ranks
        limit = min(count ?? Self.largestImageIndex, Self.largestImageIndex)
        imageCount = count ?? 0
        reader = try GzipReader(path: path)
        scanner = TSVScanner(bytes: [], path: path)
    }

    /// The next batch of at most `capacity` of this rank's images that have lines, ascending;
    /// nil when none are left.
    public func next(capacity: Int) throws -> ChallengeInputs? {
        precondition(capacity >= 1)
        // The rows are built as the lines come: batch row k is image ids[k], whose lines start
        // at file line starts[k].line with entry number starts[k].entry.
        var ids: [Int] = [], starts: [(line: Int, entry: Int)] = []
        var builder = CSRBuilder(columns: neurons)
        var values: [Float] = []
        // The scanner is a local while parsing (a class's stored struct mutated per call would pay
        // a dynamic exclusivity check on every integer), and uniquely owned, so refills reuse it.
        var scanner = self.scanner
        self.scanner = TSVScanner(bytes: [], path: path)
        defer { self.scanner = scanner }
        var current = -1   // the image of the batch's last row
        while let entry = try pending ?? readLine(&scanner) {
            pending = nil
            guard entry.image % ranks == rank else { continue }
            if entry.image != current {
                // A full batch, or one whose entries could pass 32-bit slots with another image.
                if ids.count == capacity || builder.count > Int(Int32.max) - neurons { pending = entry; break }
                ids.append(entry.image)
                starts.append((entry.line, builder.count))
                current = entry.image
            }
            builder.append(row: Int32(ids.count - 1), column: entry.pixel)
            values.append(entry.value)
        }
        guard !ids.isEmpty else { return nil }
        let (pattern, entryOfSlot) = try builder.build(rows: ids.count) { k, pixel, earlier, later in
            let line = { (e: Int) in starts[k].line + e - starts[k].entry }
            return SprigError.format(path: path, reason: "line \(line(later)): pixel \(pixel + 1) of image \(ids[k] + 1) appears twice "
                                     + "(also line \(line(earlier)))")
        }
        return ChallengeInputs(neurons: neurons, ids: ids, offsets: pattern.rowOffsets, pixels: pattern.columnIndices,
                               values: entryOfSlot.map { $0.map { values[Int($0)] } } ?? values)
    }

    /// The next line, checked; nil at the end of the file.
    private func readLine(_ scanner: inout TSVScanner) throws -> Entry? {
        while scanner.atEnd { guard try refill(&scanner) else { return nil } }
        let line = scanner.line
        let m = try scanner.integer(); try scanner.tab()
        let p = try scanner.integer(); try scanner.tab()
        let v = try scanner.float(); try scanner.endOfLine()
        guard m >= 1 else { throw scanner.error("image index \(m) is not positive", line: line) }
        guard m <= limit else {
            throw scanner.error(limit == Self.largestImageIndex ? "image index \(m) is above \(limit), the largest supported"
                                                                : "image index \(m) exceeds the \(limit) inputs", line: line)
        }
        guard (1...neurons).contains(p) else { throw scanner.error("pixel \(p) is outside 1...\(neurons)", line: line) }
        guard m - 1 >= lastImage else {
            throw scanner.error("image \(m) after image \(lastImage + 1): the lines must be grouped by image in increasing order",
                                line: line)
        }
        lastImage = m - 1
        imageCount = max(imageCount, m)
        return Entry(image: m - 1, pixel: Int32(p - 1), value: v, line: line)
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

extension ChallengeInputStream {
    /// A path that can be read more than once (`challenge run --repeat`): `path` itself when it
    /// names a regular file; otherwise (a FIFO, a pipe, a device) a temporary file holding
    /// everything read from it, once, which the caller removes (`temporary` true). A FIFO read
    /// once per pass would block forever on the second.
    public static func rereadable(path: String) throws -> (path: String, temporary: Bool) {
        var status = stat()
        guard stat(path, &status) == 0 else { throw SprigError.fileError(path: path, action: "read the inputs", errno: errno) }
        if (status.st_mode & S_IFMT) == S_IFREG { return (path, false) }
        let source = open(path, O_RDONLY | O_CLOEXEC)
        guard source >= 0 else { throw SprigError.fileError(path: path, action: "read the inputs", errno: errno) }
        defer { close(source) }
        var template = Array((NSTemporaryDirectory() as NSString).appendingPathComponent("sprig-inputs-XXXXXX").utf8CString)
        let target = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        let copy = String(cString: template)
        guard target >= 0 else { throw SprigError.fileError(path: copy, action: "create a copy of the inputs", errno: errno) }
        defer { close(target) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        do {
            while true {
                let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw SprigError.fileError(path: path, action: "read the inputs", errno: errno) }
                if n == 0 { break }
                var written = 0
                while written < n {
                    let w = buffer[written..<n].withUnsafeBytes { write(target, $0.baseAddress, $0.count) }
                    if w < 0 && errno == EINTR { continue }
                    guard w > 0 else { throw SprigError.fileError(path: copy, action: "write a copy of the inputs", errno: errno) }
                    written += w
                }
            }
        } catch {
            unlink(copy)
            throw error
        }
        return (copy, true)
    }
}
