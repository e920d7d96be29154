import XCTest
@testable import Sprig

/// The parameter store's slot remapping (values and every optimizer-state buffer follow their
/// slots) on hand-made layouts, and a network whose pattern was replaced against the dense reference.
final class ParameterStoreTests: XCTestCase {
    /// Groups a (3), b (2), c (4), values 1…9, "velocity" = 10·value, "second" = −value, gradients 7.
    func sampleStore() -> (ParameterStore, [ParameterGroup]) {
        let groups = [ParameterGroup(layer: 0, name: "weights", count: 3), ParameterGroup(layer: 0, name: "bias", count: 2),
                      ParameterGroup(layer: 1, name: "weights", count: 4)]
        let store = ParameterStore(groups: groups)
        let velocity = store.addState(named: "velocity"), second = store.addState(named: "second")
        for i in 0..<store.count {
            store.values[i] = Float(i + 1)
            velocity[i] = Float(10 * (i + 1))
            second[i] = -Float(i + 1)
            store.gradients[i] = 7
        }
        return (store, groups)
    }

    func testLayoutIsContiguousInDeclarationOrder() {
        let (store, groups) = sampleStore()
        XCTAssertEqual(groups.map(\.offset), [0, 3, 5])
        XCTAssertEqual(store.count, 9)
        XCTAssertEqual(store.range(ofLayer: 0), 0..<5)
        XCTAssertEqual(store.range(ofLayer: 1), 5..<9)
        XCTAssertTrue(store.addState(named: "velocity") === store.state(named: "velocity"), "a state is added once")
    }

    func testRemapInPlaceMovesValuesAndEveryStateWithTheirSlots() {
        let (store, groups) = sampleStore()
        // New slot 0 ← old 2, new slot 1 is new, new slot 2 ← old 0.
        store.remap(groups[0], sourceSlot: [2, -1, 0], initialValue: { Float(100 + $0) })
        XCTAssertEqual(Array(store.values.buffer), [3, 101, 1, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(Array(store.state(named: "velocity")!.buffer), [30, 0, 10, 40, 50, 60, 70, 80, 90])
        XCTAssertEqual(Array(store.state(named: "second")!.buffer), [-3, 0, -1, -4, -5, -6, -7, -8, -9])
        XCTAssertEqual(Array(store.gradients.buffer), [0, 0, 0, 7, 7, 7, 7, 7, 7], "only the remapped group's gradients are reset")
        XCTAssertEqual(groups.map(\.offset), [0, 3, 5])
    }

    func testRemapToAnotherCountMovesTheGroupsAfterIt() {
        let (store, groups) = sampleStore()
        store.remap(groups[0], sourceSlot: [1, -1, 0, -1, 2], initialValue: { _ in -1 })
        XCTAssertEqual(groups.map(\.offset), [0, 5, 7])
        XCTAssertEqual(groups.map(\.count), [5, 2, 4])
        XCTAssertEqual(store.count, 11)
        XCTAssertEqual(Array(store.values.buffer), [2, -1, 1, -1, 3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(Array(store.state(named: "velocity")!.buffer), [20, 0, 10, 0, 30, 40, 50, 60, 70, 80, 90])
        XCTAssertEqual(Array(store.gradients.buffer), [0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7])
        // And shrinking: keep old slot 4 only.
        store.remap(groups[0], sourceSlot: [4], initialValue: { _ in 0 })
        XCTAssertEqual(groups.map(\.offset), [0, 1, 3])
        XCTAssertEqual(Array(store.values.buffer), [3, 4, 5, 6, 7, 8, 9])
        XCTAssertEqual(Array(store.state(named: "second")!.buffer), [-3, -4, -5, -6, -7, -8, -9])
        XCTAssertEqual(store.range(ofLayer: 1), 3..<7)
    }

    /// A 6-5-3 network whose first layer gets a hand-made pattern: the values that survive
    /// keep their positions, the kernels (forward, and the batch assembler's used features)
    /// match the dense reference built from the new pattern.
    func testReplacedPatternMatchesTheDenseReference() throws {
        let configuration = NetworkConfiguration(layerSizes: [6, 5, 3], densities: [0.3, 0.6], seed: 4)
        let network = try Network(configuration)
        let sparse = try XCTUnwrap(network.linearLayers[0] as? SparseLinear)
        let old = sparse.pattern
        let oldValues = Array(network.values(of: sparse.weights))
        var oldValueAt: [Int: Float] = [:]
        for r in 0..<old.rows { for p in old.rowOffsets[r]..<old.rowOffsets[r + 1] { oldValueAt[r * 6 + Int(old.columnIndices[p])] = oldValues[p] } }
        // Keep every other old position, add as many new ones (the first empty positions).
        let oldPositions = oldValueAt.keys.sorted()
        let kept = oldPositions.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        let added = (0..<30).filter { oldValueAt[$0] == nil }.prefix(oldPositions.count - kept.count)
        let positions = (kept + added).sorted()
        var offsets = [0], columns: [Int32] = []
        for r in 0..<5 {
            columns += positions.filter { $0 / 6 == r }.map { Int32($0 % 6) }
            offsets.append(columns.count)
        }
        let new = try SparsityPattern(rows: 5, columns: 6, rowOffsets: offsets, columnIndices: columns)
        let slotOfOld = Dictionary(uniqueKeysWithValues: oldPositions.map { position in
            (position, (0..<old.nonzeroCount).first { p in
                let r = old.rowOffsets.lastIndex { $0 <= p }!
                return r * 6 + Int(old.columnIndices[p]) == position && p < old.rowOffsets[r + 1]
            }!)
        })
        let source = positions.map { kept.contains($0) ? Int32(slotOfOld[$0]!) : -1 }
        network.replacePattern(ofLinearLayer: 0, with: new, sourceSlot: source, initialValue: { Float($0) * 0.01 })

        XCTAssertEqual(sparse.pattern, new)
        XCTAssertEqual(sparse.transpose.pattern, TransposePlan(of: new).pattern)
        XCTAssertEqual(network.topologyVersion, 1)
        let values = network.values(of: sparse.weights)
        for (p, position) in positions.enumerated() {
            XCTAssertEqual(values[p], kept.contains(position) ? oldValueAt[position]! : Float(p) * 0.01, "slot \(p)")
        }
        // Forward on 4 examples against the reference built from the new pattern and values.
        try assertForwardMatchesReference(network, batch: 4, seed: 9)
        // The batch assembler gathers exactly the new pattern's columns.
        let used = BatchAssembler(for: network).used ?? (0..<6).map(Int32.init)
        XCTAssertEqual(Set(used), Set(new.columnIndices))
    }

    /// A pattern with fewer nonzeros (as structured pruning will make): the store shrinks, the
    /// later layers' groups move with their values, and forward still matches the reference.
    func testReplacedPatternWithAnotherCountMovesTheLaterLayers() throws {
        let network = try Network(NetworkConfiguration(layerSizes: [6, 5, 3], densities: [0.5, 0.6], seed: 6))
        let first = try XCTUnwrap(network.linearLayers[0] as? SparseLinear)
        let second = try XCTUnwrap(network.linearLayers[1] as? SparseLinear)
        let secondValues = Array(network.values(of: second.weights)), secondBias = Array(network.values(of: second.bias))
        let old = first.pattern
        // Keep only each row's first nonzero.
        var offsets = [0], columns: [Int32] = [], source: [Int32] = []
        for r in 0..<old.rows {
            if old.count(ofRow: r) > 0 {
                columns.append(old.columnIndices[old.rowOffsets[r]])
                source.append(Int32(old.rowOffsets[r]))
            }
            offsets.append(columns.count)
        }
        let smaller = try SparsityPattern(rows: old.rows, columns: old.columns, rowOffsets: offsets, columnIndices: columns)
        XCTAssertLessThan(smaller.nonzeroCount, old.nonzeroCount)
        let before = network.parameters.count
        network.replacePattern(ofLinearLayer: 0, with: smaller, sourceSlot: source, initialValue: { _ in 0 })
        XCTAssertEqual(network.parameters.count, before - (old.nonzeroCount - smaller.nonzeroCount))
        XCTAssertEqual(first.weights.count, smaller.nonzeroCount)
        XCTAssertEqual(Array(network.values(of: second.weights)), secondValues, "the next layer's weights moved with their group")
        XCTAssertEqual(Array(network.values(of: second.bias)), secondBias)
        try assertForwardMatchesReference(network, batch: 3, seed: 12)
    }

    /// The 6-input, 3-output network's forward on `batch` random examples against the dense reference.
    func assertForwardMatchesReference(_ network: Network, batch: Int, seed: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = randomFloats(6 * batch, seed: seed)
        let ws = try Workspace(network: network, capacity: batch)
        ws.input.buffer.baseAddress!.update(from: x, count: x.count)
        try network.forward(ws, batch: batch, pool: ThreadPool(threads: 2))
        let reference = DenseReference(network)
        for j in 0..<batch {
            let expected = reference.output((0..<6).map { Double(x[$0 * batch + j]) })
            for c in 0..<3 { XCTAssertEqual(Double(ws.output[c * batch + j]), expected[c], accuracy: 1e-5, file: file, line: line) }
        }
    }
}
