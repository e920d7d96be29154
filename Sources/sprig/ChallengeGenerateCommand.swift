import ArgumentParser
import Foundation
import Sprig

/// `sprig challenge generate`: a RadiX-Net network and Fashion-MNIST inputs in the challenge's formats.
struct ChallengeGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write a RadiX-Net network (n{N}-l{k}.tsv) and inputs (sparse-images-{N}.tsv) from Fashion-MNIST.")

    @Option(help: "Neurons per layer: 1024, 4096, 16384 or 65536 (16·2^S with a square N for the inputs).")
    var neurons: Int
    @Option(help: "Number of layers.")
    var layers: Int
    @Option(help: "Output directory (created if missing).")
    var output: String
    @Option(help: "How many inputs to write (Fashion-MNIST training images, in order); 0 for none.")
    var inputs = 60000
    @Option(help: "Seed of the per-layer permutations (layers after the radix stages).")
    var seed: UInt64 = 1
    @Option(help: "Fashion-MNIST directory.")
    var dataDir = DatasetKind.fashionMNISTDirectory

    func validate() throws {
        guard RadixNet.isValid(neurons: neurons) else { throw ValidationError("--neurons \(neurons) is not 16·2^S (e.g. 1024, 4096, 16384, 65536)") }
        guard layers >= 1 else { throw ValidationError("--layers \(layers) is not positive") }
        guard inputs >= 0 else { throw ValidationError("--inputs \(inputs) is negative") }
    }

    func run() throws {
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        let pool = ThreadPool(threads: defaultThreads())
        var failure: Error?
        let lock = NSLock()
        pool.run(parts: layers) { l in
            let text = RadixNet.tsv(RadixNet.layer(neurons: neurons, layer: l + 1, seed: seed))
            do { try AtomicFile.write(text, to: "\(output)/n\(neurons)-l\(l + 1).tsv") }
            catch { lock.lock(); failure = failure ?? error; lock.unlock() }
        }
        if let failure { throw failure }
        print("wrote \(layers) layers of \(neurons) neurons to \(output)")
        guard inputs > 0 else { return }
        let side = Int(Double(neurons).squareRoot())
        guard side * side == neurons else { throw SprigError.invalidArgument("inputs need a square N; \(neurons) is not") }
        let (train, _) = try MNISTLoader.load(directory: dataDir, name: "fashion-mnist")
        let images = try ChallengeImages(from: train, side: side, count: inputs)
        let pixels = try images.writeTSV(to: "\(output)/sparse-images-\(neurons).tsv", pool: pool)
        print("wrote \(images.count) inputs (\(pixels) pixels) to \(output)/sparse-images-\(neurons).tsv")
    }
}
