import Foundation
import Sprig

/// Reports a run to a C callback: each epoch's metrics as the JSON object the metrics file
/// holds (`{"kind":"epoch", …}`), the progress within an epoch (`{"kind":"progress","epoch":E,
/// "done":D,"total":T}`) and notes (`{"kind":"note","text":…}`). The Python package turns them
/// into its history, its progress bar and its messages.
public struct CallbackReporter: TrainingReporter {
    public typealias Callback = @convention(c) (UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Int32
    let callback: Callback?
    let context: UnsafeMutableRawPointer?

    public func started(_ summary: RunSummary) throws {}

    public func progress(epoch: Int, done: Int, total: Int) {
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

    private func send(_ object: [String: Any]) {
        guard let callback, let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
              let text = String(data: data, encoding: .utf8) else { return }
        _ = text.withCString { callback($0, context) }
    }
}
