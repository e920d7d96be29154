import Foundation

/// The CUDA driver API (`libcuda.so.1`, installed with the NVIDIA driver), opened at run time:
/// devices, the primary context, device memory, PTX modules and kernel launches. Only the
/// functions Sprig uses, with the C signatures of `cuda.h` (CUresult = int, CUdevice = int,
/// CUdeviceptr = unsigned long long, handles = pointers).
public final class CUDADriver {
    public typealias DevicePointer = UInt64
    typealias Result = Int32

    public let library: DynamicLibrary
    let initialize: @convention(c) (UInt32) -> Result
    let driverGetVersion: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    let deviceGetCount: @convention(c) (UnsafeMutablePointer<Int32>) -> Result
    let deviceGet: @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Result
    let deviceGetName: @convention(c) (UnsafeMutablePointer<CChar>, Int32, Int32) -> Result
    let deviceGetAttribute: @convention(c) (UnsafeMutablePointer<Int32>, Int32, Int32) -> Result
    let primaryContextRetain: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int32) -> Result
    let contextSetCurrent: @convention(c) (OpaquePointer?) -> Result
    let contextSynchronize: @convention(c) () -> Result
    let memoryAllocate: @convention(c) (UnsafeMutablePointer<DevicePointer>, Int) -> Result
    let memoryFree: @convention(c) (DevicePointer) -> Result
    let copyHostToDevice: @convention(c) (DevicePointer, UnsafeRawPointer, Int) -> Result
    let copyDeviceToHost: @convention(c) (UnsafeMutableRawPointer, DevicePointer, Int) -> Result
    let memset8: @convention(c) (DevicePointer, UInt8, Int) -> Result
    let moduleLoadData: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, UnsafeRawPointer) -> Result
    let moduleGetFunction: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, OpaquePointer?, UnsafePointer<CChar>) -> Result
    let launchKernel: @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                                      UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Result
    let getErrorName: @convention(c) (Result, UnsafeMutablePointer<UnsafePointer<CChar>?>) -> Result

    /// CUDA_ERROR_NO_DEVICE: a driver without a usable device.
    static let noDevice: Result = 100
    /// CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR and _MINOR.
    static let computeCapabilityMajor: Int32 = 75, computeCapabilityMinor: Int32 = 76

    /// Opens the driver and initialises it; throws `GPUError` when there is none.
    public init(directories: [String] = CUDALibraryPath.directories()) throws {
        library = try DynamicLibrary(names: ["libcuda.so.1", "libcuda.so"], directories: directories)
        initialize = try library.function("cuInit")
        driverGetVersion = try library.function("cuDriverGetVersion")
        deviceGetCount = try library.function("cuDeviceGetCount")
        deviceGet = try library.function("cuDeviceGet")
        deviceGetName = try library.function("cuDeviceGetName")
        deviceGetAttribute = try library.function("cuDeviceGetAttribute")
        primaryContextRetain = try library.function("cuDevicePrimaryCtxRetain")
        contextSetCurrent = try library.function("cuCtxSetCurrent")
        contextSynchronize = try library.function("cuCtxSynchronize")
        memoryAllocate = try library.function("cuMemAlloc_v2")
        memoryFree = try library.function("cuMemFree_v2")
        copyHostToDevice = try library.function("cuMemcpyHtoD_v2")
        copyDeviceToHost = try library.function("cuMemcpyDtoH_v2")
        memset8 = try library.function("cuMemsetD8_v2")
        moduleLoadData = try library.function("cuModuleLoadData")
        moduleGetFunction = try library.function("cuModuleGetFunction")
        launchKernel = try library.function("cuLaunchKernel")
        getErrorName = try library.function("cuGetErrorName")
        let status = initialize(0)
        if status == Self.noDevice { throw GPUError.noDevice("the CUDA driver (\(library.path)) sees no GPU") }
        try check(status, "cuInit")
    }

    /// Throws `GPUError.call` unless `status` is CUDA_SUCCESS.
    func check(_ status: Result, _ what: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        var name: UnsafePointer<CChar>?
        let text = getErrorName(status, &name) == 0 ? name.map { String(cString: $0) } : nil
        throw GPUError.call(what(), status: "\(text ?? "CUDA error") (\(status))")
    }

    /// The number of GPUs this process can see.
    public func deviceCount() throws -> Int {
        var count: Int32 = 0
        try check(deviceGetCount(&count), "cuDeviceGetCount")
        return Int(count)
    }

    /// The name and compute capability (e.g. 90 for sm_90) of GPU `ordinal`.
    public func describe(device ordinal: Int) throws -> (name: String, computeCapability: Int) {
        var device: Int32 = 0, major: Int32 = 0, minor: Int32 = 0
        try check(deviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        var name = [CChar](repeating: 0, count: 256)
        try check(deviceGetName(&name, 255, device), "cuDeviceGetName")
        try check(deviceGetAttribute(&major, Self.computeCapabilityMajor, device), "cuDeviceGetAttribute")
        try check(deviceGetAttribute(&minor, Self.computeCapabilityMinor, device), "cuDeviceGetAttribute")
        return (String(cString: name), Int(major * 10 + minor))
    }

    /// Makes GPU `ordinal`'s primary context (the one the CUDA runtime, cuSPARSE and cuBLAS
    /// use) current on the calling thread.
    public func useDevice(_ ordinal: Int) throws {
        var device: Int32 = 0
        var context: OpaquePointer?
        try check(deviceGet(&device, Int32(ordinal)), "cuDeviceGet(\(ordinal))")
        try check(primaryContextRetain(&context, device), "cuDevicePrimaryCtxRetain")
        try check(contextSetCurrent(context), "cuCtxSetCurrent")
    }

    public func synchronize() throws { try check(contextSynchronize(), "cuCtxSynchronize") }
}
