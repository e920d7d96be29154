/// Failures of a multi-rank job that are not a user's input error.
public enum DistributedError: Error, CustomStringConvertible {
    /// An MPI call returned an error.
    case mpi(call: String, message: String)
    /// Ranks disagree on what they are running.
    case mismatch(String)

    public var description: String {
        switch self {
        case .mpi(let call, let message): return "\(call) failed: \(message)"
        case .mismatch(let text): return text
        }
    }
}
