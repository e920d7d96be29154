/// Builds the compact network that keeps some hidden neurons of `network` and drops the
/// rest: linear layer l keeps the rows of its output's surviving neurons and the columns of
/// its input's; the layers between two linear layers (batch norm, SReLU, dropout) keep their
/// surviving units. Every trainable value, every optimizer-state buffer and every layer's
/// state (batch norm's running statistics) follows its neuron; gradients start at zero.
/// Input features keep their numbering (the data's layout): those in `droppedInputs` lose
/// their weights in a sparse first layer, so batch assembly stops reading them.
///
/// Removing a neuron whose outgoing weights are all zero leaves every output unchanged.
enum NetworkShrinker {
    /// `kept[h]`: the surviving neurons of hidden layer h (ascending indices into the current
    /// layer, at least one each). The result's configuration has the compact sizes, each
    /// layer's actual density and the composed `Compaction` record.
    static func shrink(_ network: Network, keeping kept: [[Int]], droppedInputs: [Bool]? = nil) -> Network {
        let old = network.configuration
        let linear = network.linearLayers
        precondition(kept.count == linear.count - 1 && kept.allSatisfy { !$0.isEmpty })
        // The units every linear layer's output keeps (all of the last one's).
        let outputUnits: [[Int]] = kept + [Array(0..<network.outputSize)]

        var patterns: [SparsityPattern?] = []
        var weightSources: [[Int32]] = []
        for (l, layer) in linear.enumerated() {
            let rows = outputUnits[l]
            var newColumn = [Int32](repeating: -1, count: layer.inputSize)   // old column → new, -1 when dropped
            let columns = l == 0 ? Array(0..<layer.inputSize) : kept[l - 1]
            for (n, c) in columns.enumerated() { newColumn[c] = Int32(n) }
            if l == 0, let droppedInputs { for c in 0..<layer.inputSize where droppedInputs[c] { newColumn[c] = -1 } }
            if let pattern = layer.sparsity {
                var offsets = [0], indices: [Int32] = [], sources: [Int32] = []
                for r in rows {
                    for p in pattern.rowOffsets[r]..<pattern.rowOffsets[r + 1] {
                        let c = newColumn[Int(pattern.columnIndices[p])]
                        guard c >= 0 else { continue }
                        indices.append(c)
                        sources.append(Int32(p))
                    }
                    offsets.append(indices.count)
                }
                let compactColumns = l == 0 ? layer.inputSize : columns.count
                patterns.append(SparsityPattern(unchecked: rows.count, columns: compactColumns, rowOffsets: offsets, columnIndices: indices))
                weightSources.append(sources)
            } else {
                let d = layer.inputSize
                patterns.append(nil)
                weightSources.append(rows.flatMap { r in columns.map { c in Int32(r * d + c) } })
            }
        }

        var configuration = old
        configuration.layerSizes = [old.layerSizes[0]] + outputUnits.map(\.count)
        configuration.densities = patterns.enumerated().map { l, pattern in
            guard let pattern else { return 1 }
            let cells = Double(pattern.rows) * Double(pattern.columns)
            // Still a sparse layer: below 1 and above 0 whatever survives.
            return min(max(Double(pattern.nonzeroCount), 0.5) / cells, Double(1).nextDown)
        }
        let previous = old.compaction ?? Compaction(originalLayerSizes: old.layerSizes, originalDensities: old.densities,
                                                   kept: old.layerSizes.dropFirst().dropLast().map { (0..<Int32($0)).map { $0 } })
        configuration.compaction = Compaction(originalLayerSizes: previous.originalLayerSizes,
                                              originalDensities: previous.originalDensities,
                                              kept: zip(previous.kept, kept).map { original, local in local.map { original[$0] } })
        let compact = Network(configuration, patterns: patterns)

        // Slot maps, group by group: a linear layer's weights follow the pattern, every other
        // group holds one value per unit of its layer's output.
        var units = Array(0..<network.inputSize), linearSeen = 0
        var maps: [(old: ParameterGroup, new: ParameterGroup, source: [Int32])] = []
        var stateMaps: [(old: LayerState, new: LayerState, source: [Int32])] = []
        for (oldLayer, newLayer) in zip(network.layers, compact.layers) {
            var weights: ParameterGroup?
            if let layer = oldLayer as? any LinearLayer {
                units = outputUnits[linearSeen]
                weights = layer.weights
                maps.append((layer.weights, (newLayer as! any LinearLayer).weights, weightSources[linearSeen]))
                linearSeen += 1
            }
            let unitSource = units.map(Int32.init)
            for (o, n) in zip(oldLayer.parameterGroups, newLayer.parameterGroups) where o !== weights {
                precondition(o.count == oldLayer.outputSize, "a group of one value per unit")
                maps.append((o, n, unitSource))
            }
            for (o, n) in zip(oldLayer.state, newLayer.state) { stateMaps.append((o, n, unitSource)) }
        }
        let from = network.parameters, to = compact.parameters
        for (name, _) in from.states { to.addState(named: name) }
        func copy(_ source: [Int32], from old: UnsafeMutablePointer<Float>, to new: UnsafeMutablePointer<Float>) {
            for (p, s) in source.enumerated() { new[p] = old[Int(s)] }
        }
        for map in maps {
            copy(map.source, from: from.values.pointer + map.old.offset, to: to.values.pointer + map.new.offset)
            for (state, target) in zip(from.states, to.states) {
                copy(map.source, from: state.buffer.pointer + map.old.offset, to: target.buffer.pointer + map.new.offset)
            }
        }
        for map in stateMaps { copy(map.source, from: map.old.values.pointer, to: map.new.values.pointer) }
        return compact
    }
}
