/// Failures of the GPU backend: a CUDA library missing or too old, or a CUDA call that failed.
/// The command-line tool prints the description as one `error:` line.
public enum GPUError: Error, CustomStringConvertible, Equatable {
    /// None of the library's names could be opened.
    case libraryNotFound(names: [String], reason: String)
    /// The library lacks a function (too old a CUDA).
    case missingSymbol(String, library: String)
    /// A CUDA, cuSPARSE, cuBLAS or NVRTC call returned an error.
    case call(String, status: String)
    /// `--device gpu` where no GPU can be used.
    case noDevice(String)

    public var description: String {
        switch self {
        case .libraryNotFound(let names, let reason):
            return "cannot open \(names[0]) (looked for \(names.joined(separator: ", ")); \(reason)); "
                + "set SPRIG_CUDA_LIBRARY_PATH to the directory that holds it"
        case .missingSymbol(let name, let library): return "\(library) has no \(name) (CUDA too old?)"
        case .call(let what, let status): return "\(what) failed: \(status)"
        case .noDevice(let reason): return reason
        }
    }
}
