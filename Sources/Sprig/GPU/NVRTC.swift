import Foundation

/// NVRTC, CUDA's run-time compiler (`libnvrtc.so`), opened at run time: Sprig's device
/// kernels (`GPUKernelSource`) are compiled when a GPU rank starts, for that GPU's exact
/// architecture, so no build step needs the CUDA toolkit. It needs no GPU itself.
public final class NVRTC {
    typealias Result = Int32
    public let library: DynamicLibrary
    let createProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafePointer<CChar>, UnsafePointer<CChar>, Int32,
                                       UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Result
    let compileProgram: @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Result
    let destroyProgram: @convention(c) (UnsafeMutablePointer<OpaquePointer?>) -> Result
    let getLogSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Result
    let getLog: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Result
    let getCUBINSize: @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>) -> Result
    let getCUBIN: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>) -> Result
    let getErrorString: @convention(c) (Result) -> UnsafePointer<CChar>?
    let version: @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<Int32>) -> Result

    public init(directories: [String] = CUDALibraryPath.directories()) throws {
        library = try DynamicLibrary(names: ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"],
                                     directories: directories)
        createProgram = try library.function("nvrtcCreateProgram")
        compileProgram = try library.function("nvrtcCompileProgram")
        destroyProgram = try library.function("nvrtcDestroyProgram")
        getLogSize = try library.function("nvrtcGetProgramLogSize")
        getLog = try library.function("nvrtcGetProgramLog")
        getCUBINSize = try library.function("nvrtcGetCUBINSize")
        getCUBIN = try library.function("nvrtcGetCUBIN")
        getErrorString = try library.function("nvrtcGetErrorString")
        version = try library.function("nvrtcVersion")
    }

    /// NVRTC's version, e.g. "13.2".
    public var versionString: String {
        var major: Int32 = 0, minor: Int32 = 0
        return version(&major, &minor) == 0 ? "\(major).\(minor)" : "unknown"
    }

    /// Compiles CUDA C `source` to a CUBIN for `sm_<architecture>` (e.g. 90 for H100/H200).
    /// Throws `GPUError.call` with the compiler's log when it does not compile.
    public func compile(source: String, name: String, architecture: Int) throws -> [UInt8] {
        var program: OpaquePointer?
        try check(createProgram(&program, source, name, 0, nil, nil), "nvrtcCreateProgram")
        defer { _ = destroyProgram(&program) }
        let options = ["--gpu-architecture=sm_\(architecture)", "--std=c++17", "-default-device"]
        let cOptions = options.map { strdup($0) }
        defer { cOptions.forEach { free($0) } }
        let status = cOptions.map { UnsafePointer($0) }.withUnsafeBufferPointer { compileProgram(program, Int32(options.count), $0.baseAddress) }
        if status != 0 {
            var size = 0
            _ = getLogSize(program, &size)
            var log = [CChar](repeating: 0, count: size + 1)
            _ = getLog(program, &log)
            throw GPUError.call("compiling \(name) for sm_\(architecture)", status: String(cString: log))
        }
        var size = 0
        try check(getCUBINSize(program, &size), "nvrtcGetCUBINSize")
        var image = [CChar](repeating: 0, count: size)
        try check(getCUBIN(program, &image), "nvrtcGetCUBIN")
        return image.map { UInt8(bitPattern: $0) }
    }

    func check(_ status: Result, _ what: String) throws {
        guard status != 0 else { return }
        throw GPUError.call(what, status: getErrorString(status).map { String(cString: $0) } ?? "NVRTC error \(status)")
    }
}
