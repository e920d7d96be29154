/// Sequential little-endian reads from a byte array whose size was checked beforehand.
struct ByteReader {
    let bytes: [UInt8]
    var position: Int

    mutating func read<T: FixedWidthInteger>() -> T {
        var value = T.zero
        withUnsafeMutableBytes(of: &value) { target in
            bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<(position + MemoryLayout<T>.size)])) }
        }
        position += MemoryLayout<T>.size
        return T(littleEndian: value)
    }

    mutating func readArray<T: BitwiseCopyable>(count: Int) -> [T] {
        let size = count * MemoryLayout<T>.stride
        let result = [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[position..<(position + size)]))
            }
            initialized = count
        }
        position += size
        return result
    }
}
