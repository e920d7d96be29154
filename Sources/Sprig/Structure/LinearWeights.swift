/// Visits the stored weights of a linear layer with their positions: (row, column, slot) for
/// every nonzero of a sparse layer's CSR pattern, every entry of a dense layer's row-major
/// K×D matrix — so the structured-sparsity code is written once for both.
enum LinearWeights {
    /// Calls `body(row, column, slot)` for every stored weight of `layer`, row by row.
    @inline(__always)
    static func forEach(of layer: any LinearLayer, _ body: (Int, Int, Int) -> Void) {
        if let pattern = layer.sparsity {
            pattern.columnIndices.withUnsafeBufferPointer { columns in
                pattern.rowOffsets.withUnsafeBufferPointer { offsets in
                    for r in 0..<pattern.rows {
                        for p in offsets[r]..<offsets[r + 1] { body(r, Int(columns[p]), p) }
                    }
                }
            }
        } else {
            let d = layer.inputSize
            for r in 0..<layer.outputSize {
                for c in 0..<d { body(r, c, r * d + c) }
            }
        }
    }
}
