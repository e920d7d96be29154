import ArgumentParser
import Foundation
import Sprig

/// `sprig evaluate`: a saved model's loss, accuracy and confusion matrix on a data set.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a saved model on a data set: loss, accuracy and the confusion matrix.",
        discussion: """
        The model file describes its network, the normalisation it was trained with and its inputs. Under mpirun \
        each rank evaluates a share of the examples. Example: sprig evaluate --model run.npz --dataset fashion-mnist
        """)

    @OptionGroup var data: ModelDataOptions
    @Option(help: "The loss to report (default: the one the model was trained with).")
    var loss: String?
    @Option(help: "Also write the result as JSON to this file: examples, loss, accuracy, confusion (rows: labels, columns: predictions).")
    var json: String?

    func run() throws {
        var options = try data.options()
        options.loss = try loss.map { try LossKind(parsing: $0) }
        try withCommunicator { communicator in
            if communicator.isRoot, let json { try AtomicFile.checkWritable(json) }
            let run = ModelRun(options, communicator: communicator)
            try run.prepare()
            let result = try run.evaluate()
            guard communicator.isRoot else { return }
            for note in run.notes { print(note) }
            print(String(format: "sprig evaluate: %@ on %@, %d examples: loss %.4f, accuracy %.2f %%", options.modelPath, run.dataName,
                         result.examples, result.loss, 100 * result.accuracy))
            print(Self.table(result.confusion))
            if let json {
                let object: [String: Any] = ["model": options.modelPath, "data": run.dataName, "examples": result.examples,
                                             "loss": result.loss, "accuracy": result.accuracy, "confusion": result.confusion]
                try AtomicFile.write(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) + [0x0A], to: json)
            }
        }
    }

    /// The confusion matrix as text: a row per label, a column per prediction.
    static func table(_ confusion: [[Int]]) -> String {
        let width = max(5, String(confusion.flatMap { $0 }.max() ?? 0).count + 1)
        func cell(_ text: String) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
        var lines = ["confusion (rows: label, columns: predicted)", cell("") + confusion.indices.map { cell("\($0)") }.joined()]
        for (label, row) in confusion.enumerated() { lines.append(cell("\(label)") + row.map { cell("\($0)") }.joined()) }
        return lines.joined(separator: "\n")
    }
}
