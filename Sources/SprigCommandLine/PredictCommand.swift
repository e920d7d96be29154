import ArgumentParser
import Foundation
import Sprig

/// `sprig predict`: a saved model's predictions for a data set, as `.npy` or CSV.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Apply a saved model to a data set and write its predictions (.npy or .csv).",
        discussion: """
        Writes the predicted class of each example (int64; with --scores the network's outputs, float32, examples × \
        classes) as NumPy .npy, or as CSV (example, predicted, label[, one column per output]) when the file ends in .csv. \
        Under mpirun each rank predicts a share and rank 0 writes the file. Example: sprig predict --model run.npz --output labels.npy
        """)

    @OptionGroup var data: ModelDataOptions
    @Option(help: "The file to write: .npy or .csv.")
    var output: String
    @Flag(help: "Write the network's outputs (logits, or what its last layer gives) instead of the predicted classes.")
    var scores = false

    func validate() throws {
        guard output.hasSuffix(".npy") || output.hasSuffix(".csv") else {
            throw ValidationError("--output must end in .npy or .csv, not '\(output)'")
        }
    }

    func run() throws {
        let options = try data.options()
        try withCommunicator { communicator in
            if communicator.isRoot { try AtomicFile.checkWritable(output) }
            let run = ModelRun(options, communicator: communicator)
            try run.prepare()
            let (outputs, labels, k) = try run.predict()
            guard communicator.isRoot else { return }
            for note in run.notes { print(note) }
            let n = labels.count
            let predicted = Network.predictedClasses(outputs, classes: k)
            if output.hasSuffix(".npy") {
                let array = scores ? try NPYArray(shape: [n, k], elements: .float32(outputs))
                                   : try NPYArray(shape: [n], elements: .int64(predicted.map(Int64.init)))
                try AtomicFile.write(array.encoded(), to: output)
            } else {
                var text = "example,predicted,label" + (scores ? (0..<k).map { ",output\($0)" }.joined() : "") + "\n"
                for j in 0..<n {
                    text += "\(j),\(predicted[j]),\(labels[j])"
                    if scores { text += (0..<k).map { ",\(outputs[j * k + $0])" }.joined() }
                    text += "\n"
                }
                try AtomicFile.write(text, to: output)
            }
            let correct = (0..<n).filter { predicted[$0] == Int(labels[$0]) }.count
            print(String(format: "sprig predict: %@ on %@: %d predictions written to %@ (accuracy %.2f %%)", options.modelPath, run.dataName,
                         n, output, 100 * Double(correct) / Double(max(n, 1))))
        }
    }
}
