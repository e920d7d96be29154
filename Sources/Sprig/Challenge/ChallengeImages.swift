import Foundation

/// Challenge inputs from an image data set (Fashion-MNIST): each 28×28 image is resized to
/// s×s (s = √N) by bilinear interpolation (pixel centres aligned, edges clamped), thresholded
/// (kept where above `threshold` of full scale, 0.5 by default), and flattened column-major:
/// pixel (row r, column c) is input c·s + r. Every kept pixel has the value 1.
public struct ChallengeImages {
    public let side: Int
    /// The images used: the data set's first `count` (more than it has is an error).
    public let count: Int
    /// A pixel is kept where its resized value exceeds this fraction of full scale.
    public let threshold: Double
    private let source: Int
    private let values: [Float]   // [0, 1]: pixels / 255

    public init(from data: Dataset, side: Int, count: Int, threshold: Double = 0.5) throws {
        guard threshold.isFinite, threshold >= 0, threshold < 1 else {
            throw SprigError.invalidArgument("threshold \(threshold) is not in [0, 1)")
        }
        source = Int(Double(data.featureCount).squareRoot())
        guard source * source == data.featureCount else {
            throw SprigError.invalidArgument("\(data.name) images are not square (\(data.featureCount) pixels)")
        }
        guard count <= data.count else {
            throw SprigError.invalidArgument("\(count) inputs asked for, but \(data.name) has \(data.count) images")
        }
        self.side = side
        self.count = count
        self.threshold = threshold
        values = data.allFeatures()
    }

    /// Image m's inputs (0-based, ascending).
    public func pixels(ofImage m: Int) -> [Int32] {
        let image = m * source * source, scale = Double(source) / Double(side)
        func at(_ r: Int, _ c: Int) -> Double {
            Double(values[image + min(max(r, 0), source - 1) * source + min(max(c, 0), source - 1)])
        }
        var pixels: [Int32] = []
        for c in 0..<side {
            let x = (Double(c) + 0.5) * scale - 0.5, c0 = Int(x.rounded(.down)), fx = x - Double(c0)
            for r in 0..<side {
                let y = (Double(r) + 0.5) * scale - 0.5, r0 = Int(y.rounded(.down)), fy = y - Double(r0)
                let v = (1 - fy) * ((1 - fx) * at(r0, c0) + fx * at(r0, c0 + 1)) + fy * ((1 - fx) * at(r0 + 1, c0) + fx * at(r0 + 1, c0 + 1))
                if v > threshold { pixels.append(Int32(c * side + r)) }
            }
        }
        return pixels
    }

    /// All images as one batch.
    public func inputs() -> ChallengeInputs {
        var offsets = [0], pixels: [Int32] = []
        for m in 0..<count { pixels += self.pixels(ofImage: m); offsets.append(pixels.count) }
        return ChallengeInputs(neurons: side * side, ids: Array(0..<count), offsets: offsets, pixels: pixels,
                               values: [Float](repeating: 1, count: pixels.count))
    }

    /// Writes the inputs in the challenge's format (`image pixel 1`, 1-based, by image) to
    /// `path`, a block of images at a time (memory stays small whatever N), atomically.
    /// Returns the number of pixels written.
    @discardableResult
    public func writeTSV(to path: String, pool: ThreadPool) throws -> Int {
        let block = 64 * pool.threads
        var total = 0
        try AtomicFile.write(to: path) { write in
            for start in stride(from: 0, to: count, by: block) {
                let images = start..<min(start + block, count)
                var pieces = [[UInt8]](repeating: [], count: pool.threads), lines = [Int](repeating: 0, count: pool.threads)
                pieces.withUnsafeMutableBufferPointer { pieces in
                    lines.withUnsafeMutableBufferPointer { lines in
                        pool.run(parts: pool.threads) { k in
                            let mine = images.lowerBound + images.count * k / pool.threads ..< images.lowerBound + images.count * (k + 1) / pool.threads
                            for m in mine {
                                let prefix = Array("\(m + 1)\t".utf8), pixels = self.pixels(ofImage: m)
                                lines[k] += pixels.count
                                for p in pixels {
                                    pieces[k] += prefix
                                    Self.appendDecimal(Int(p) + 1, to: &pieces[k])
                                    pieces[k] += [9, 49, 10]   // "\t1\n"
                                }
                            }
                        }
                    }
                }
                for piece in pieces { try write(piece) }
                total += lines.reduce(0, +)
            }
        }
        return total
    }

    /// Appends the decimal digits of `value` (≥ 0).
    private static func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &bytes) }
        bytes.append(UInt8(48 + value % 10))
    }
}
