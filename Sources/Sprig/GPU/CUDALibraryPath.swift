import Foundation

/// Where the CUDA libraries are looked for, first to last: the directories in
/// `SPRIG_CUDA_LIBRARY_PATH` (colon-separated), `$CUDA_HOME/lib64`, `/usr/local/cuda/lib64`, and
/// the `nvidia/*/lib` folders of Python's CUDA wheels (as PyTorch installs them: the system's
/// site-packages, the user's, and `$VIRTUAL_ENV`'s); then the loader's own path.
public enum CUDALibraryPath {
    public static func directories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var result = (environment["SPRIG_CUDA_LIBRARY_PATH"] ?? "").split(separator: ":").map(String.init)
        for home in [environment["CUDA_HOME"], environment["CUDA_PATH"], "/usr/local/cuda"].compactMap({ $0 }) {
            result.append(home + "/lib64")
        }
        let sitePackages = ["/usr/local/lib/python3*/dist-packages", "/usr/lib/python3/dist-packages",
                            "/usr/local/lib/python3*/site-packages", "/opt/conda/lib/python3*/site-packages"]
            + [environment["HOME"].map { $0 + "/.local/lib/python3*/site-packages" },
               environment["VIRTUAL_ENV"].map { $0 + "/lib/python3*/site-packages" }].compactMap { $0 }
        for site in sitePackages { result += glob(site + "/nvidia/*/lib") }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }

    /// The paths matching a shell pattern, sorted (newest CUDA first where names sort by version).
    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }.sorted(by: >)
    }
}
