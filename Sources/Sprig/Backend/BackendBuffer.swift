/// `count` floats in a backend's memory. `pointer` is their address there: a host pointer
/// when the backend shares host memory, a device address otherwise, which host code must not
/// dereference: it copies with `upload` and `download`.
public final class BackendBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>
    public let backend: any ComputeBackend
    /// What holds the memory (a `FloatBuffer` on the CPU, a device allocation on a GPU).
    private let owner: AnyObject

    public init(count: Int, pointer: UnsafeMutablePointer<Float>, backend: any ComputeBackend, owner: AnyObject) {
        self.count = count
        self.pointer = pointer
        self.backend = backend
        self.owner = owner
    }

    /// The first `count` floats (all by default), copied to the host.
    public func download(count: Int? = nil) throws -> [Float] {
        let n = count ?? self.count
        precondition(n <= self.count)
        return try [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            if n > 0 { try backend.download(pointer, to: buffer.baseAddress!, count: n) }
            initialized = n
        }
    }

    /// Floats `offset ..< offset + values.count` = `values`.
    public func upload(_ values: UnsafeBufferPointer<Float>, at offset: Int = 0) throws {
        precondition(offset >= 0 && offset + values.count <= count)
        guard let base = values.baseAddress, values.count > 0 else { return }
        try backend.upload(base, to: pointer + offset, count: values.count)
    }
}

/// In-place access for buffers in host memory (tests and tools on the CPU backend).
extension BackendBuffer {
    public var buffer: UnsafeMutableBufferPointer<Float> {
        precondition(backend.sharesHostMemory, "a buffer in \(backend.name)'s memory is read with download")
        return UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    public var array: [Float] { Array(buffer) }

    public subscript(index: Int) -> Float {
        get { buffer[index] }
        set { buffer[index] = newValue }
    }
}
