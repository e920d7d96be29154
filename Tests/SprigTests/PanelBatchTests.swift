import XCTest
@testable import Sprig

/// The CPU challenge engine's panels: freeing dead lanes and refilling panels from the last
/// ones keeps every live input's column (its values, on every line) and leaves no more panels
/// than the live inputs need, whatever lanes died.
final class PanelBatchTests: XCTestCase {
    func testDeadLanesAreFreedAndPanelsRefilledWithEveryLiveColumnIntact() {
        var g = RandomGenerator(seed: 11)
        let pool = ThreadPool(threads: 2)
        for (neurons, inputs) in [(200, 16 * 9 + 5), (64, 16 * 40), (1, 33), (1024, 160)] {
            for trial in 0..<6 {
                let batch = PanelBatch(neurons: neurons), w = PanelBatch.width
                batch.start(count: inputs)
                let panels = PanelBatch.panels(for: inputs)
                // Input m's column holds f(m, i) = m + i/1000 on neuron i's line; empty lanes are zero.
                var lanes = [Int32](repeating: -1, count: panels * w)
                for m in 0..<inputs { lanes[m] = Int32(m) }
                for slot in 0..<panels {
                    let panel = batch.panel(slot, back: true)
                    panel.update(repeating: 0, count: batch.panelFloats)
                    for c in 0..<w where slot * w + c < inputs {
                        for i in 0..<neurons { panel[PanelBatch.line(i) * w + c] = Float(slot * w + c) + Float(i) / 1000 }
                    }
                }
                batch.place(slots: Array(0..<panels), lanes: lanes)
                batch.flip()
                // Lanes die at random, more of them in later trials; some panels lose every lane.
                var alive = (0..<panels).map { _ in UInt16(truncatingIfNeeded: g.below(1 << 16)) }
                for e in 0..<panels where g.below(6) < trial { alive[e] &= UInt16(truncatingIfNeeded: g.below(1 << 16)) }
                if trial == 5 { for e in 0..<panels where e % 3 == 0 { alive[e] = 0 } }
                let expected = (0..<inputs).filter { alive[$0 / w] & (1 << ($0 % w)) != 0 }
                // A lane dies when the layer's output column is all zero.
                for slot in 0..<panels {
                    for c in 0..<w where alive[slot] & (1 << c) == 0 {
                        for i in 0..<neurons { batch.panel(slot)[PanelBatch.line(i) * w + c] = 0 }
                    }
                }
                batch.keep(alive: alive)
                batch.compact(pool: pool)
                XCTAssertEqual(batch.liveInputs.sorted(), expected, "N=\(neurons), trial \(trial)")
                XCTAssertEqual(batch.slots.count, PanelBatch.panels(for: expected.count), "N=\(neurons), trial \(trial): panels left")
                for (e, slot) in batch.slots.enumerated() {
                    let panel = batch.panel(slot)
                    for c in 0..<w {
                        let m = batch.lanes[e * w + c]
                        for i in 0..<neurons {
                            let value = panel[PanelBatch.line(i) * w + c]
                            if m >= 0 {
                                XCTAssertEqual(value, Float(m) + Float(i) / 1000, "input \(m), neuron \(i)")
                            } else if value != 0 {
                                XCTFail("empty lane \(c) of slot \(slot) holds \(value) on neuron \(i)")
                            }
                        }
                    }
                }
            }
        }
    }
}
