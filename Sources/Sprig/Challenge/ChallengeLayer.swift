import ZlibC

/// One layer of a Sparse DNN Graph Challenge network, stored as Wᵀ in CSR: row j (an output
/// neuron) lists the inputs i with W(i, j) ≠ 0, so the feature-major product Yᵀ_{l+1} = Wᵀ·Yᵀ_l
/// is the training forward kernel.
public struct ChallengeLayer: Sendable {
    public let transposed: SparsityPattern
    public let values: [Float]

    /// A CRC-32 of the row offsets, columns and values, continuing `crc`: ranks compare
    /// networks with it.
    public func checksum(continuing crc: UInt32 = 0) -> UInt32 {
        var crc = UInt(crc)
        func add(_ bytes: UnsafeRawBufferPointer) {
            crc = ZlibC.crc32_z(crc, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
        }
        transposed.rowOffsets.withUnsafeBytes(add)
        transposed.columnIndices.withUnsafeBytes(add)
        values.withUnsafeBytes(add)
        return UInt32(crc)
    }
}
