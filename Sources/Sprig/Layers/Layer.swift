/// A fully connected layer in the feature-major layout: input X is D×B, output Y = f(W·X + b)
/// is K×B (D = `inputSize`, K = `outputSize`, B = batch). Parameters live in the network's
/// `ParameterStore`, in the layer's groups.
///
/// forward:  Z = W·X + b, Y = f(Z)
/// backward: DZ = DY ∘ f'(Z), DW = DZ·Xᵀ (on W's pattern), Db = row sums of DZ, DX = Wᵀ·DZ
public protocol Layer: AnyObject {
    var inputSize: Int { get }
    var outputSize: Int { get }
    var activation: Activation { get }
    /// W's values in the store (nnz values for a sparse layer, K·D for a dense one).
    var weights: ParameterGroup { get }
    /// b in the store (K values).
    var bias: ParameterGroup { get }
    /// Stored weights: nnz for a sparse layer, K·D for a dense one.
    var weightCount: Int { get }

    /// Z and Y (K×B) from X (D×B) using the store's current values.
    func forward(input x: UnsafePointer<Float>, preActivation z: UnsafeMutablePointer<Float>,
                 output y: UnsafeMutablePointer<Float>, batch: Int, parameters: ParameterStore, pool: ThreadPool)

    /// Turns DY (K×B, in place) into DZ, writes DW and Db into the store's gradients, and
    /// DX (D×B) when `inputGradient` is not nil.
    func backward(input x: UnsafePointer<Float>, preActivation z: UnsafePointer<Float>,
                  outputGradient dy: UnsafeMutablePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>?,
                  batch: Int, parameters: ParameterStore, pool: ThreadPool)
}

extension Layer {
    /// DZ = DY ∘ f'(Z) in place and Db[o] = Σ_j DZ[o,j], for rows `rows`.
    func activationBackward(preActivation z: UnsafePointer<Float>, gradient dy: UnsafeMutablePointer<Float>,
                            biasGradient db: UnsafeMutablePointer<Float>, batch: Int, rows: Range<Int>) {
        for o in rows {
            db[o] = activation.backwardRow(z: z + o * batch, gradient: dy + o * batch, count: batch)
        }
    }
}
