import Foundation

/// A fixed-size, 64-byte-aligned, zero-initialised buffer of `Float`s that the kernels
/// work on through raw pointers (no copy-on-write, no bounds checks in the hot loops).
///
/// A buffer of 2 MiB or more is placed in whole 2 MiB pages and offered to the kernel as
/// transparent huge pages (madvise, before the first touch). On 4 KiB pages the physical
/// placement of a buffer differs from process to process, and with it how its lines collide in
/// the physically indexed L2: the same command's kernels then ran up to 2× apart from one
/// process to the next (see bench/README.md, "Reproducible speed").
public final class FloatBuffer {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0)
        self.count = count
        pointer = Self.allocate(floats: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    static let hugePage = 1 << 21

    /// Uninitialised floats: 64-byte aligned, or whole huge pages from 2 MiB on.
    static func allocate(floats: Int) -> UnsafeMutablePointer<Float> {
        let bytes = floats * MemoryLayout<Float>.stride
        guard bytes >= hugePage else {
            return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64).bindMemory(to: Float.self, capacity: floats)
        }
        let rounded = (bytes + hugePage - 1) / hugePage * hugePage
        let raw = UnsafeMutableRawPointer.allocate(byteCount: rounded, alignment: hugePage)
        _ = madvise(raw, rounded, MADV_HUGEPAGE)
        return raw.bindMemory(to: Float.self, capacity: floats)
    }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func fill(_ value: Float) { pointer.update(repeating: value, count: count) }

    public subscript(index: Int) -> Float {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }
}
