/// The weights of each hidden neuron's group, summarised from a network's current values for
/// the shrink step's decisions (`NeuronRemoval`):
/// hidden layer h (the output of linear layer h, h < L−1) has neuron i's incoming weights
/// in row i of W_h and its outgoing weights in column i of W_{h+1}. Computed in the same
/// order on every rank from rank-identical values, so every rank reaches the same decisions.
struct NeuronGroups {
    /// Σ|incoming| + Σ|outgoing| per neuron (Curci et al.'s importance): importance[h][i].
    var importance: [[Double]]
    /// The largest |w| among the neuron's incoming and outgoing weights.
    var largest: [[Float]]
    /// Whether any outgoing weight is nonzero (a neuron without one contributes nothing).
    var hasOutgoing: [[Bool]]
    /// Whether input feature j has a nonzero weight in W_1.
    var inputHasWeight: [Bool]

    init(of network: Network) {
        let linear = network.linearLayers
        let hidden = linear.dropLast().map(\.outputSize)
        importance = hidden.map { [Double](repeating: 0, count: $0) }
        largest = hidden.map { [Float](repeating: 0, count: $0) }
        hasOutgoing = hidden.map { [Bool](repeating: false, count: $0) }
        inputHasWeight = [Bool](repeating: false, count: network.inputSize)
        for (l, layer) in linear.enumerated() {
            let w = network.values(of: layer.weights)
            let incoming = l < hidden.count, outgoing = l > 0
            LinearWeights.forEach(of: layer) { r, c, p in
                let v = w[p], magnitude = Double(abs(v))
                if incoming {
                    importance[l][r] += magnitude
                    largest[l][r] = max(largest[l][r], abs(v))
                }
                if outgoing {
                    importance[l - 1][c] += magnitude
                    largest[l - 1][c] = max(largest[l - 1][c], abs(v))
                    if v != 0 { hasOutgoing[l - 1][c] = true }
                } else if v != 0 {
                    inputHasWeight[c] = true
                }
            }
        }
    }
}
