/// 64-bit FNV-1a over the bytes fed to it: the same value in every process and on every run
/// (unlike Swift's `Hasher`, which is seeded per process), for comparing ranks.
public struct StableHasher {
    public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    public init() {}

    public mutating func combine<T: BitwiseCopyable>(_ x: T) {
        withUnsafeBytes(of: x) { combine(bytes: $0) }
    }

    public mutating func combine(_ text: String) {
        var text = text
        text.withUTF8 { combine(bytes: UnsafeRawBufferPointer($0)) }
        combine(UInt8(0))
    }

    public mutating func combine(bytes: UnsafeRawBufferPointer) {
        for byte in bytes { value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
    }
}
