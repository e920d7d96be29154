import Foundation
import Sprig
import SprigArguments
import StopSignals

/// Prints a run: a summary, a live progress bar when stdout is a terminal (plain lines
/// otherwise), one line per epoch; appends each epoch's metrics as JSON to the metrics file,
/// which is opened only once the run has started (a failed start leaves no file behind).
final class ConsoleReporter: TrainingReporter {
    private var epochs = 0
    private var trainCount = 0
    /// The epoch whose progress is shown, when its clock started and at which step.
    private var shownEpoch = -1
    private var epochClock = Stopwatch()
    private var firstStepShown = 0
    private var dynamicSparsity = false
    private let metricsPath: String?
    private var metricsFile: MetricsFile?
    /// A progress bar only on a real terminal: mpirun gives ranks a pseudo-terminal even when
    /// its own output goes to a file, so under MPI only plain lines are printed.
    private let isTerminal = isatty(STDOUT_FILENO) == 1 && !Launcher.launchedByMPI
    private var lastDraw = Stopwatch()
    /// Seconds between progress lines when stdout is not a terminal.
    static let logProgressSeconds = Double(ProcessInfo.processInfo.environment["SPRIG_PROGRESS_SECONDS"] ?? "") ?? 30

    /// A resumed run (`RunSummary.resumed`) appends to an existing metrics file; others start a new one.
    init(metricsPath: String?) {
        self.metricsPath = metricsPath
    }

    func started(_ s: RunSummary) throws {
        epochs = s.epochs
        trainCount = s.trainCount
        if let path = metricsPath { metricsFile = try MetricsFile(path: path, append: s.resumed) }
        let ranks = s.ranks > 1 ? "\(s.ranks) ranks × " : ""
        print("sprig train: \(s.dataset), \(s.trainCount) training and \(s.testCount) test examples, \(ranks)\(s.threads) thread\(s.threads == 1 ? "" : "s")")
        for (l, layer) in s.layers.enumerated() {
            if layer.activation.isEmpty {   // batch norm, dropout, softmax
                print(String(format: "  layer %d: %6d → %-6d %@", l + 1, layer.inputs, layer.outputs, layer.kind)
                      + (layer.weights > 0 ? ", \(layer.weights) parameters" : ""))
            } else {
                print(String(format: "  layer %d: %6d → %-6d %@ density %.5f, %d weights, %@",
                             l + 1, layer.inputs, layer.outputs, layer.kind, layer.density, layer.weights, layer.activation)
                      + (layer.kernel.map { ", \($0)" } ?? ""))
            }
        }
        print("  \(s.parameters) parameters (weights and biases)" + (s.ranks > 1 ? ", \(s.bytesPerStep) bytes allreduced per step" : ""))
        if let text = s.dynamicSparsity { print("  dynamic sparsity: \(text)") }
        dynamicSparsity = s.dynamicSparsity != nil
        if let text = s.structuredSparsity { print("  structured sparsity: \(text)") }
        flush()
    }

    func progress(epoch: Int, done: Int, total: Int) {
        if epoch != shownEpoch {
            shownEpoch = epoch
            epochClock = Stopwatch()
            firstStepShown = done
        }
        guard isTerminal else {
            // A log file (a Slurm job's slurm-<id>.out, mpirun's output): a plain line at most
            // every 30 s, so that a long epoch shows it is moving.
            guard lastDraw.seconds >= Self.logProgressSeconds, done < total else { return }
            lastDraw = Stopwatch()
            print("  epoch \(epoch + 1)/\(epochs): step \(done)/\(total) (\(100 * done / max(total, 1))%)" + rate(done: done, total: total))
            flush()
            return
        }
        guard lastDraw.seconds > 0.1 || done == total else { return }
        lastDraw = Stopwatch()
        let width = 30
        let filled = total == 0 ? width : width * done / total
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        print("\r  epoch \(epoch + 1)/\(epochs) \(bar) \(100 * done / max(total, 1))%" + rate(done: done, total: total), terminator: "")
        flush()
    }

    /// ", 12.3 examples/s, 4 min 10 s left in the epoch" from the steps since the epoch's clock
    /// started (a step holds trainCount/total examples); empty before the first step is timed.
    private func rate(done: Int, total: Int) -> String {
        let steps = done - firstStepShown, seconds = epochClock.seconds
        guard steps > 0, seconds > 0, total > 0 else { return "" }
        let examplesPerSecond = Double(steps) * Double(trainCount) / Double(total) / seconds
        let left = Int((Double(total - done) * seconds / Double(steps)).rounded())
        let time = left >= 3600 ? "\(left / 3600) h \(left % 3600 / 60) min" : left >= 60 ? "\(left / 60) min \(left % 60) s" : "\(left) s"
        return String(format: ", %.1f examples/s, ", examplesPerSecond) + time + " left in the epoch"
    }

    func finished(_ m: EpochMetrics) throws {
        if isTerminal { print("\r\u{1B}[K", terminator: "") }
        let communication = m.ranks > 1 ? String(format: "  (communication %.2f s)", m.communicationSeconds) : ""
        let topology = dynamicSparsity ? String(format: "  regrown %d (%.3f s)", m.regrown, m.topologySeconds) : ""
        let structure = m.layerSizes.map { sizes in
            "  sizes " + sizes.map(String.init).joined(separator: "-") + "  nonzeros "
                + (m.nonzeros ?? []).map(String.init).joined(separator: ",") + "  removed \(m.neuronsRemoved ?? 0)"
        } ?? ""
        let test = m.testAccuracy.map { String(format: "%.2f%%", 100 * $0) } ?? "—"
        print(String(format: "epoch %d/%d  loss %.4f  train %.2f%%  test %@  lr %.4g  %.2f s  %.0f examples/s",
                     m.epoch, epochs, m.loss, 100 * m.trainAccuracy, test, m.learningRate,
                     m.seconds, m.examplesPerSecond) + topology + structure + communication)
        flush()
        if let file = metricsFile {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try file.append(try encoder.encode(m))
        }
    }

    func note(_ text: String) { print(text); flush() }

    func stopRequested() -> Bool { sprig_stop_signal() != 0 }

    private func flush() { fflush(stdout) }
}
