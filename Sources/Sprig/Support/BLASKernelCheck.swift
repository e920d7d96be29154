import CBLAS
import CPUControl
import Foundation

/// OpenBLAS picks its kernels when it loads, from the CPU it recognises; on CPUs it does not
/// know (new models, some virtual machines) it falls back to SSE3 "Prescott" kernels, 2.5×
/// slower here on dense layers. The fix must be in the environment before the library loads.
public enum BLASKernelCheck {
    /// The core type OpenBLAS should use on this CPU, when it chose an older one and
    /// `OPENBLAS_CORETYPE` is not set by the user; nil when nothing needs changing.
    public static func betterCoreType() -> String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return nil }
        let chosen = openblas_get_corename().map { String(cString: $0).lowercased() } ?? ""
        let old = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "unknown"]
        guard old.contains(chosen) || chosen.isEmpty else { return nil }
        if sprig_cpu_supports("avx512f") == 1 { return "SkylakeX" }
        if sprig_cpu_supports("avx2") == 1 { return "Haswell" }
        return nil
    }

    /// Re-executes this program once with `OPENBLAS_CORETYPE` set when OpenBLAS chose kernels
    /// older than the CPU. Returns (and changes nothing) when no change is needed or exec fails.
    public static func reexecuteWithBetterKernelsIfNeeded() {
        guard let core = betterCoreType() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        let arguments = CommandLine.arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", arguments)
        // exec failed: carry on with the kernels we have.
    }
}
