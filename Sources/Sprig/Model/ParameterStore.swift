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
/// On a backend whose memory is not the host's (`place(on:)`), the store is mirrored there
/// with the same layout in one block (`ParameterMirror`); `device(_:)` gives a section's
/// address there and the host accessors (`values`, `gradients`, `states`) bring a section
/// back first when the backend changed it. On the CPU there is no mirror and no copy.
///
/// Buffers are replaced when a group changes size or a state is added: hold the store, not
/// its buffers, across a topology change, and a host pointer not across backend work.
public final class ParameterStore {
    public let groups: [ParameterGroup]
    public private(set) var count: Int
    private var hostValues: FloatBuffer
    private var hostGradients: FloatBuffer
    private var hostStates: [(name: String, buffer: FloatBuffer)] = []
    /// The copy in the backend's memory; nil on a backend that shares host memory.
    private var mirror: ParameterMirror?

    /// A section of the store: the values, the gradients or the optimizer state named so.
    public enum Section: Equatable, Sendable {
        case values, gradients, state(String)
    }

    /// The values, current on the host.
    public var values: FloatBuffer { useOnHost(0); return hostValues }
    /// The gradients, current on the host.
    public var gradients: FloatBuffer { useOnHost(1); return hostGradients }
    /// Optimizer state: named buffers with the values' layout, in the order they were added, current on the host.
    public var states: [(name: String, buffer: FloatBuffer)] {
        for k in hostStates.indices { useOnHost(2 + k) }
        return hostStates
    }

    /// Lays the groups out in order (offsets assigned here); values, gradients all zero.
    public init(groups: [ParameterGroup]) {
        self.groups = groups
        var offset = 0
        for group in groups {
            group.offset = offset
            offset += group.count
        }
        count = offset
        hostValues = FloatBuffer(count: offset)
        hostGradients = FloatBuffer(count: offset)
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
        bringEverySectionToHost()   // the mirror is laid out anew
        hostStates.append((name, buffer))
        rebuildMirror()
        return buffer
    }

    public func state(named name: String) -> FloatBuffer? {
        guard let k = hostStates.firstIndex(where: { $0.name == name }) else { return nil }
        useOnHost(2 + k)
        return hostStates[k].buffer
    }

    // MARK: the backend's copy

    /// Mirrors the store in `backend`'s memory when that is not host memory (the host's
    /// contents go there at their first use), or drops the mirror on a backend that shares
    /// host memory (bringing its contents back first).
    public func place(on backend: any ComputeBackend) throws {
        if let mirror, mirror.backend === backend { return }
        bringEverySectionToHost()
        mirror = nil
        guard !backend.sharesHostMemory else { return }
        mirror = try ParameterMirror(backend: backend, count: count, sections: 2 + hostStates.count)
    }

    /// The address of `section` in the backend's memory (the host buffer without a mirror),
    /// current there: the backend may read and write it; the host takes it back at its next
    /// host access.
    public func device(_ section: Section) throws -> UnsafeMutablePointer<Float> {
        let (s, host) = try locate(section)
        guard let mirror else { return host.pointer }
        return try mirror.useOnDevice(s, host: host.pointer)
    }

    /// The per-layer exchange: copies the gradients in `range` to the host (from the backend's
    /// memory, when mirrored) and returns their host address, leaving every other gradient where
    /// it is (backward still writes the earlier layers' on the backend, and the later layers'
    /// are being summed on the host).
    public func hostGradients(in range: Range<Int>) throws -> UnsafeMutableBufferPointer<Float> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count)
        let host = UnsafeMutableBufferPointer(start: hostGradients.pointer + range.lowerBound, count: range.count)
        if let mirror, !range.isEmpty {
            try mirror.backend.download(mirror.address(ofSection: 1) + range.lowerBound, to: host.baseAddress!, count: range.count)
        }
        return host
    }

    /// After the per-layer exchange: the host holds every layer's summed gradients, the newest.
    public func gradientsExchangedOnHost() { mirror?.hostHoldsNewest(1) }

    private func locate(_ section: Section) throws -> (Int, FloatBuffer) {
        switch section {
        case .values: return (0, hostValues)
        case .gradients: return (1, hostGradients)
        case .state(let name):
            guard let k = hostStates.firstIndex(where: { $0.name == name }) else {
                throw SprigError.failed("the parameter store has no optimizer state '\(name)'")
            }
            return (2 + k, hostStates[k].buffer)
        }
    }

    /// Brings section `s` to the host when the backend holds newer contents. A copy that fails
    /// means the device itself failed (not a user's mistake): the run cannot go on.
    private func useOnHost(_ s: Int) {
        guard let mirror else { return }
        let host = s == 0 ? hostValues : s == 1 ? hostGradients : hostStates[s - 2].buffer
        do { try mirror.useOnHost(s, host: host.pointer) } catch {
            fatalError("error: copying the parameters from \(mirror.backend.name) failed: \(error)")
        }
    }

    private func bringEverySectionToHost() {
        for s in 0..<(2 + hostStates.count) { useOnHost(s) }
    }

    /// A new mirror for the current count and sections (every section then taken from the host).
    private func rebuildMirror() {
        guard let backend = mirror?.backend else { return }
        mirror = nil
        do { mirror = try ParameterMirror(backend: backend, count: count, sections: 2 + hostStates.count) } catch {
            fatalError("error: allocating the parameters on \(backend.name) failed: \(error)")
        }
    }

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
        bringEverySectionToHost()   // before the buffers move
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
        hostValues = moved(hostValues)
        hostGradients = moved(hostGradients)
        hostStates = hostStates.map { ($0.name, moved($0.buffer)) }
        rebuildMirror()
    }
}
