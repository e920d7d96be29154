import XCTest
@testable import Sprig

/// Batch assembly (`BatchAssembler`, the C kernels `sprig_gather_floats` and
/// `sprig_gather_bytes`) against its definition X[f, j] = feature f of example indices[j], on
/// shapes around the 16×16 transposed tiles, with every feature, a list of most of them (all
/// copied) and a short list (only those copied).
final class BatchAssemblerTests: XCTestCase {
    func testEveryShapeMatchesTheDefinition() {
        var g = RandomGenerator(seed: 5)
        let table = (0..<256).map { Float($0) * 0.37 - 20 }
        for features in [1, 15, 16, 17, 40, 600, 1100] {
            let examples = 150
            let bytes = (0..<(examples * features)).map { _ in UInt8(g.below(256)) }
            let floats = (0..<(examples * features)).map { _ in g.uniform(-3, 3) }
            let labels = (0..<examples).map { Int32($0 % 7) }
            let sets = [Dataset(name: "floats", featureCount: features, classCount: 7, features: floats, labels: labels),
                        Dataset(name: "bytes", featureCount: features, classCount: 7, bytes: bytes, values: table, labels: labels)]
            // A list of two thirds of the features (all are copied, in whole tiles) and of one third (only those).
            let lists = [(0..<features).filter { $0 % 3 != 1 }.map(Int32.init), (0..<features).filter { $0 % 3 == 1 }.map(Int32.init)]
            for data in sets {
                func value(_ example: Int, _ f: Int) -> Float {
                    data.name == "floats" ? floats[example * features + f] : table[Int(bytes[example * features + f])]
                }
                for count in [1, 15, 16, 17, 100] {
                    let indices = (0..<count).map { _ in g.below(examples) }
                    for used in [nil] + lists {
                        for threads in [1, 2] {
                            var x = [Float](repeating: .nan, count: features * count)
                            var got = [Int32](repeating: -1, count: count)
                            BatchAssembler(used: used, features: features).gather(data, indices: indices[...], into: &x, labels: &got, pool: ThreadPool(threads: threads))
                            XCTAssertEqual(got, indices.map { labels[$0] })
                            let all = used.map { 2 * $0.count >= features } ?? true
                            let copied = Set(all ? Array(0..<features) : used!.map(Int.init))
                            for f in 0..<features {
                                for j in 0..<count {
                                    let what = "\(data.name) \(features) features, \(count) examples, \(used?.count ?? features) listed, f \(f), j \(j)"
                                    if copied.contains(f) {
                                        XCTAssertEqual(x[f * count + j].bitPattern, value(indices[j], f).bitPattern, what)
                                    } else {
                                        XCTAssertTrue(x[f * count + j].isNaN, "\(what): a feature not on the list was written")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
