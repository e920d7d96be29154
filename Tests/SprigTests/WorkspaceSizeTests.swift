import XCTest
@testable import Sprig

/// The memory checks count a workspace before it exists (`NetworkConfiguration.workspaceRows`);
/// the count must be what `Workspace` then allocates from the built layers, for every kind of
/// layer: a ReLU linear layer keeps no scratch, other activations keep Z, batch norm x̂,
/// dropout its mask, the softmax layers and SReLU nothing.
final class WorkspaceSizeTests: XCTestCase {
    func testMemoryChecksCountWhatTheWorkspaceAllocates() throws {
        let networks: [NetworkConfiguration] = [
            NetworkConfiguration(layerSizes: [12, 9, 7, 3], densities: [0.5, 0.6, 1], seed: 1),   // the plain chain: ReLU, ReLU, identity
            NetworkConfiguration(layerSizes: [12, 9, 7, 3], densities: [0.5, 1, 1], seed: 2,
                                 layers: [.linear(.tanh), .batchNorm, .dropout(0.2), .linear(.relu), .srelu(al: 0, tl: 0, ar: 0, tr: 1),
                                          .linear(.identity), .logSoftmax]),
            NetworkConfiguration(layerSizes: [5, 4, 2], densities: [1, 1], seed: 3,
                                 layers: [.linear(.sigmoid), .linear(.identity), .softmax]),
        ]
        for configuration in networks {
            let network = try Network(configuration)
            let capacity = 7
            let workspace = try Workspace(network: network, capacity: capacity)
            let allocated = ([workspace.input] + workspace.outputs + workspace.gradients + workspace.scratch).reduce(0) { $0 + $1.count }
            let counted = configuration.workspaceRows.reduce(0) { $0 + $1.rows * $1.size } * capacity
            XCTAssertEqual(counted, allocated, "\(configuration.layerList)")
            // And by layer: the scratch is counted exactly where a built layer keeps one.
            for (l, layer) in network.layers.enumerated() {
                XCTAssertEqual(configuration.layerList[l].keepsScratch, layer.scratchPerExample > 0, "layer \(l): \(layer.summary)")
            }
        }
    }
}
