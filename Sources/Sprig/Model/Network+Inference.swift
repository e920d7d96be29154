extension Network {
    /// Runs the network forward (evaluation mode: batch norm's running statistics, no dropout)
    /// on the examples `examples` of `data` (already normalised), in batches of up to 1000 on
    /// `pool`, and hands each batch to `body(workspace, first, b)`: its outputs Y_L (K×b,
    /// feature-major) are `workspace.output`, its labels `workspace.labels`, until the next
    /// batch overwrites them. The workspace is checked against the machine's memory first.
    public func forEachBatch(of data: Dataset, examples: Range<Int>, pool: ThreadPool,
                             _ body: (_ workspace: Workspace, _ first: Int, _ batch: Int) throws -> Void) throws {
        guard !examples.isEmpty else { return }
        let capacity = min(examples.count, 1000)
        var budget = MemoryBudget("the evaluation workspace of the network \(configuration.layerSizes.map(String.init).joined(separator: ","))")
        try budget.add(product: [inputSize, capacity])
        for size in configuration.layerOutputSizes { try budget.add(product: [3, size, capacity]) }
        try budget.check()
        let workspace = try Workspace(network: self, capacity: capacity)
        let assembler = BatchAssembler(for: self)
        var start = examples.lowerBound
        while start < examples.upperBound {
            let end = min(start + capacity, examples.upperBound), b = end - start
            workspace.labels.withUnsafeMutableBufferPointer { labels in
                assembler.gather(data, indices: Array(start..<end)[...], into: workspace.hostInput, labels: labels.baseAddress!, pool: pool)
            }
            try workspace.commitInput(count: inputSize * b)
            try forward(workspace, context: context(batch: b, pool: pool, mode: .evaluation))
            try body(workspace, start, b)
            start = end
        }
    }
}
