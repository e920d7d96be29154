import Foundation
import Sprig
import StopSignals

/// Reports a run to a C callback: each epoch's metrics as the JSON object the metrics file
/// holds (`{"kind":"epoch", …}`), the progress within an epoch (`{"kind":"progress","epoch":E,
/// "done":D,"total":T}`) and notes (`{"kind":"note","text":…}`). The Python package turns them
/// into its history, its progress bar and its messages. Progress is sent at most every 0.1 s
/// (and at the end of each epoch), so that the per-step cost stays negligible. The run stops
/// after the current step when the callback returns non-zero (a callback of the user's that
/// raised) or when SIGINT came (Ctrl-C, caught while a fit runs: `sprig_catch_interrupt`).
public final class CallbackReporter: TrainingReporter {
    public typealias Callback = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32
    let callback: Callback?
    let context: UnsafeMutableRawPointer?
    private var stop = false
    private var lastProgress = Stopwatch()

    init(callback: Callback?, context: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.context = context
    }

    public func stopRequested() -> Bool { stop || sprig_interrupt_received() != 0 }

    public func started(_ summary: RunSummary) throws {}

    public func progress(epoch: Int, done: Int, total: Int) {
        guard lastProgress.seconds >= 0.1 || done == total else { return }
        lastProgress = Stopwatch()
        send(["kind": "progress", "epoch": epoch + 1, "done": done, "total": total])
    }

    public func finished(_ metrics: EpochMetrics) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var object = try JSONSerialization.jsonObject(with: encoder.encode(metrics)) as? [String: Any] ?? [:]
        object["kind"] = "epoch"
        send(object)
    }

    public func note(_ text: String) { send(["kind": "note", "text": text]) }

    /// `{"kind":"data","borrowed":B,"address":A}`: whether the training features are read in
    /// place (and from where), so a caller can check that its array was not copied.
    func data(_ dataset: Dataset) {
        guard case .bytes(let storage, _) = dataset.storage else {
            send(["kind": "data", "borrowed": false])
            return
        }
        let address = storage.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
        send(["kind": "data", "borrowed": storage.isBorrowed, "address": address])
    }

    private func send(_ object: [String: Any]) {
        guard let callback, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return }
        if text.withCString({ callback($0, context) }) != 0 { stop = true }
    }
}
