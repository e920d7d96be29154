import Foundation

/// A shared library opened at run time (`dlopen`), so one `sprig` binary runs with or without
/// it installed: the first of `names` found — in each of `directories`, then on the loader's
/// own path (LD_LIBRARY_PATH, the ld.so cache) — is used.
public final class DynamicLibrary {
    public let path: String
    private let handle: UnsafeMutableRawPointer

    /// Throws `GPUError.libraryNotFound` naming what was looked for and the loader's last reason.
    public init(names: [String], directories: [String]) throws {
        var lastReason = ""
        let candidates = directories.flatMap { d in names.map { (d as NSString).appendingPathComponent($0) } } + names
        for candidate in candidates {
            if candidate.contains("/") && !FileManager.default.fileExists(atPath: candidate) { continue }
            if let handle = dlopen(candidate, RTLD_NOW | RTLD_GLOBAL) {
                self.handle = handle
                path = candidate
                return
            }
            lastReason = dlerror().map { String(cString: $0) } ?? "unknown reason"
        }
        throw GPUError.libraryNotFound(names: names, reason: lastReason)
    }

    /// The function `name`, as the C function type `T` (a `@convention(c)` type).
    public func function<T>(_ name: String, as type: T.Type = T.self) throws -> T {
        guard let symbol = dlsym(handle, name) else { throw GPUError.missingSymbol(name, library: path) }
        return unsafeBitCast(symbol, to: T.self)
    }
}
