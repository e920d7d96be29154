import Foundation

/// Loads CIFAR-10 in its binary distribution: `data_batch_1.bin` … `data_batch_5.bin` (training)
/// and `test_batch.bin` (test), found in the given directory or in its `cifar-10-batches-bin`
/// subdirectory. Each file is a sequence of 3073-byte records: one label byte (0 ... 9), then
/// 3072 pixel bytes — the 32 × 32 red plane, then green, then blue, each row-major.
/// Features keep that channel-major order and are scaled to `x / 255` in [0, 1].
public enum CIFAR10Loader {
    public static let classCount = 10
    public static let featureCount = 3072
    /// Bytes per record: the label and the pixels.
    public static let recordSize = 1 + featureCount
    public static let trainFiles = (1 ... 5).map { "data_batch_\($0).bin" }
    public static let testFiles = ["test_batch.bin"]

    /// The training set (all five batches in order) and the test set, both named "cifar10".
    public static func load(directory: String) throws -> (train: Dataset, test: Dataset) {
        let folder = try locateFolder(directory)
        let train = try loadSplit(trainFiles.map { (folder as NSString).appendingPathComponent($0) })
        let test = try loadSplit(testFiles.map { (folder as NSString).appendingPathComponent($0) })
        return (train, test)
    }

    /// `directory` or `directory/cifar-10-batches-bin`, whichever holds all six files.
    private static func locateFolder(_ directory: String) throws -> String {
        let fileManager = FileManager.default
        var isDirectory: ObjCBool = false
        guard fileManager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw SprigError.io(path: directory, reason: "data directory not found")
        }
        let nested = (directory as NSString).appendingPathComponent("cifar-10-batches-bin")
        let candidates = [directory, nested].filter {
            fileManager.fileExists(atPath: $0, isDirectory: &isDirectory) && isDirectory.boolValue
        }
        var missingByCandidate: [[String]] = []
        for candidate in candidates {
            let missing = (trainFiles + testFiles).filter {
                !fileManager.fileExists(atPath: (candidate as NSString).appendingPathComponent($0))
            }
            if missing.isEmpty { return candidate }
            missingByCandidate.append(missing)
        }
        // Report against the folder that has the most of the files.
        let best = zip(candidates, missingByCandidate).min { $0.1.count < $1.1.count }!
        throw SprigError.io(path: best.0, reason: "missing CIFAR-10 file(s): "
                            + best.1.joined(separator: ", ") + " (expected data_batch_1.bin … data_batch_5.bin "
                            + "and test_batch.bin here or in a cifar-10-batches-bin subdirectory)")
    }

    /// The records of `paths`, concatenated in order, after checking sizes and labels.
    private static func loadSplit(_ paths: [String]) throws -> Dataset {
        var contents: [[UInt8]] = []
        for path in paths {
            let bytes = try GzipFile.readAll(path: path)
            guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
                throw SprigError.format(path: path, reason: "size \(bytes.count) bytes is not a positive multiple "
                                        + "of the \(recordSize)-byte CIFAR-10 record (1 label + 3072 pixels)")
            }
            for record in 0 ..< bytes.count / recordSize {
                let label = bytes[record * recordSize]
                guard Int(label) < classCount else {
                    throw SprigError.format(path: path, reason: "record \(record) has label \(label), expected "
                                            + "0...\(classCount - 1)")
                }
            }
            contents.append(bytes)
        }
        let total = contents.reduce(0) { $0 + $1.count / recordSize }
        var labels: [Int32] = []
        labels.reserveCapacity(total)
        var pixels: [UInt8] = []
        pixels.reserveCapacity(total * featureCount)
        for bytes in contents {
            for record in 0 ..< bytes.count / recordSize {
                let start = record * recordSize
                labels.append(Int32(bytes[start]))
                pixels.append(contentsOf: bytes[(start + 1) ..< (start + recordSize)])
            }
        }
        return Dataset(name: "cifar10", featureCount: featureCount, classCount: classCount,
                       bytes: pixels, values: PixelScaling.unitInterval, labels: labels)
    }
}
