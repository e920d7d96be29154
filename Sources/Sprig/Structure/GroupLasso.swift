/// The proximal step of the group lasso λ·Σ_g ‖w_g‖₂ (FSSL), after the optimizer's update with
/// learning rate η: each group is soft-thresholded,
///
///     w_g ← w_g · max(0, 1 − η·λ/‖w_g‖₂)
///
/// so a group whose norm is below η·λ becomes exactly zero. The groups are the hidden neurons
/// (`NeuronGroups`: incoming row with outgoing column) and, with an input strength, the input
/// features (the columns of W_1). A weight of W_l (0 < l < L−1) lies in two groups, the
/// incoming group of its row's neuron and the outgoing group of its column's neuron: its two
/// factors, both computed from the values before the step, multiply (the two proximal maps
/// applied one after the other, each from the values before either).
enum GroupLasso {
    /// One proximal step: hidden groups thresholded at `threshold` = η·λ, input features at
    /// `inputThreshold` = η·λ_in (0: not regularised).
    static func proximalStep(_ network: Network, threshold: Double, inputThreshold: Double) {
        let groups = NeuronGroups(of: network)
        func factors(_ squares: [Double], _ t: Double) -> [Float] {
            squares.map { s in
                let norm = s.squareRoot()
                return norm > t ? Float(1 - t / norm) : 0
            }
        }
        let hidden = groups.squaredNorm.map { factors($0, threshold) }
        let inputs = inputThreshold > 0 ? factors(groups.inputSquaredNorm, inputThreshold) : nil
        let linear = network.linearLayers
        for (l, layer) in linear.enumerated() {
            let w = network.values(of: layer.weights)
            let rowFactor: [Float]? = l < hidden.count && threshold > 0 ? hidden[l] : nil
            let columnFactor: [Float]? = l > 0 ? (threshold > 0 ? hidden[l - 1] : nil) : inputs
            switch (rowFactor, columnFactor) {
            case (nil, nil): continue
            case (let rows?, nil): LinearWeights.forEach(of: layer) { r, _, p in w[p] *= rows[r] }
            case (nil, let columns?): LinearWeights.forEach(of: layer) { _, c, p in w[p] *= columns[c] }
            case (let rows?, let columns?): LinearWeights.forEach(of: layer) { r, c, p in w[p] *= rows[r] * columns[c] }
            }
        }
    }
}
