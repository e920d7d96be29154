import Foundation

/// cuSPARSE's generic API (`libcusparse.so`), opened at run time: CSR × dense products (SpMM)
/// on the current context's GPU. The C signatures of `cusparse.h`; the enumeration values used
/// are copied from it (CUSPARSE_INDEX_32I = 2, CUSPARSE_INDEX_BASE_ZERO = 0, CUDA_R_32F = 0,
/// CUSPARSE_ORDER_ROW = 2, CUSPARSE_OPERATION_NON_TRANSPOSE = 0, CUSPARSE_SPMM_CSR_ALG2 = 6).
public final class CUSPARSE {
    typealias Status = Int32
    typealias Handle = OpaquePointer?
    static let index32: Int32 = 2, baseZero: Int32 = 0, float32: Int32 = 0, rowMajor: Int32 = 2
    static let noTranspose: Int32 = 0, spmmCSRAlgorithm2: Int32 = 6

    public let library: DynamicLibrary
    let create: @convention(c) (UnsafeMutablePointer<Handle>) -> Status
    let destroy: @convention(c) (Handle) -> Status
    let createCSR: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int64, Int64, Int64, UInt64, UInt64, UInt64,
                                   Int32, Int32, Int32, Int32) -> Status
    let destroySparse: @convention(c) (OpaquePointer?) -> Status
    let createDense: @convention(c) (UnsafeMutablePointer<OpaquePointer?>, Int64, Int64, Int64, UInt64, Int32, Int32) -> Status
    let destroyDense: @convention(c) (OpaquePointer?) -> Status
    let spmmBufferSize: @convention(c) (Handle, Int32, Int32, UnsafeRawPointer, OpaquePointer?, OpaquePointer?, UnsafeRawPointer,
                                        OpaquePointer?, Int32, Int32, UnsafeMutablePointer<Int>) -> Status
    let spmm: @convention(c) (Handle, Int32, Int32, UnsafeRawPointer, OpaquePointer?, OpaquePointer?, UnsafeRawPointer,
                              OpaquePointer?, Int32, Int32, UInt64) -> Status
    let errorString: @convention(c) (Status) -> UnsafePointer<CChar>?
    private var handle: Handle = nil

    /// Opens the library and creates a handle on the current context (make it current first).
    public init(directories: [String] = CUDALibraryPath.directories()) throws {
        library = try DynamicLibrary(names: ["libcusparse.so.12", "libcusparse.so.11", "libcusparse.so"], directories: directories)
        create = try library.function("cusparseCreate")
        destroy = try library.function("cusparseDestroy")
        createCSR = try library.function("cusparseCreateCsr")
        destroySparse = try library.function("cusparseDestroySpMat")
        createDense = try library.function("cusparseCreateDnMat")
        destroyDense = try library.function("cusparseDestroyDnMat")
        spmmBufferSize = try library.function("cusparseSpMM_bufferSize")
        spmm = try library.function("cusparseSpMM")
        errorString = try library.function("cusparseGetErrorString")
        try check(create(&handle), "cusparseCreate")
    }

    deinit { if handle != nil { _ = destroy(handle) } }

    func check(_ status: Status, _ what: @autoclosure () -> String) throws {
        guard status != 0 else { return }
        throw GPUError.call(what(), status: errorString(status).map { String(cString: $0) } ?? "cuSPARSE error \(status)")
    }

    /// A descriptor of an R×C CSR matrix in device memory (32-bit offsets and indices, float values).
    func csr(rows: Int, columns: Int, nonzeros: Int, offsets: DeviceBuffer, indices: DeviceBuffer, values: DeviceBuffer) throws -> OpaquePointer? {
        var descriptor: OpaquePointer?
        try check(createCSR(&descriptor, Int64(rows), Int64(columns), Int64(nonzeros), offsets.address, indices.address, values.address,
                            Self.index32, Self.index32, Self.baseZero, Self.float32), "cusparseCreateCsr")
        return descriptor
    }

    /// C (rows×width, row-major) = A (CSR) · B (A's columns × width, row-major), with `workspace`
    /// grown as cuSPARSE asks.
    func multiply(_ a: OpaquePointer?, rows: Int, inner: Int, width: Int, b: CUDADriver.DevicePointer, c: CUDADriver.DevicePointer,
                  workspace: inout DeviceBuffer?, driver: CUDADriver) throws {
        var denseB: OpaquePointer?, denseC: OpaquePointer?
        try check(createDense(&denseB, Int64(inner), Int64(width), Int64(width), b, Self.float32, Self.rowMajor), "cusparseCreateDnMat")
        defer { _ = destroyDense(denseB) }
        try check(createDense(&denseC, Int64(rows), Int64(width), Int64(width), c, Self.float32, Self.rowMajor), "cusparseCreateDnMat")
        defer { _ = destroyDense(denseC) }
        var alpha: Float = 1, beta: Float = 0, size = 0
        try check(spmmBufferSize(handle, Self.noTranspose, Self.noTranspose, &alpha, a, denseB, &beta, denseC, Self.float32,
                                 Self.spmmCSRAlgorithm2, &size), "cusparseSpMM_bufferSize")
        if (workspace?.byteCount ?? -1) < size { workspace = try DeviceBuffer(driver: driver, byteCount: size) }
        try check(spmm(handle, Self.noTranspose, Self.noTranspose, &alpha, a, denseB, &beta, denseC, Self.float32,
                       Self.spmmCSRAlgorithm2, workspace!.address), "cusparseSpMM")
    }
}
