import Foundation
import Sprig

/// Prints a run: a summary, a live progress bar when stdout is a terminal (plain lines
/// otherwise), one line per epoch; appends each epoch's metrics as JSON to the metrics file.
final class ConsoleReporter: TrainingReporter {
    private let epochs: Int
    private let metricsFile: FileHandle?
    /// A progress bar only on a real terminal: mpirun gives ranks a pseudo-terminal even when
    /// its own output goes to a file, so under MPI only plain lines are printed.
    private let isTerminal = isatty(STDOUT_FILENO) == 1 && !MPICommunicator.launchedByMPI
    private var lastDraw = Stopwatch()

    init(epochs: Int, metricsPath: String?) throws {
        self.epochs = epochs
        if let path = metricsPath {
            guard FileManager.default.createFile(atPath: path, contents: nil),
                  let handle = FileHandle(forWritingAtPath: path) else {
                throw SprigError.io(path: path, reason: "cannot create metrics file")
            }
            metricsFile = handle
        } else {
            metricsFile = nil
        }
    }

    func started(_ s: RunSummary) {
        let ranks = s.ranks > 1 ? "\(s.ranks) ranks × " : ""
        print("sprig train: \(s.dataset), \(s.trainCount) training and \(s.testCount) test examples, \(ranks)\(s.threads) thread\(s.threads == 1 ? "" : "s")")
        for (l, layer) in s.layers.enumerated() {
            print(String(format: "  layer %d: %6d → %-6d %@ density %.5f, %d weights, %@",
                         l + 1, layer.inputs, layer.outputs, layer.kind, layer.density, layer.weights, layer.activation))
        }
        print("  \(s.parameters) parameters (weights and biases)" + (s.ranks > 1 ? ", \(s.bytesPerStep) bytes allreduced per step" : ""))
        flush()
    }

    func progress(epoch: Int, done: Int, total: Int) {
        guard isTerminal else { return }
        guard lastDraw.seconds > 0.1 || done == total else { return }
        lastDraw = Stopwatch()
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        print("\r  epoch \(epoch + 1)/\(epochs) \(bar) \(100 * done / max(total, 1))%", terminator: "")
        flush()
    }

    func finished(_ m: EpochMetrics) throws {
        if isTerminal { print("\r\u{1B}[K", terminator: "") }
        let communication = m.ranks > 1 ? String(format: "  (communication %.2f s)", m.communicationSeconds) : ""
        print(String(format: "epoch %d/%d  loss %.4f  train %.2f%%  test %.2f%%  lr %.4g  %.2f s  %.0f examples/s",
                     m.epoch, epochs, m.loss, 100 * m.trainAccuracy, 100 * m.testAccuracy, m.learningRate,
                     m.seconds, m.examplesPerSecond) + communication)
        flush()
        if let file = metricsFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var line = try encoder.encode(m)
            line.append(0x0A)
            file.write(line)
        }
    }

    func note(_ text: String) { print(text); flush() }

    private func flush() { fflush(stdout) }
}
