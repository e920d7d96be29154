import Foundation

/// One rank's GPU: the driver, the device (local rank mod the visible devices), its primary
/// context made current, Sprig's kernels compiled for it by NVRTC, and a cuSPARSE handle.
public final class GPUContext {
    public let driver: CUDADriver
    public let ordinal: Int
    public let name: String
    public let computeCapability: Int
    public let compilerVersion: String
    public let compilerPath: String
    let sparse: CUSPARSE
    public var sparseLibraryPath: String { sparse.library.path }
    private var functions: [String: OpaquePointer] = [:]

    /// The device of the rank with local rank `localRank` among `deviceCount` visible ones.
    public static func device(forLocalRank localRank: Int, deviceCount: Int) -> Int {
        precondition(deviceCount > 0 && localRank >= 0)
        return localRank % deviceCount
    }

    /// Throws `GPUError` when there is no driver, no device, or a CUDA library is missing.
    public convenience init(localRank: Int, directories: [String] = CUDALibraryPath.directories()) throws {
        try self.init(driver: CUDADriver(directories: directories), localRank: localRank, directories: directories)
    }

    /// With a driver already opened (e.g. to list the devices first).
    public init(driver: CUDADriver, localRank: Int, directories: [String] = CUDALibraryPath.directories()) throws {
        self.driver = driver
        let count = try driver.deviceCount()
        guard count > 0 else { throw GPUError.noDevice("the CUDA driver sees no GPU (check CUDA_VISIBLE_DEVICES)") }
        ordinal = Self.device(forLocalRank: localRank, deviceCount: count)
        (name, computeCapability) = try driver.describe(device: ordinal)
        try driver.useDevice(ordinal)
        let compiler = try NVRTC(directories: directories)
        compilerVersion = compiler.versionString
        compilerPath = compiler.library.path
        let image = try compiler.compile(source: GPUKernelSource.challenge, name: GPUKernelSource.name, architecture: computeCapability)
        var module: OpaquePointer?
        try image.withUnsafeBytes { try driver.check(driver.moduleLoadData(&module, $0.baseAddress!), "cuModuleLoadData") }
        for kernel in ["sprig_challenge_epilogue", "sprig_gather_columns"] {
            var function: OpaquePointer?
            try driver.check(driver.moduleGetFunction(&function, module, kernel), "cuModuleGetFunction(\(kernel))")
            functions[kernel] = function
        }
        sparse = try CUSPARSE(directories: directories)
    }

    /// Launches `kernel` with one thread per element (blocks of 256) on the default stream.
    func launch(_ kernel: String, elements: Int, _ arguments: [KernelArgument]) throws {
        guard elements > 0 else { return }
        let memory = arguments.map { $0.allocate() }
        defer { memory.forEach { $0.deallocate() } }
        var pointers: [UnsafeMutableRawPointer?] = memory
        let blocks = UInt32((elements + 255) / 256)
        try driver.check(driver.launchKernel(functions[kernel]!, blocks, 1, 1, 256, 1, 1, 0, nil, &pointers, nil), "launching \(kernel)")
    }
}
