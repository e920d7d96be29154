import Foundation

/// One argument of a device kernel launch, with the size and type of its C parameter.
public enum KernelArgument {
    case address(CUDADriver.DevicePointer)
    case int32(Int32)
    case int64(Int64)
    case float(Float)

    /// A heap copy of the value, as `cuLaunchKernel` takes a pointer to each argument.
    func allocate() -> UnsafeMutableRawPointer {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 8, alignment: 8)
        switch self {
        case .address(let v): memory.storeBytes(of: v, as: UInt64.self)
        case .int32(let v): memory.storeBytes(of: v, as: Int32.self)
        case .int64(let v): memory.storeBytes(of: v, as: Int64.self)
        case .float(let v): memory.storeBytes(of: v, as: Float.self)
        }
        return memory
    }
}
