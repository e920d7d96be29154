/// One layer of a Sparse DNN Graph Challenge network, stored as Wᵀ in CSR: row j (an output
/// neuron) lists the inputs i with W(i, j) ≠ 0, so the feature-major product Yᵀ_{l+1} = Wᵀ·Yᵀ_l
/// is the training forward kernel.
public struct ChallengeLayer: Sendable {
    public let transposed: SparsityPattern
    public let values: [Float]
}
