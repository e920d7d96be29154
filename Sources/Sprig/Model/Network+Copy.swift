extension Network {
    /// An independent copy: the same configuration and patterns, and copies of the store's
    /// values, every optimizer-state buffer (momentum's velocity, Adam's moments) and every
    /// layer's state (batch norm's running statistics). Training either one leaves the other
    /// as it was. The copy's store lives on the host (a backend places it again when used).
    public func copy() -> Network {
        let copy = Network(configuration, patterns: linearLayers.map(\.sparsity))
        precondition(copy.parameters.count == parameters.count, "the same configuration and patterns build the same store")
        _ = copy.parameters.values.buffer.update(fromContentsOf: parameters.values.buffer)
        for state in parameters.states {
            _ = copy.parameters.addState(named: state.name).buffer.update(fromContentsOf: state.buffer.buffer)
        }
        for (mine, theirs) in zip(states, copy.states) {
            precondition(mine.name == theirs.name && mine.values.count == theirs.values.count)
            _ = theirs.values.buffer.update(fromContentsOf: mine.values.buffer)
        }
        return copy
    }
}
