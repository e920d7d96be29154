import Foundation

/// A block of GPU memory, freed with its owner; copies to and from host arrays.
public final class DeviceBuffer {
    public let driver: CUDADriver
    public let address: CUDADriver.DevicePointer
    public let byteCount: Int

    public init(driver: CUDADriver, byteCount: Int) throws {
        var address: CUDADriver.DevicePointer = 0
        try driver.check(driver.memoryAllocate(&address, max(byteCount, 1)), "cuMemAlloc(\(byteCount) bytes)")
        self.driver = driver
        self.address = address
        self.byteCount = byteCount
    }

    /// A buffer holding a copy of `values`.
    public convenience init<T>(driver: CUDADriver, copying values: [T]) throws {
        try self.init(driver: driver, byteCount: values.count * MemoryLayout<T>.stride)
        try upload(values)
    }

    deinit { _ = driver.memoryFree(address) }

    /// Copies `values` to the start of the buffer (byte `offset` on).
    public func upload<T>(_ values: [T], offset: Int = 0) throws {
        let bytes = values.count * MemoryLayout<T>.stride
        precondition(offset + bytes <= byteCount)
        guard bytes > 0 else { return }
        try values.withUnsafeBytes { try driver.check(driver.copyHostToDevice(address + UInt64(offset), $0.baseAddress!, bytes), "cuMemcpyHtoD") }
    }

    /// The first `count` elements, as `T`.
    public func download<T>(_ count: Int, as type: T.Type = T.self) throws -> [T] {
        precondition(count * MemoryLayout<T>.stride <= byteCount)
        guard count > 0 else { return [] }
        return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            try driver.check(driver.copyDeviceToHost(UnsafeMutableRawPointer(buffer.baseAddress!), address,
                                                     count * MemoryLayout<T>.stride), "cuMemcpyDtoH")
            initialized = count
        }
    }

    /// Sets the first `bytes` bytes to zero.
    public func clear(bytes: Int? = nil) throws {
        try driver.check(driver.memset8(address, 0, bytes ?? byteCount), "cuMemsetD8")
    }
}
