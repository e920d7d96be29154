/// Every trainable value of a network in one contiguous buffer, in named groups (each sparse
/// layer's CSR values, each dense weight matrix, each bias, and room for more: gains, trainable
/// activation parameters), with the gradients and every optimizer-state buffer (momentum's
/// velocity, Adam's moments) laid out alike. So zeroing gradients is one fill, the optimizer
/// step one loop, the allreduce one call, and a checkpoint one write.
///
/// The topology can change: `remap` replaces a group's slots given the old→new slot map, and
/// the values and every state buffer follow their slots. A layer's groups are contiguous
/// (weights then bias), so `range(ofLayer:)` is one allreduce.
///
/// Buffers are replaced when a group changes size: hold the store, not its buffers, across a
/// topology change.
public final class ParameterStore {
    public let groups: [ParameterGroup]
    public private(set) var count: Int
    public private(set) var values: FloatBuffer
    public private(set) var gradients: FloatBuffer
    /// Optimizer state: named buffers with the values' layout, in the order they were added.
    public private(set) var states: [(name: String, buffer: FloatBuffer)] = []

    /// Lays the groups out in order (offsets assigned here); values, gradients all zero.
    public init(groups: [ParameterGroup]) {
        self.groups = groups
        var offset = 0
        for group in groups {
            group.offset = offset
            offset += group.count
        }
        count = offset
        values = FloatBuffer(count: offset)
        gradients = FloatBuffer(count: offset)
    }

    /// A store with one group (for tests and single layers).
    public convenience init(count: Int) {
        self.init(groups: [ParameterGroup(layer: 0, name: "values", count: count)])
    }

    /// Adds a zeroed state buffer named `name` (e.g. "velocity"), or returns the one already there.
    @discardableResult
    public func addState(named name: String) -> FloatBuffer {
        if let existing = state(named: name) { return existing }
        let buffer = FloatBuffer(count: count)
        states.append((name, buffer))
        return buffer
    }

    public func state(named name: String) -> FloatBuffer? { states.first { $0.name == name }?.buffer }

    public func values(of group: ParameterGroup) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: values.pointer + group.offset, count: group.count)
    }

    public func gradients(of group: ParameterGroup) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: gradients.pointer + group.offset, count: group.count)
    }

    /// Layer l's groups, contiguous in every buffer.
    public func range(ofLayer l: Int) -> Range<Int> {
        var lower = Int.max, upper = 0
        for group in groups where group.layer == l {
            lower = min(lower, group.offset)
            upper = max(upper, group.offset + group.count)
        }
        return lower <= upper ? lower..<upper : 0..<0
    }

    /// Replaces `group`'s slots: new slot p takes old slot `sourceSlot[p]` in the values and in
    /// every state buffer, or, where `sourceSlot[p] < 0` (a new slot), the value `initialValue(p)`
    /// and zero state. The group's gradients are zeroed (they belonged to the old slots).
    ///
    /// Same count (SET, RigL): in place, no offset moves. Another count (structured pruning):
    /// every buffer is reallocated with the new size, the groups after this one move by the
    /// difference, and their contents move with them.
    public func remap(_ group: ParameterGroup, sourceSlot: [Int32], initialValue: (Int) -> Float) {
        precondition(groups.contains { $0 === group })
        let oldCount = group.count, newCount = sourceSlot.count
        precondition(sourceSlot.allSatisfy { $0 < oldCount })
        func remapped(_ old: UnsafeMutablePointer<Float>, fresh: (Int) -> Float) -> [Float] {
            (0..<newCount).map { p in sourceSlot[p] >= 0 ? old[Int(sourceSlot[p])] : fresh(p) }
        }
        let newValues = remapped(values.pointer + group.offset, fresh: initialValue)
        let newStates = states.map { remapped($0.buffer.pointer + group.offset, fresh: { _ in 0 }) }
        if newCount != oldCount { resize(group, to: newCount) }
        _ = values(of: group).update(fromContentsOf: newValues)
        for (k, state) in states.enumerated() {
            _ = UnsafeMutableBufferPointer(start: state.buffer.pointer + group.offset, count: newCount)
                .update(fromContentsOf: newStates[k])
        }
        gradients(of: group).update(repeating: 0)
    }

    /// Gives `group` `newCount` slots: new buffers, every other group's contents copied to its
    /// new offset (the resized group's own contents are the caller's to fill).
    private func resize(_ group: ParameterGroup, to newCount: Int) {
        let oldOffsets = groups.map(\.offset)
        group.count = newCount
        var offset = 0
        for g in groups {
            g.offset = offset
            offset += g.count
        }
        func moved(_ old: FloatBuffer) -> FloatBuffer {
            let new = FloatBuffer(count: offset)
            for (k, g) in groups.enumerated() where g !== group {
                (new.pointer + g.offset).update(from: old.pointer + oldOffsets[k], count: g.count)
            }
            return new
        }
        count = offset
        values = moved(values)
        gradients = moved(gradients)
        states = states.map { ($0.name, moved($0.buffer)) }
    }
}
