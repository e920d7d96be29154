@testable import Sprig

/// One forward, loss and backward of `network` on `backend`, in its memory, for the batch
/// x (D₀×B, feature-major) and its labels: the gradient tests' analytic side. Returns the
/// workspace (for the output Y, downloaded, and the scratch) and the output before backward.
func forwardAndBackward(_ network: Network, x: [Float], labels: [Int32], loss: LossKind, batch: Int,
                        backend: any ComputeBackend) throws -> (workspace: Workspace, output: [Float]) {
    try network.parameters.place(on: backend)
    let ws = try Workspace(network: network, capacity: batch, backend: backend)
    ws.hostInput.update(from: x, count: x.count)
    try ws.commitInput(count: x.count)
    var context = network.context(batch: batch, pool: .single)
    context.backend = backend
    try network.forward(ws, context: context)
    _ = try backend.loss(loss, output: ws.output.pointer, labels: labels, classes: network.outputSize, batch: batch,
                         globalBatch: batch, gradient: ws.outputGradient.pointer)
    let output = try ws.output.download(count: network.outputSize * batch)
    try network.backward(ws, context: context)
    return (ws, output)
}
