/// Conversion of 8-bit pixel values to features: `x / 255`, so 0 ↦ 0 and 255 ↦ 1.
enum PixelScaling {
    /// The 256 possible results, each computed once as a correctly rounded `Float` division.
    private static let table: [Float] = (0 ..< 256).map { Float($0) / 255 }

    /// `bytes` scaled to [0, 1].
    static func unitInterval(_ bytes: [UInt8]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bytes.count) { output, initialized in
            if let start = output.baseAddress {
                bytes.withUnsafeBufferPointer { input in scale(input, into: start) }
            }
            initialized = bytes.count
        }
    }

    /// Writes `input[i] / 255` to `output[i]` for every `i` in `input.indices`.
    static func scale(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { table in
            for i in 0 ..< input.count { output[i] = table[Int(input[i])] }
        }
    }
}
