import Foundation

/// A learnable synthetic classification task for tests and benchmarks, with no files.
///
/// Inputs are i.i.d. standard normal, quantised to bytes like image pixels (byte
/// b = clamp(round(128 + 32·z), 0, 255), value (b − 128)/32: a normal clipped at ±4σ in steps of
/// 1/32), so a CIFAR-shaped synthetic set takes the memory real CIFAR-10 does. Labels come from a fixed random linear "teacher":
/// class `c` looks at `min(64, featureCount)` distinct features `f` chosen at random, with
/// Gaussian weights `w[c][f]` scaled to unit norm, and `label(x) = argmax_c Σ_f w[c][f] · x[f]`
/// (ties to the lower class). Unit-norm rows give every class score the same N(0, 1) spread, so
/// classes come out roughly balanced, and the task is linearly separable.
///
/// Everything is drawn from `seed` through separate `RandomGenerator` streams — one for the
/// teacher and one per example — so the result does not depend on the number of threads
/// generating it (examples are generated in parallel). Cost is O(count · featureCount) normal
/// draws (Marsaglia's polar method, both values of each pair used) plus O(count · classCount · 64)
/// for the labels.
public enum SyntheticDataset {
    /// The most input features one class of the teacher looks at.
    public static let teacherFeaturesPerClass = 64

    /// Stream numbers: the teacher, then training example `i` at `trainStream + i`, test
    /// example `i` at `testStream + i`.
    private static let teacherStream: UInt64 = 0
    private static let trainStream: UInt64 = 1 << 40
    private static let testStream: UInt64 = 2 << 40

    /// The teacher: for each class, the features it reads and their weights.
    private struct Teacher: Sendable {
        var features: [[Int]]
        var weights: [[Float]]
    }

    /// A training and a test set named "synthetic", drawn from the same teacher.
    /// Negative example counts are treated as 0, and `featureCount`/`classCount` below 1 as 1.
    public static func make(featureCount: Int, classCount: Int, trainCount: Int, testCount: Int,
                            seed: UInt64) -> (train: Dataset, test: Dataset) {
        let featureCount = max(featureCount, 1)
        let classCount = max(classCount, 1)
        let teacher = makeTeacher(featureCount: featureCount, classCount: classCount, seed: seed)
        let train = makeSplit(count: max(trainCount, 0), featureCount: featureCount, classCount: classCount,
                              teacher: teacher, seed: seed, firstStream: trainStream)
        let test = makeSplit(count: max(testCount, 0), featureCount: featureCount, classCount: classCount,
                             teacher: teacher, seed: seed, firstStream: testStream)
        return (train, test)
    }

    private static func makeTeacher(featureCount: Int, classCount: Int, seed: UInt64) -> Teacher {
        var random = RandomGenerator(seed: seed, stream: teacherStream)
        let perClass = min(teacherFeaturesPerClass, featureCount)
        var features: [[Int]] = []
        var weights: [[Float]] = []
        for _ in 0 ..< classCount {
            // Distinct features by rejection (perClass ≤ 64, so the set stays small).
            var chosen: [Int] = []
            var seen = Set<Int>()
            while chosen.count < perClass {
                let feature = random.below(featureCount)
                if seen.insert(feature).inserted { chosen.append(feature) }
            }
            var row = (0 ..< perClass).map { _ in random.normal() }
            let norm = row.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { row = row.map { $0 / norm } }
            features.append(chosen)
            weights.append(row)
        }
        return Teacher(features: features, weights: weights)
    }

    /// The value of byte b: (b − 128)/32.
    static let byteValues: [Float] = (0 ..< 256).map { (Float($0) - 128) / 32 }

    private static func makeSplit(count: Int, featureCount: Int, classCount: Int, teacher: Teacher,
                                  seed: UInt64, firstStream: UInt64) -> Dataset {
        var labels = [Int32](repeating: 0, count: count)
        var bytes = [UInt8](repeating: 0, count: count * featureCount)
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let values = byteValues
        bytes.withUnsafeMutableBufferPointer { byteBuffer in
            labels.withUnsafeMutableBufferPointer { labelBuffer in
                ThreadPool(threads: threads).forEachRange(count, minimumPerThread: 64) { examples in
                    let x = UnsafeMutablePointer<Float>.allocate(capacity: max(featureCount, 1))
                    defer { x.deallocate() }
                    for example in examples {
                        var random = RandomGenerator(seed: seed, stream: firstStream &+ UInt64(example))
                        fillStandardNormal(x, count: featureCount, random: &random)
                        let row = byteBuffer.baseAddress! + example * featureCount
                        for f in 0 ..< featureCount {
                            let b = UInt8(min(max((128 + 32 * x[f]).rounded(), 0), 255))
                            row[f] = b
                            x[f] = values[Int(b)]
                        }
                        labelBuffer[example] = Int32(teacherLabel(x, teacher: teacher))
                    }
                }
            }
        }
        return Dataset(name: "synthetic", featureCount: featureCount, classCount: classCount,
                       bytes: bytes, values: values, labels: labels)
    }

    /// Fills `count` values with N(0, 1) draws by Marsaglia's polar method: u, v uniform in
    /// (−1, 1) (24 bits each, from one 64-bit draw), rejected unless 0 < s = u² + v² < 1, then
    /// u·√(−2 ln s / s) and v·√(−2 ln s / s) are two independent standard normals.
    private static func fillStandardNormal(_ x: UnsafeMutablePointer<Float>, count: Int,
                                           random: inout RandomGenerator) {
        var i = 0
        while i < count {
            let bits = random.next()
            let u = Float(bits >> 40) * 0x1p-23 - 1
            let v = Float(bits >> 16 & 0xFF_FFFF) * 0x1p-23 - 1
            let s = u * u + v * v
            if s >= 1 || s == 0 { continue }
            let factor = (-2 * logf(s) / s).squareRoot()
            x[i] = u * factor
            if i + 1 < count { x[i + 1] = v * factor }
            i += 2
        }
    }

    /// `argmax_c Σ_f w[c][f] · x[f]`, the lowest class on ties.
    private static func teacherLabel(_ x: UnsafeMutablePointer<Float>, teacher: Teacher) -> Int {
        var best = 0
        var bestScore = -Float.infinity
        for c in 0 ..< teacher.features.count {
            var score: Float = 0
            let features = teacher.features[c], weights = teacher.weights[c]
            for k in 0 ..< features.count { score += weights[k] * x[features[k]] }
            if score > bestScore {
                best = c
                bestScore = score
            }
        }
        return best
    }
}
