import ArgumentParser
import Foundation
import Sprig

/// `sprig challenge generate`: a RadiX-Net network and Fashion-MNIST inputs in the challenge's formats.
struct ChallengeGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a RadiX-Net network (n{N}-l{k}.tsv) and inputs (sparse-images-{N}.tsv) from Fashion-MNIST.")

    @Option(parsing: .unconditional, help: "Neurons per layer: 1024, 4096, 16384 or 65536 (16·2^S with a square N for the inputs).")
    var neurons: Int
    @Option(parsing: .unconditional, help: "Number of layers.")
    var layers: Int
    @Option(help: "Output directory (created if missing).")
    var output: String
    @Option(parsing: .unconditional, help: "How many inputs to write (Fashion-MNIST training images, in order, at most 60000); 0 for none.")
    var inputs = 60000
    @Option(parsing: .unconditional, help: "Keep a resized pixel where it exceeds this fraction of full scale (0 ≤ t < 1; higher: sparser inputs).")
    var threshold = 0.5
    @Option(help: "Seed of the per-layer permutations (layers after the radix stages).")
    var seed: UInt64 = 1
    @Option(help: "Fashion-MNIST directory.")
    var dataDir = DatasetKind.fashionMNISTDirectory

    func validate() throws {
        guard RadixNet.isValid(neurons: neurons) else { throw ValidationError("--neurons \(neurons) is not 16·2^S (e.g. 1024, 4096, 16384, 65536)") }
        guard layers >= 1 else { throw ValidationError("--layers \(layers) is not positive") }
        guard inputs >= 0 else { throw ValidationError("--inputs \(inputs) is negative") }
        guard threshold.isFinite, threshold >= 0, threshold < 1 else {
            throw ValidationError("--threshold \(threshold) is not a number in [0, 1)")
        }
        do {
            // Each thread builds one layer at a time: 32·N entries as coordinates, CSR and text (≤ 24 bytes a line).
            var memory = MemoryBudget("generating layers of --neurons \(neurons)")
            try memory.add(product: [ProcessInfo.processInfo.activeProcessorCount, 32, neurons], elementSize: 4 * 4 + 2 * 24)
            try memory.check()
        } catch let error as SprigError {
            throw ValidationError(error.description)   // a size refused is a flag's error (exit 64)
        }
        guard neurons <= Int(Int32.max) else { throw ValidationError("--neurons \(neurons) exceeds the 32-bit index range") }
        // The layer files: 32·N lines each of `row col 6.250000e-02`.
        let digits = String(neurons).count, lineBytes = 2 * digits + 15
        let (perLayer, overflowLayer) = (32 * neurons).multipliedReportingOverflow(by: lineBytes)
        let (total, overflow) = perLayer.multipliedReportingOverflow(by: layers)
        let free = Self.freeDiskBytes(near: output)
        if overflowLayer || overflow || total > free {
            throw ValidationError("--layers \(layers) of --neurons \(neurons) need "
                                  + (overflowLayer || overflow ? "more bytes than a 64-bit count" : MemoryBudget.describe(total))
                                  + " on disk but \(output) has \(MemoryBudget.describe(free)) free")
        }
    }

    /// Free bytes on the file system that holds `path` (or its nearest existing parent).
    private static func freeDiskBytes(near path: String) -> Int {
        var directory = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: directory.path), directory.path != "/" { directory.deleteLastPathComponent() }
        let attributes = try? FileManager.default.attributesOfFileSystem(forPath: directory.path)
        return (attributes?[.systemFreeSize] as? NSNumber)?.intValue ?? .max
    }

    func run() throws {
        // The images first: asking for more than the data set has is refused before anything is written.
        let images = try inputs > 0 ? loadImages() : nil
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        catch { throw SprigError.fileError(path: output, action: "create the output directory", error: error) }
        let pool = ThreadPool(threads: Launcher.defaultThreads)
        var failure: Error?
        let lock = NSLock()
        pool.run(parts: layers) { l in
            let text = RadixNet.tsv(RadixNet.layer(neurons: neurons, layer: l + 1, seed: seed))
            do { try AtomicFile.write(text, to: "\(output)/n\(neurons)-l\(l + 1).tsv") }
            catch { lock.lock(); failure = failure ?? error; lock.unlock() }
        }
        if let failure { throw failure }
        print("wrote \(layers) layers of \(neurons) neurons to \(output)")
        guard let images else { return }
        let pixels = try images.writeTSV(to: "\(output)/sparse-images-\(neurons).tsv", pool: pool)
        print("wrote \(images.count) inputs (\(pixels) pixels) to \(output)/sparse-images-\(neurons).tsv")
    }

    /// The first `--inputs` Fashion-MNIST training images, resized to √N×√N.
    private func loadImages() throws -> ChallengeImages {
        let side = Int(Double(neurons).squareRoot())
        guard side * side == neurons else { throw ValidationError("--inputs needs a square --neurons; \(neurons) is not (give --inputs 0)") }
        let (train, _) = try MNISTLoader.load(directory: dataDir, name: "fashion-mnist")
        do { return try ChallengeImages(from: train, side: side, count: inputs, threshold: threshold) }
        catch let error as SprigError { throw ValidationError("--inputs: \(error.description) in \(dataDir)") }
    }
}
