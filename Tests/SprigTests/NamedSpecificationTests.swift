import XCTest
@testable import Sprig

/// The one "name:parameter:…" parser behind `--activation`, `--output-activation`,
/// `--optimizer` and `--lr-schedule`: names, parameters, non-finite numbers refused with the
/// flag named, in the library and through the real binary.
final class NamedSpecificationTests: XCTestCase {
    func testSplitsNameAndParameters() throws {
        let spec = NamedSpecification("MultiStep:50,75:0.1", flag: "--lr-schedule")
        XCTAssertEqual(spec.name, "multistep")
        XCTAssertEqual(spec.parameters, ["50,75", "0.1"])
        XCTAssertEqual(try spec.integers(0, usage: "M"), [50, 75])
        XCTAssertEqual(try spec.number(1, usage: "G"), 0.1)
        XCTAssertEqual(NamedSpecification("leaky-relu", flag: "--activation").name, "leaky_relu")
        XCTAssertEqual(NamedSpecification("relu:", flag: "--activation").parameters, [""])
        assertSprigError(try NamedSpecification("step:30", flag: "--lr-schedule").expectParameters(2...2, usage: "step:SIZE:GAMMA"),
                         kind: .invalidArgument, mentions: ["--lr-schedule 'step:30'", "step:SIZE:GAMMA"])
    }

    func testNonFiniteParametersAreRefusedNamingTheFlag() {
        assertSprigError(try Activation(parsing: "leaky_relu:nan"), kind: .invalidArgument,
                         mentions: ["--activation 'leaky_relu:nan'", "not a finite number"])
        assertSprigError(try Activation(parsing: "all_relu:1e39", flag: "--output-activation"), kind: .invalidArgument,
                         mentions: ["--output-activation 'all_relu:1e39'", "not a finite number"])
        assertSprigError(try OptimizerKind(parsing: "momentum:inf"), kind: .invalidArgument,
                         mentions: ["--optimizer 'momentum:inf'", "not a finite number"])
        assertSprigError(try LearningRateSchedule(parsing: "exponential:nan"), kind: .invalidArgument,
                         mentions: ["--lr-schedule 'exponential:nan'", "not a finite number"])
        assertSprigError(try LearningRateSchedule(parsing: "cosine:-inf"), kind: .invalidArgument,
                         mentions: ["--lr-schedule 'cosine:-inf'", "not a finite number"])
    }

    func testParametersAreCheckedForEveryKind() throws {
        XCTAssertEqual(try Activation(parsing: "Leaky-ReLU:0.25"), .leakyReLU(0.25))
        XCTAssertEqual(try Activation(parsing: "clipped_relu:32"), .clippedReLU(32))
        XCTAssertEqual(try LearningRateSchedule(parsing: "step:30:0.1"), .step(size: 30, gamma: 0.1))
        XCTAssertEqual(try LearningRateSchedule(parsing: "cosine"), .cosine(minimum: 0))
        XCTAssertEqual(try OptimizerKind(parsing: "gradient-descent"), .sgd)
        for bad in ["tanh:2", "relu:0.1", "leaky_relu", "leaky_relu:0.1:2", "swish"] {
            assertSprigError(try Activation(parsing: bad), kind: .invalidArgument, mentions: ["--activation '\(bad)'"])
        }
        for bad in ["nesterov:1", "momentum:-0.1", "sgd:0.1", "adagrad", "adam:0.9"] {
            assertSprigError(try OptimizerKind(parsing: bad), kind: .invalidArgument, mentions: ["--optimizer '\(bad)'"])
        }
        for bad in ["constant:1", "multistep:50,,75:0.1", "step:x:0.1", "cosine:0.1:2"] {
            assertSprigError(try LearningRateSchedule(parsing: bad), kind: .invalidArgument, mentions: ["--lr-schedule '\(bad)'"])
        }
    }

    /// Through the real binary: one error line naming the flag and the value, nothing trained.
    func testTheBinaryRefusesNonFiniteParameters() throws {
        try CommandLineTests.requireBinary()
        for (flag, value) in [("--activation", "leaky_relu:nan"), ("--output-activation", "all_relu:inf"),
                              ("--optimizer", "momentum:inf"), ("--lr-schedule", "exponential:nan")] {
            let result = try TestFiles.run([CommandLineTests.binary, "train", "--dataset", "synthetic", "--layer-sizes", "20,8,3",
                                            "--train-size", "50", "--test-size", "10", "--epochs", "1", "--threads", "1", flag, value])
            XCTAssertNotEqual(result.status, 0, "\(flag) \(value)")
            XCTAssertLessThan(result.status, 128, "killed by a signal for \(flag) \(value)")
            XCTAssertEqual(result.errors.split(separator: "\n").count, 1, result.errors)
            XCTAssertTrue(result.errors.hasPrefix("error: ") && result.errors.contains("\(flag) '\(value)'")
                          && result.errors.contains("not a finite number"), result.errors)
            XCTAssertFalse(result.output.contains("epoch 1/1"), "trained with \(flag) \(value)")
        }
    }
}
