import Foundation

/// Loads MNIST-style data sets (MNIST, Fashion-MNIST) from their four IDX files:
/// `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte`, each plain or gzip-compressed with a `.gz` suffix (the plain file
/// wins when both exist). Images are `count × rows × cols` bytes, scaled to `x / 255` in
/// [0, 1]; labels are `count` bytes in 0 ... 9.
public enum MNISTLoader {
    /// The number of classes of every MNIST-style data set.
    public static let classCount = 10

    /// The training and test sets in `directory`; both are named `name`.
    public static func load(directory: String, name: String) throws -> (train: Dataset, test: Dataset) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw SprigError.io(path: directory, reason: "data directory not found")
        }
        let train = try loadSplit(directory: directory, name: name,
                                  images: "train-images-idx3-ubyte", labels: "train-labels-idx1-ubyte")
        let test = try loadSplit(directory: directory, name: name,
                                 images: "t10k-images-idx3-ubyte", labels: "t10k-labels-idx1-ubyte")
        guard train.featureCount == test.featureCount else {
            throw SprigError.format(path: directory, reason: "training images have \(train.featureCount) pixels "
                                    + "each but test images have \(test.featureCount)")
        }
        return (train, test)
    }

    /// One split from its image and label files (base names, without `.gz`).
    private static func loadSplit(directory: String, name: String, images: String, labels: String) throws -> Dataset {
        let imagePath = try locate(images, in: directory)
        let labelPath = try locate(labels, in: directory)
        let imageFile = try IDXFile.read(path: imagePath)
        let labelFile = try IDXFile.read(path: labelPath)
        guard imageFile.dimensions.count == 3 else {
            throw SprigError.format(path: imagePath, reason: "expected 3 dimensions (images × rows × columns) "
                                    + "but the file has \(imageFile.dimensions.count): \(imageFile.dimensions)")
        }
        guard labelFile.dimensions.count == 1 else {
            throw SprigError.format(path: labelPath, reason: "expected 1 dimension (labels) but the file has "
                                    + "\(labelFile.dimensions.count): \(labelFile.dimensions)")
        }
        let imageCount = imageFile.dimensions[0]
        let labelCount = labelFile.dimensions[0]
        guard imageCount == labelCount else {
            throw SprigError.format(path: labelPath, reason: "\(fileName(labelPath)) has \(labelCount) labels but "
                                    + "\(fileName(imagePath)) has \(imageCount) images")
        }
        let featureCount = imageFile.dimensions[1] * imageFile.dimensions[2]
        guard featureCount > 0 else {
            throw SprigError.format(path: imagePath, reason: "images have no pixels (\(imageFile.dimensions))")
        }
        var classes: [Int32] = []
        classes.reserveCapacity(labelCount)
        for (index, label) in labelFile.bytes.enumerated() {
            guard Int(label) < classCount else {
                throw SprigError.format(path: labelPath, reason: "label \(label) at index \(index) is out of "
                                        + "range 0...\(classCount - 1)")
            }
            classes.append(Int32(label))
        }
        return Dataset(name: name, featureCount: featureCount, classCount: classCount,
                       bytes: imageFile.bytes, values: PixelScaling.unitInterval, labels: classes)
    }

    /// `directory/base` if it exists, else `directory/base.gz`.
    private static func locate(_ base: String, in directory: String) throws -> String {
        let plain = (directory as NSString).appendingPathComponent(base)
        if FileManager.default.fileExists(atPath: plain) { return plain }
        let compressed = plain + ".gz"
        if FileManager.default.fileExists(atPath: compressed) { return compressed }
        throw SprigError.io(path: plain, reason: "missing data file: expected \(base) or \(base).gz in \(directory)")
    }

    private static func fileName(_ path: String) -> String { (path as NSString).lastPathComponent }
}
