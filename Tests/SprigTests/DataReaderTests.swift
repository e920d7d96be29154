import Foundation
import Sprig
import XCTest

/// The IDX, MNIST, CIFAR-10 and synthetic data sources, and `Dataset`/`Normalization`.
final class DataReaderTests: XCTestCase {
    // MARK: IDX files

    /// An IDX file of unsigned bytes: 0, 0, 0x08, rank, big-endian sizes, data.
    private func idx(_ dimensions: [Int], _ data: [UInt8], typeCode: UInt8 = 0x08) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, typeCode, UInt8(dimensions.count)]
        for size in dimensions {
            for shift in [24, 16, 8, 0] { bytes.append(UInt8(truncatingIfNeeded: size >> shift)) }
        }
        return bytes + data
    }

    func testIDXReadsPlainAndGzippedFiles() throws {
        let directory = try TestFiles.makeDirectory(self)
        let data: [UInt8] = (0 ..< 30).map { (index: Int) -> UInt8 in UInt8(index * 8 + 1) }
        let path = directory + "/images-idx3-ubyte"
        try TestFiles.write(idx([3, 2, 5], data), to: path)
        let plain = try IDXFile.read(path: path)
        XCTAssertEqual(plain.dimensions, [3, 2, 5])
        XCTAssertEqual(plain.bytes, data)
        let gzipped = try IDXFile.read(path: TestFiles.gzip(path))
        XCTAssertEqual(gzipped, plain)
        // Dimensions above 2^16 and 2^24 exercise every byte of the big-endian sizes.
        let wide = [UInt8](repeating: 7, count: 70_000)
        try TestFiles.write(idx([70_000], wide), to: path)
        XCTAssertEqual(try IDXFile.read(path: path).dimensions, [70_000])
        XCTAssertEqual(try IDXFile.parse(idx([0x0100_0000, 0], []), path: "x").dimensions, [0x0100_0000, 0])
    }

    func testIDXRejectsMalformedFiles() throws {
        let directory = try TestFiles.makeDirectory(self)
        let path = directory + "/bad-idx1-ubyte"
        let good = idx([4], [1, 2, 3, 4])

        var wrongMagic = good
        wrongMagic[0] = 0x1F
        try TestFiles.write(wrongMagic, to: path)
        assertSprigError(try IDXFile.read(path: path), kind: .format, mentions: ["bad-idx1-ubyte", "magic"])

        try TestFiles.write(Array(good.dropLast()), to: path)
        assertSprigError(try IDXFile.read(path: path), kind: .format,
                         mentions: ["bad-idx1-ubyte", "need 4 data bytes", "but 3 follow", "truncated"])

        try TestFiles.write(good + [9, 9], to: path)
        assertSprigError(try IDXFile.read(path: path), kind: .format,
                         mentions: ["bad-idx1-ubyte", "need 4 data bytes", "but 6 follow", "2 trailing bytes"])

        try TestFiles.write(Array(idx([2, 3], []).prefix(9)), to: path)
        assertSprigError(try IDXFile.read(path: path), kind: .format,
                         mentions: ["bad-idx1-ubyte", "truncated IDX header", "12"])

        try TestFiles.write([0, 0], to: path)
        assertSprigError(try IDXFile.read(path: path), kind: .format, mentions: ["bad-idx1-ubyte", "truncated"])

        try TestFiles.write(idx([1], [0, 0, 0, 0], typeCode: 0x0D), to: path)
        assertSprigError(try IDXFile.read(path: path), kind: .format, mentions: ["bad-idx1-ubyte", "0x0D", "float"])
    }

    // MARK: MNIST-style directories

    /// Writes the four files of a tiny MNIST-style data set (2 × 3 pixels); the image files
    /// gzipped, the label files plain. Returns the pixel bytes and labels written.
    @discardableResult
    private func writeMNIST(in directory: String, trainLabels: [UInt8] = [3, 0, 9], testLabels: [UInt8] = [5, 1],
                            trainImageCount: Int = 3) throws -> (train: [UInt8], test: [UInt8]) {
        let trainPixels: [UInt8] = (0 ..< trainImageCount * 6).map { (index: Int) -> UInt8 in UInt8(index * 37 % 256) }
        let testPixels: [UInt8] = [0, 255, 128, 1, 2, 3, 254, 127, 64, 32, 16, 8]
        try TestFiles.write(idx([trainImageCount, 2, 3], trainPixels), to: directory + "/train-images-idx3-ubyte")
        try TestFiles.write(idx([testPixels.count / 6, 2, 3], testPixels), to: directory + "/t10k-images-idx3-ubyte")
        _ = try TestFiles.gzip(directory + "/train-images-idx3-ubyte")
        _ = try TestFiles.gzip(directory + "/t10k-images-idx3-ubyte")
        try FileManager.default.removeItem(atPath: directory + "/train-images-idx3-ubyte")
        try FileManager.default.removeItem(atPath: directory + "/t10k-images-idx3-ubyte")
        try TestFiles.write(idx([trainLabels.count], trainLabels), to: directory + "/train-labels-idx1-ubyte")
        try TestFiles.write(idx([testLabels.count], testLabels), to: directory + "/t10k-labels-idx1-ubyte")
        return (trainPixels, testPixels)
    }

    func testMNISTLoaderReadsSmallDataSet() throws {
        let directory = try TestFiles.makeDirectory(self)
        let pixels = try writeMNIST(in: directory)
        let (train, test) = try MNISTLoader.load(directory: directory, name: "tiny")
        XCTAssertEqual(train.name, "tiny")
        XCTAssertEqual(train.featureCount, 6)
        XCTAssertEqual(train.classCount, 10)
        XCTAssertEqual(train.count, 3)
        XCTAssertEqual(test.count, 2)
        XCTAssertEqual(train.labels, [3, 0, 9])
        XCTAssertEqual(test.labels, [5, 1])
        XCTAssertEqual(train.allFeatures(), pixels.train.map { Float($0) / 255 })
        XCTAssertEqual(test.allFeatures(), pixels.test.map { Float($0) / 255 })
        XCTAssertEqual(test.allFeatures()[0], 0)
        XCTAssertEqual(test.allFeatures()[1], 1)
    }

    func testMNISTLoaderPrefersPlainFileOverGzip() throws {
        let directory = try TestFiles.makeDirectory(self)
        try writeMNIST(in: directory)
        // A plain copy of the labels with different content next to a gzipped one.
        _ = try TestFiles.gzip(directory + "/t10k-labels-idx1-ubyte")
        try TestFiles.write(idx([2], [7, 7]), to: directory + "/t10k-labels-idx1-ubyte")
        XCTAssertEqual(try MNISTLoader.load(directory: directory, name: "tiny").test.labels, [7, 7])
    }

    func testMNISTLoaderRejectsInconsistentFiles() throws {
        let directory = try TestFiles.makeDirectory(self)
        try writeMNIST(in: directory, trainLabels: [1, 2])
        assertSprigError(try MNISTLoader.load(directory: directory, name: "tiny"), kind: .format,
                         mentions: ["train-labels-idx1-ubyte has 2 labels", "train-images-idx3-ubyte.gz has 3 images"])

        try writeMNIST(in: directory, testLabels: [4, 10])
        assertSprigError(try MNISTLoader.load(directory: directory, name: "tiny"), kind: .format,
                         mentions: ["t10k-labels-idx1-ubyte", "label 10 at index 1"])

        try writeMNIST(in: directory)
        try TestFiles.write(idx([2, 3], [0, 1, 2, 3, 4, 5]), to: directory + "/t10k-labels-idx1-ubyte")
        assertSprigError(try MNISTLoader.load(directory: directory, name: "tiny"), kind: .format,
                         mentions: ["t10k-labels-idx1-ubyte", "1 dimension"])

        try writeMNIST(in: directory)
        var corrupt = Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/train-images-idx3-ubyte.gz")))
        corrupt.removeLast(4)
        try TestFiles.write(corrupt, to: directory + "/train-images-idx3-ubyte.gz")
        assertSprigError(try MNISTLoader.load(directory: directory, name: "tiny"), kind: .format,
                         mentions: ["train-images-idx3-ubyte.gz", "gzip"])
    }

    func testMNISTLoaderReportsMissingDirectoryAndFiles() throws {
        let directory = try TestFiles.makeDirectory(self)
        assertSprigError(try MNISTLoader.load(directory: directory + "/nowhere", name: "tiny"), kind: .io,
                         mentions: ["nowhere", "data directory not found"])
        try writeMNIST(in: directory)
        try FileManager.default.removeItem(atPath: directory + "/t10k-images-idx3-ubyte.gz")
        assertSprigError(try MNISTLoader.load(directory: directory, name: "tiny"), kind: .io,
                         mentions: ["t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz", directory])
    }

    /// Fashion-MNIST as distributed (60000 + 10000 images of 28 × 28, 6000 / 1000 per class,
    /// the first training image an ankle boot, class 9).
    func testFashionMNIST() throws {
        let directory = "/usr/share/datasets/fashion-mnist"
        try TestFiles.requireDirectory(directory, package: "dataset-fashion-mnist")
        let (train, test) = try MNISTLoader.load(directory: directory, name: "fashion-mnist")
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(train.featureCount, 784)
        XCTAssertEqual(train.allFeatures().count, 60_000 * 784)
        XCTAssertEqual(test.allFeatures().count, 10_000 * 784)
        XCTAssertEqual(train.labels.first, 9)
        var trainPerClass = [Int](repeating: 0, count: 10), testPerClass = [Int](repeating: 0, count: 10)
        for label in train.labels { trainPerClass[Int(label)] += 1 }
        for label in test.labels { testPerClass[Int(label)] += 1 }
        XCTAssertEqual(trainPerClass, [Int](repeating: 6000, count: 10))
        XCTAssertEqual(testPerClass, [Int](repeating: 1000, count: 10))
        // Pixels are x / 255: undo the scaling and compare sums with NumPy's reading of the files.
        var pixelSum = 0, nonIntegral = 0
        train.allFeatures().withUnsafeBufferPointer { features in
            for value in features {
                let pixel = (value * 255).rounded()
                if abs(value * 255 - pixel) > 1e-3 || pixel < 0 || pixel > 255 { nonIntegral += 1 }
                pixelSum += Int(pixel)
            }
        }
        XCTAssertEqual(nonIntegral, 0)
        let script = """
        import gzip, numpy as np
        raw = gzip.open('\(directory)/train-images-idx3-ubyte.gz').read()
        pixels = np.frombuffer(raw, dtype=np.uint8, offset=16)
        print(int(pixels.sum(dtype=np.int64)), int(pixels[:784].sum()))
        """
        if let probe = try? TestFiles.run(["python3", "-c", "import numpy"]), probe.status == 0,
           FileManager.default.fileExists(atPath: directory + "/train-images-idx3-ubyte.gz") {
            let sums = try TestFiles.python(script).split(separator: " ").map {
                Int($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let firstImageSum = train.allFeatures()[0 ..< 784].reduce(0) { $0 + Int(($1 * 255).rounded()) }
            XCTAssertEqual(sums, [pixelSum, firstImageSum])
        }
    }

    // MARK: CIFAR-10

    /// One CIFAR-10 record: the label, then 3072 pixels derived from `seed`.
    private func cifarRecord(label: UInt8, seed: Int) -> [UInt8] {
        let pixels: [UInt8] = (0 ..< 3072).map { (index: Int) -> UInt8 in UInt8(truncatingIfNeeded: index * 7 + seed * 13) }
        return [label] + pixels
    }

    /// Six batch files of two records each under `folder`.
    private func writeCIFAR(in folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (index, file) in (CIFAR10Loader.trainFiles + CIFAR10Loader.testFiles).enumerated() {
            let records = cifarRecord(label: UInt8(index), seed: 2 * index)
                + cifarRecord(label: UInt8(9 - index), seed: 2 * index + 1)
            try TestFiles.write(records, to: folder + "/" + file)
        }
    }

    func testCIFAR10ReadsNestedOrFlatDirectory() throws {
        let directory = try TestFiles.makeDirectory(self)
        try writeCIFAR(in: directory + "/cifar-10-batches-bin")
        for root in [directory, directory + "/cifar-10-batches-bin"] {
            let (train, test) = try CIFAR10Loader.load(directory: root)
            XCTAssertEqual(train.count, 10)
            XCTAssertEqual(test.count, 2)
            XCTAssertEqual(train.featureCount, 3072)
            XCTAssertEqual(train.classCount, 10)
            XCTAssertEqual(train.labels, [0, 9, 1, 8, 2, 7, 3, 6, 4, 5])
            XCTAssertEqual(test.labels, [5, 4])
            for example in 0 ..< 10 {
                let expected = cifarRecord(label: 0, seed: example).dropFirst().map { Float($0) / 255 }
                XCTAssertEqual(Array(train.allFeatures()[example * 3072 ..< (example + 1) * 3072]), expected)
            }
            XCTAssertEqual(Array(test.allFeatures()[3072...]),
                           cifarRecord(label: 0, seed: 11).dropFirst().map { Float($0) / 255 })
        }
    }

    func testCIFAR10RejectsBadFiles() throws {
        let directory = try TestFiles.makeDirectory(self)
        try writeCIFAR(in: directory)
        try TestFiles.write(cifarRecord(label: 1, seed: 0) + [1, 2, 3], to: directory + "/data_batch_3.bin")
        assertSprigError(try CIFAR10Loader.load(directory: directory), kind: .format,
                         mentions: ["data_batch_3.bin", "3076", "3073"])

        try writeCIFAR(in: directory)
        try TestFiles.write(cifarRecord(label: 1, seed: 0) + cifarRecord(label: 10, seed: 1),
                            to: directory + "/test_batch.bin")
        assertSprigError(try CIFAR10Loader.load(directory: directory), kind: .format,
                         mentions: ["test_batch.bin", "record 1", "label 10"])

        try FileManager.default.removeItem(atPath: directory + "/data_batch_2.bin")
        try FileManager.default.removeItem(atPath: directory + "/data_batch_5.bin")
        assertSprigError(try CIFAR10Loader.load(directory: directory), kind: .io,
                         mentions: ["data_batch_2.bin", "data_batch_5.bin"])
        assertSprigError(try CIFAR10Loader.load(directory: directory + "/absent"), kind: .io,
                         mentions: ["absent", "data directory not found"])
    }

    // MARK: Synthetic data

    func testSyntheticDataIsDeterministicAndSeedDependent() {
        let a = SyntheticDataset.make(featureCount: 50, classCount: 5, trainCount: 300, testCount: 100, seed: 1)
        let b = SyntheticDataset.make(featureCount: 50, classCount: 5, trainCount: 300, testCount: 100, seed: 1)
        let c = SyntheticDataset.make(featureCount: 50, classCount: 5, trainCount: 300, testCount: 100, seed: 2)
        XCTAssertEqual(a.train.allFeatures(), b.train.allFeatures())
        XCTAssertEqual(a.train.labels, b.train.labels)
        XCTAssertEqual(a.test.allFeatures(), b.test.allFeatures())
        XCTAssertEqual(a.test.labels, b.test.labels)
        XCTAssertNotEqual(a.train.allFeatures(), c.train.allFeatures())
        XCTAssertNotEqual(a.train.labels, c.train.labels)
        XCTAssertNotEqual(a.train.allFeatures().prefix(50 * 100), a.test.allFeatures().prefix(50 * 100))
        XCTAssertEqual(a.train.count, 300)
        XCTAssertEqual(a.test.count, 100)
        XCTAssertEqual(a.train.allFeatures().count, 300 * 50)
        XCTAssertEqual(a.test.featureCount, 50)
        XCTAssertEqual(a.test.classCount, 5)
    }

    func testSyntheticDataIsStandardNormalWithBalancedLearnableLabels() {
        let classCount = 4, featureCount = 100
        let (train, test) = SyntheticDataset.make(featureCount: featureCount, classCount: classCount,
                                                  trainCount: 4000, testCount: 1000, seed: 42)
        let trainFeatures = train.allFeatures(), testFeatures = test.allFeatures()
        let values = trainFeatures.map(Double.init)
        let mean = values.reduce(0, +) / Double(values.count)
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)
        XCTAssertEqual(mean, 0, accuracy: 0.01)
        XCTAssertEqual(variance, 1, accuracy: 0.02)

        var perClass = [Int](repeating: 0, count: classCount)
        for label in train.labels {
            XCTAssertTrue((0 ..< Int32(classCount)).contains(label))
            perClass[Int(label)] += 1
        }
        XCTAssertGreaterThan(perClass.min()!, 4000 / classCount / 3, "classes \(perClass)")

        // Labels follow the inputs: a nearest-class-mean rule fitted on the training set
        // (score_c = x · mean_c) predicts held-out labels far better than chance (25%).
        var means = [[Double]](repeating: [Double](repeating: 0, count: featureCount), count: classCount)
        for i in 0 ..< train.count {
            for f in 0 ..< featureCount { means[Int(train.labels[i])][f] += Double(trainFeatures[i * featureCount + f]) }
        }
        var correct = 0
        for i in 0 ..< test.count {
            var scores = [Double](repeating: 0, count: classCount)
            for c in 0 ..< classCount {
                for f in 0 ..< featureCount { scores[c] += means[c][f] * Double(testFeatures[i * featureCount + f]) }
            }
            if scores.firstIndex(of: scores.max()!) == Int(test.labels[i]) { correct += 1 }
        }
        XCTAssertGreaterThan(Double(correct) / Double(test.count), 0.6)
    }

    // MARK: Dataset and normalization

    func testSubsetKeepsLeadingExamples() {
        let data = Dataset(name: "d", featureCount: 2, classCount: 3, features: [1, 2, 3, 4, 5, 6], labels: [0, 1, 2])
        let two = data.subset(2)
        XCTAssertEqual(two.count, 2)
        XCTAssertEqual(two.allFeatures(), [1, 2, 3, 4])
        XCTAssertEqual(two.labels, [0, 1])
        XCTAssertEqual(data.subset(10).allFeatures(), data.allFeatures())
        XCTAssertEqual(data.subset(-1).count, 0)
        XCTAssertEqual(data.subset(0).allFeatures(), [])
    }

    func testNormalizationFitsMeanAndPopulationDeviation() {
        var data = Dataset(name: "d", featureCount: 2, classCount: 2, features: [2, 4, 4, 4, 5, 5, 7, 9],
                           labels: [0, 1, 0, 1])
        // Mean 5, population standard deviation 2 (a textbook example).
        let normalization = Normalization.fit(data)
        XCTAssertEqual(normalization, Normalization(mean: 5, standardDeviation: 2))
        normalization.apply(to: &data)
        XCTAssertEqual(data.allFeatures(), [-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2])

        var constant = Dataset(name: "c", featureCount: 1, classCount: 1, features: [3, 3, 3], labels: [0, 0, 0])
        let flat = Normalization.fit(constant)
        XCTAssertEqual(flat.standardDeviation, 0)
        flat.apply(to: &constant)
        XCTAssertEqual(constant.allFeatures(), [0, 0, 0])
    }
}
