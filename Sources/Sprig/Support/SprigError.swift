import Foundation

/// Errors caused by a user's input (files, flags, configuration). Each names what is wrong
/// and where; the command-line tool prints the description as one `error:` line.
public enum SprigError: Error, CustomStringConvertible, Equatable {
    /// A flag or configuration value that makes no sense.
    case invalidArgument(String)
    /// A configuration field whose value makes no sense; `reason` reads after the field's name
    /// ("-1 is not positive"; one starting with ":" follows it directly).
    case invalidField(ConfigurationField, String)
    /// A file that could not be read or written.
    case io(path: String, reason: String)
    /// A file whose contents are malformed.
    case format(path: String, reason: String)
    /// A run that cannot go on although its inputs were valid (e.g. its loss became non-finite).
    case failed(String)

    public var description: String {
        switch self {
        case .invalidArgument(let reason): return reason
        case .invalidField(let field, let reason): return SprigError.naming(field.rawValue, reason)
        case .io(let path, let reason): return "\(path): \(reason)"
        case .format(let path, let reason): return "\(path): \(reason)"
        case .failed(let reason): return reason
        }
    }

    /// "NAME REASON", or "NAME: …" when the reason starts with a colon.
    public static func naming(_ name: String, _ reason: String) -> String {
        reason.hasPrefix(":") ? name + reason : name + " " + reason
    }

    /// `.io` for a failed operation on `path` with the cause in words, e.g.
    /// `w.npz: cannot write: No space left on device`. `action` says what was tried
    /// ("write", "create the directory"); the cause is `strerror` of `code`.
    public static func fileError(path: String, action: String, errno code: Int32) -> SprigError {
        .io(path: path, reason: "cannot \(action): \(String(cString: strerror(code)))")
    }

    /// `.io` for a Foundation or POSIX `error` met while doing `action` on `path`, with the
    /// cause in words: the POSIX error number of the error (or of its `NSUnderlyingErrorKey`)
    /// as `strerror` says it, else Foundation's code translated ("File exists", "No space left
    /// on device", …). A `SprigError` is returned as it is.
    public static func fileError(path: String, action: String, error: Error) -> SprigError {
        if let error = error as? SprigError { return error }
        if let code = posixCode(of: error as NSError) { return fileError(path: path, action: action, errno: code) }
        return .io(path: path, reason: "cannot \(action): \(error.localizedDescription)")
    }

    /// The POSIX error number behind a Foundation error, when there is one.
    static func posixCode(of error: NSError) -> Int32? {
        if error.domain == NSPOSIXErrorDomain { return Int32(error.code) }
        // Foundation on Linux keeps the underlying error as a Swift `POSIXError` or another `Error`.
        if let posix = error.userInfo[NSUnderlyingErrorKey] as? POSIXError { return posix.code.rawValue }
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? Error, let code = posixCode(of: underlying as NSError) {
            return code
        }
        guard error.domain == NSCocoaErrorDomain else { return nil }
        switch CocoaError.Code(rawValue: error.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return ENOENT
        case .fileReadNoPermission, .fileWriteNoPermission: return EACCES
        case .fileWriteFileExists: return EEXIST
        case .fileWriteOutOfSpace: return ENOSPC
        case .fileWriteVolumeReadOnly: return EROFS
        case .fileReadTooLarge: return EFBIG
        default: return nil
        }
    }
}
