import Foundation

/// Sizes that come from a user (batch, widths, neurons, threads, image indices) are checked
/// here before anything is allocated: products are computed without overflow, and the total
/// is compared with the memory this machine has. A size that cannot fit is refused with a
/// message that says how much is needed and how much there is.
public struct MemoryBudget {
    /// What is being sized, for messages ("the training workspace (--batch-size 100000000)").
    public let purpose: String
    /// Bytes counted so far.
    public private(set) var bytes = 0

    public init(_ purpose: String) { self.purpose = purpose }

    /// Adds `count` elements of `elementSize` bytes; throws when the product or the sum overflows.
    public mutating func add(_ count: Int, elementSize: Int = 4) throws {
        let (product, overflowMultiply) = count.multipliedReportingOverflow(by: elementSize)
        let (sum, overflowAdd) = bytes.addingReportingOverflow(product)
        guard count >= 0, !overflowMultiply, !overflowAdd else {
            throw SprigError.invalidArgument("\(purpose) is too large: its size overflows a 64-bit count of bytes")
        }
        bytes = sum
    }

    /// Adds count₁ × count₂ × … elements of `elementSize` bytes, overflow-checked.
    public mutating func add(product counts: [Int], elementSize: Int = 4) throws {
        var count = 1
        for c in counts {
            let (p, overflow) = count.multipliedReportingOverflow(by: c)
            guard c >= 0, !overflow else {
                throw SprigError.invalidArgument("\(purpose) is too large: its size overflows a 64-bit count of bytes")
            }
            count = p
        }
        try add(count, elementSize: elementSize)
    }

    /// Throws unless the bytes counted fit in `fraction` of the machine's memory.
    public func check(fraction: Double = 0.9) throws {
        let available = MemoryBudget.machineBytes
        guard Double(bytes) <= fraction * Double(available) else {
            throw SprigError.invalidArgument("\(purpose) needs \(MemoryBudget.describe(bytes)) but this machine has "
                                             + "\(MemoryBudget.describe(available)) of memory")
        }
    }

    /// Physical memory of this machine (or of its cgroup limit, when lower), in bytes.
    public static var machineBytes: Int {
        var total = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let limit = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), limit > 0 {
                total = min(total, limit)
            }
        }
        return total
    }

    /// "1.5 GiB", "313.0 GiB", "12.0 MiB".
    public static func describe(_ bytes: Int) -> String {
        let gib = Double(bytes) / Double(1 << 30)
        return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
    }

    /// The most threads a process may ask for: more than this is a mistake, not a request.
    public static let maximumThreads = 4096

    /// Checks a thread count from a flag.
    public static func checkThreads(_ threads: Int, flag: String = "--threads") throws {
        guard threads >= 1, threads <= maximumThreads else {
            throw SprigError.invalidArgument("\(flag) \(threads) is not in 1…\(maximumThreads) "
                                             + "(this machine has \(ProcessInfo.processInfo.activeProcessorCount) cores)")
        }
    }
}
