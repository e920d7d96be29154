import Foundation
import Sprig

/// The one line printed for `error`; `fallback` for errors of no known kind (ArgumentParser's own).
public func errorMessage(for error: Error, fallback: @autoclosure () -> String? = nil) -> String {
    if case SprigError.invalidField(let field, let reason)? = error as? SprigError { return SprigError.naming(field.flag, reason) }
    if let sprigError = error as? SprigError { return sprigError.description }
    if let distributed = error as? DistributedError { return distributed.description }
    // A Foundation file error that no caller translated: still the file and the cause in words.
    let nsError = error as NSError
    if let path = nsError.userInfo[NSFilePathErrorKey] as? String ?? (nsError.userInfo[NSURLErrorKey] as? URL)?.path {
        return SprigError.fileError(path: path, action: "use it", error: error).description
    }
    return fallback() ?? "\(error)"
}
