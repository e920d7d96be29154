import Foundation

/// Challenge inputs from an image data set (Fashion-MNIST): each 28×28 image is resized to
/// s×s (s = √N) by bilinear interpolation (pixel centres aligned, edges clamped), thresholded
/// at 0.5 of full scale, and flattened column-major: pixel (row r, column c) is input c·s + r.
public enum ChallengeImages {
    public static func inputs(from data: Dataset, side: Int, count: Int) throws -> ChallengeInputs {
        let source = Int(Double(data.featureCount).squareRoot())
        guard source * source == data.featureCount else {
            throw SprigError.invalidArgument("\(data.name) images are not square (\(data.featureCount) pixels)")
        }
        let images = min(count, data.count)
        let values = data.allFeatures()   // [0, 1] when read as pixels / 255
        var offsets = [0], pixels: [Int32] = []
        let scale = Double(source) / Double(side)
        for m in 0..<images {
            let image = m * data.featureCount
            func at(_ r: Int, _ c: Int) -> Double {
                Double(values[image + min(max(r, 0), source - 1) * source + min(max(c, 0), source - 1)])
            }
            for c in 0..<side {
                let x = (Double(c) + 0.5) * scale - 0.5, c0 = Int(x.rounded(.down)), fx = x - Double(c0)
                for r in 0..<side {
                    let y = (Double(r) + 0.5) * scale - 0.5, r0 = Int(y.rounded(.down)), fy = y - Double(r0)
                    let v = (1 - fy) * ((1 - fx) * at(r0, c0) + fx * at(r0, c0 + 1)) + fy * ((1 - fx) * at(r0 + 1, c0) + fx * at(r0 + 1, c0 + 1))
                    if v > 0.5 { pixels.append(Int32(c * side + r)) }
                }
            }
            offsets.append(pixels.count)
        }
        return ChallengeInputs(neurons: side * side, offsets: offsets, pixels: pixels,
                               values: [Float](repeating: 1, count: pixels.count))
    }

    /// The inputs in the challenge's format: `image pixel 1` (1-based), by image.
    public static func tsv(_ inputs: ChallengeInputs) -> String {
        var text = ""
        for m in 0..<inputs.count {
            for q in inputs.offsets[m]..<inputs.offsets[m + 1] { text += "\(m + 1)\t\(inputs.pixels[q] + 1)\t1\n" }
        }
        return text
    }
}
