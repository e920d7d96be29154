/// The proximal step of the group lasso λ·Σ_g ‖w_g‖₂ (FSSL), after the optimizer's update with
/// learning rate η: each group is soft-thresholded,
///
///     w_g ← w_g · max(0, 1 − η·λ/‖w_g‖₂)
///
/// so a group whose norm is below η·λ becomes exactly zero. The groups are the hidden neurons
/// (neuron i of hidden layer h: row i of W_h with column i of W_{h+1}) and, with an input
/// strength, the input features (the columns of W_1). A weight of W_l (0 < l < L−1) lies in
/// two groups, the incoming group of its row's neuron and the outgoing group of its column's
/// neuron: its two factors, both computed from the values before the step, multiply (the two
/// proximal maps applied one after the other, each from the values before either).
///
/// Cost per step: two passes over the stored weights (norms, then scaling), O(nnz), serial and
/// in a fixed order, so every rank computes the same bits.
enum GroupLasso {
    /// One proximal step: hidden groups thresholded at `threshold` = η·λ, input features at
    /// `inputThreshold` = η·λ_in (0: not regularised).
    static func proximalStep(_ network: Network, threshold: Double, inputThreshold: Double) {
        let linear = network.linearLayers
        let hiddenCount = linear.count - 1
        // Squared group norms in one buffer: hidden layer h's neurons from offsets[h], the input
        // features from offsets[hiddenCount].
        let sizes = linear.dropLast().map(\.outputSize) + [network.inputSize]
        var offsets = [0]
        for size in sizes { offsets.append(offsets.last! + size) }
        let squares = UnsafeMutablePointer<Double>.allocate(capacity: offsets.last!)
        squares.initialize(repeating: 0, count: offsets.last!)
        defer { squares.deallocate() }
        for (l, layer) in linear.enumerated() {
            let w = UnsafePointer(network.values(of: layer.weights).baseAddress!)
            let columnSquares = squares + offsets[l > 0 ? l - 1 : hiddenCount]
            if l < hiddenCount {
                let rowSquares = squares + offsets[l]
                LinearWeights.forEach(of: layer) { r, c, p in
                    let v = Double(w[p]), s = v * v
                    rowSquares[r] += s
                    columnSquares[c] += s
                }
            } else {
                LinearWeights.forEach(of: layer) { _, c, p in columnSquares[c] += Double(w[p]) * Double(w[p]) }
            }
        }
        func factors(_ group: Int, _ t: Double) -> [Float] {
            (offsets[group]..<offsets[group + 1]).map { k in
                let norm = squares[k].squareRoot()
                return norm > t ? Float(1 - t / norm) : 0
            }
        }
        let hidden = (0..<hiddenCount).map { factors($0, threshold) }
        let inputs = inputThreshold > 0 ? factors(hiddenCount, inputThreshold) : nil
        for (l, layer) in linear.enumerated() {
            let w = network.values(of: layer.weights).baseAddress!
            let rowFactor: [Float]? = l < hiddenCount && threshold > 0 ? hidden[l] : nil
            let columnFactor: [Float]? = l > 0 ? (threshold > 0 ? hidden[l - 1] : nil) : inputs
            switch (rowFactor, columnFactor) {
            case (nil, nil): continue
            case (let rows?, nil):
                rows.withUnsafeBufferPointer { f in LinearWeights.forEach(of: layer) { r, _, p in w[p] *= f[r] } }
            case (nil, let columns?):
                columns.withUnsafeBufferPointer { f in LinearWeights.forEach(of: layer) { _, c, p in w[p] *= f[c] } }
            case (let rows?, let columns?):
                rows.withUnsafeBufferPointer { fr in
                    columns.withUnsafeBufferPointer { fc in LinearWeights.forEach(of: layer) { r, c, p in w[p] *= fr[r] * fc[c] } }
                }
            }
        }
    }
}
