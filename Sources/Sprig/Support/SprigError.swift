/// Errors caused by a user's input (files, flags, configuration). Each names what is wrong
/// and where; the command-line tool prints the description as one `error:` line.
public enum SprigError: Error, CustomStringConvertible, Equatable {
    /// A flag or configuration value that makes no sense.
    case invalidArgument(String)
    /// A file that could not be read or written.
    case io(path: String, reason: String)
    /// A file whose contents are malformed.
    case format(path: String, reason: String)
    /// A run that cannot go on although its inputs were valid (e.g. its loss became non-finite).
    case failed(String)

    public var description: String {
        switch self {
        case .invalidArgument(let reason): return reason
        case .io(let path, let reason): return "\(path): \(reason)"
        case .format(let path, let reason): return "\(path): \(reason)"
        case .failed(let reason): return reason
        }
    }
}
