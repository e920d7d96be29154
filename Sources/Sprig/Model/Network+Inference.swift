extension Network {
    /// Runs the network forward (evaluation mode: batch norm's running statistics, no dropout)
    /// on the examples `examples` of `data` (already normalised), in batches of up to 1000
    /// (`Workspace.evaluationColumns`) on
    /// `pool`, and hands each batch to `body(workspace, first, b)`: its outputs Y_L (K×b,
    /// feature-major) are `workspace.output`, its labels `workspace.labels`, until the next
    /// batch overwrites them. The workspace is checked against the machine's memory first.
    public func forEachBatch(of data: Dataset, examples: Range<Int>, pool: ThreadPool,
                             _ body: (_ workspace: Workspace, _ first: Int, _ batch: Int) throws -> Void) throws {
        guard !examples.isEmpty else { return }
        let capacity = Workspace.evaluationColumns(configuration, examples: examples.count)
        var budget = MemoryBudget("the evaluation workspace of the network \(configuration.layerSizes.map(String.init).joined(separator: ","))")
        try configuration.addWorkspace(columns: capacity, to: &budget)
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

extension Network {
    /// Y for the examples `examples` of `data` (normalised), example-major: n×K floats, row j
    /// the outputs of example `examples.lowerBound + j`.
    public func outputs(for data: Dataset, examples: Range<Int>, pool: ThreadPool) throws -> [Float] {
        let k = outputSize
        var outputs = [Float](repeating: 0, count: examples.count * k)
        try forEachBatch(of: data, examples: examples, pool: pool) { workspace, first, b in
            let y = workspace.output.pointer
            for j in 0..<b { for c in 0..<k { outputs[(first - examples.lowerBound + j) * k + c] = y[c * b + j] } }   // K×b → b×K
        }
        return outputs
    }

    /// Over the examples `examples` of `data` (normalised): Σ of `loss` and the confusion
    /// counts, `confusion[label·K + predicted]` (the prediction is the largest output, the
    /// first on a tie, as the accuracy counts it).
    public func evaluation(of data: Dataset, examples: Range<Int>, loss: LossKind, pool: ThreadPool) throws -> (loss: Double, confusion: [Int]) {
        let classes = outputSize, backend = CPUBackend(pool: pool)
        var total = 0.0, confusion = [Int](repeating: 0, count: classes * classes)
        try forEachBatch(of: data, examples: examples, pool: pool) { workspace, _, b in
            let y = UnsafePointer(workspace.output.pointer)
            try workspace.labels.withUnsafeBufferPointer { labels in
                total += try backend.loss(loss, output: y, labels: labels.baseAddress!, classes: classes, batch: b, globalBatch: b,
                                          gradient: workspace.outputGradient.pointer)
                for j in 0..<b {
                    var best = 0
                    for c in 1..<classes where y[c * b + j] > y[best * b + j] { best = c }
                    confusion[Int(labels[j]) * classes + best] += 1
                }
            }
        }
        return (total, confusion)
    }

    /// The predicted class of each row of n×K `outputs` (the largest, the first on a tie).
    public static func predictedClasses(_ outputs: [Float], classes k: Int) -> [Int] {
        (0..<(outputs.count / k)).map { j in (0..<k).reduce(0) { outputs[j * k + $1] > outputs[j * k + $0] ? $1 : $0 } }
    }
}
