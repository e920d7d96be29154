import Foundation
import XCTest
@testable import Sprig
import SprigArguments

/// Issue 26: Nerva's spellings of the training flags' values parse to exactly the
/// configuration of the canonical forms (and bad ones still name the flag and the value as
/// typed); `sprig train --help` and README's flag table list the same flags and every name
/// the parsers accept; help texts are wrapped by ArgumentParser, not by hand.
final class SpellingAndHelpTests: XCTestCase {
    // MARK: Aliases

    /// A small synthetic run's flags plus `extra`, as the library reads them.
    private func configuration(_ extra: [String], file: StaticString = #filePath, line: UInt = #line) throws
        -> (network: NetworkConfiguration, training: TrainingConfiguration) {
        var flags = ["--dataset", "synthetic", "--train-size", "50", "--test-size", "10", "--epochs", "1", "--threads", "1"]
        if !extra.contains("--layer-sizes") { flags += ["--layer-sizes", "20,8,3"] }
        let options = try TrainArguments.parse(flags + extra).options()
        return (options.network, options.training)
    }

    /// Each pair: Nerva's spelling, the canonical one (flags added to a small synthetic run).
    static let aliases: [(alias: [String], canonical: [String])] = [
        (["--layer-sizes", "20;8;3"], ["--layer-sizes", "20,8,3"]),
        (["--layer-sizes", "784;1024;10", "--densities", "0.1;1"], ["--layer-sizes", "784,1024,10", "--densities", "0.1,1"]),
        (["--dropouts", "0.2;0"], ["--dropouts", "0.2,0"]),
        (["--optimizer", "Nesterov(0.9)"], ["--optimizer", "nesterov:0.9"]),
        (["--optimizer", "Momentum(0.9)"], ["--optimizer", "momentum:0.9"]),
        (["--optimizer", "Adam(0.9,0.999,1e-8)"], ["--optimizer", "adam:0.9,0.999,1e-8"]),
        (["--optimizer", "Adam(0.8, 0.99, 1e-6)"], ["--optimizer", "adam:0.8,0.99,1e-6"]),
        (["--optimizer", "AdamW(0.9,0.999,1e-8,0.05)"], ["--optimizer", "adamw:0.9,0.999,1e-8,0.05"]),
        (["--optimizer", "GradientDescent"], ["--optimizer", "sgd"]),
        (["--optimizer", "NESTEROV(0.5)"], ["--optimizer", "nesterov:0.5"]),
        (["--optimizer", "Nesterov(0.9),Adam(0.9,0.999,1e-8)"], ["--optimizer", "nesterov:0.9,adam:0.9,0.999,1e-8"]),
        (["--optimizer", "Adam(0.8,0.99,1e-6), GradientDescent"], ["--optimizer", "adam:0.8,0.99,1e-6,sgd"]),
        (["--optimizer", "GradientDescent,Momentum(0.5)"], ["--optimizer", "sgd,momentum:0.5"]),
        (["--loss", "SoftmaxCrossEntropy"], ["--loss", "softmax-cross-entropy"]),
        (["--loss", "LogisticCrossEntropy"], ["--loss", "logistic-cross-entropy"]),
        (["--loss", "SquaredError"], ["--loss", "squared-error"]),
        (["--loss", "CrossEntropy", "--layers", "ReLU;Softmax"], ["--loss", "cross-entropy", "--layers", "ReLU;Softmax"]),
        (["--loss", "NegativeLogLikelihood", "--layers", "ReLU;LogSoftmax"],
         ["--loss", "negative-log-likelihood", "--layers", "ReLU;LogSoftmax"]),
        (["--initializer", "Xavier"], ["--initializer", "xavier"]),
        (["--initializer", "XavierNormalized"], ["--initializer", "xavier-normalized"]),
        (["--initializer", "He"], ["--initializer", "he"]),
        (["--initializer", "PyTorch"], ["--initializer", "pytorch"]),
        (["--activation", "ReLU"], ["--activation", "relu"]),
        (["--activation", "LeakyReLU(0.1)"], ["--activation", "leaky_relu:0.1"]),
        (["--activation", "AllReLU(0.6)"], ["--activation", "all_relu:0.6"]),
        (["--activation", "TReLU(0.1)"], ["--activation", "trelu:0.1"]),
        (["--output-activation", "Tanh"], ["--output-activation", "tanh"]),
        (["--lr-schedule", "MultiStep:50,75:0.1"], ["--lr-schedule", "multistep:50,75:0.1"]),
    ]

    func testNervasSpellingsParseToTheCanonicalConfiguration() throws {
        let defaults = try configuration([])
        for (alias, canonical) in Self.aliases {
            let a = try configuration(alias), c = try configuration(canonical)
            XCTAssertEqual(a.network, c.network, "\(alias) vs \(canonical)")
            XCTAssertEqual(a.training, c.training, "\(alias) vs \(canonical)")
            // The canonical form is itself read (not silently the default), unless it names the default.
            let namesDefault = ["20,8,3", "relu", "pytorch", "softmax-cross-entropy", "nesterov:0.9"].contains(canonical[1])
            if !namesDefault {
                XCTAssertTrue(a.network != defaults.network || a.training != defaults.training, "\(alias) reads as the defaults")
            }
        }
        // The library's values, directly.
        XCTAssertEqual(try Activation(parsing: "LeakyReLU(0.1)"), .leakyReLU(0.1))
        XCTAssertEqual(try Activation(parsing: "AllReLU(0.6)"), .allReLU(0.6))
        XCTAssertEqual(try Activation(parsing: "TReLU(0.1)"), .truncatedReLU(0.1))
        XCTAssertEqual(try Activation(parsing: "ReLU()"), .relu)
        XCTAssertEqual(try OptimizerKind(parsing: "Adam()"), .defaultAdam)
        XCTAssertEqual(try OptimizerKind.parsingList("Nesterov(0.9),Adam(0.9,0.999,1e-8)"), [.nesterov(0.9), .defaultAdam])
        XCTAssertEqual(OptimizerKind.specifications(in: "Nesterov(0.9),Adam(0.9,0.999,1e-8),GradientDescent"),
                       ["Nesterov(0.9)", "Adam(0.9,0.999,1e-8)", "GradientDescent"])
        XCTAssertEqual(OptimizerKind.specifications(in: "adam:0.9,0.999,1e-8, sgd"), ["adam:0.9,0.999,1e-8", " sgd"])
        XCTAssertEqual(try LossKind(parsing: "NegativeLogLikelihood"), .negativeLogLikelihood)
        XCTAssertEqual(try Initializer(parsing: "XavierNormalized"), .xavierNormalized)
        let spec = NamedSpecification("LeakyReLU(0.25)", flag: "--activation")
        XCTAssertEqual(spec.name, "leakyrelu")
        XCTAssertEqual(spec.key, "leakyrelu")
        XCTAssertEqual(spec.parameters, ["0.25"])
    }

    func testBadValuesInNervasSpellingsNameTheFlagAndTheValueAsTyped() {
        let activations: [(String, [String])] = [
            ("LeakyReLU(x)", ["expected leaky_relu:A"]), ("LeakyReLU()", ["expected leaky_relu:A"]),
            ("TReLU(nan)", ["not a finite number"]), ("AllReLU(1e39)", ["not a finite number"]), ("ReLU(0.1)", ["relu without a parameter"]),
            ("LeakyReLU(0.1", ["unknown activation"]), ("Swish(1)", ["unknown activation"]), ("SReLU", ["--layers"]),
        ]
        for (text, mentions) in activations {
            assertSprigError(try Activation(parsing: text), kind: .invalidArgument, mentions: ["--activation '\(text)'"] + mentions)
        }
        let optimizers: [(String, [String])] = [
            ("Nesterov(1.5)", ["nesterov:MU"]), ("Momentum()", ["momentum:MU"]), ("Adam(0.9,0.999)", ["adam:B1,B2,EPS"]),
            ("Adam(1.5,0.9,1e-8)", ["B1 1.5"]), ("Adam(0.9,x,1e-8)", ["B2 'x'"]), ("GradientDescent(0.1)", ["sgd without a parameter"]),
            ("Adagrad(0.1)", ["unknown optimizer"]),
        ]
        for (text, mentions) in optimizers {
            assertSprigError(try OptimizerKind.parsingList(text), kind: .invalidArgument, mentions: ["--optimizer '\(text)'"] + mentions)
        }
        assertSprigError(try OptimizerKind.parsingList("Nesterov(0.9),Adamax(1)"), kind: .invalidArgument,
                         mentions: ["--optimizer 'Adamax(1)'", "unknown optimizer"])
        assertSprigError(try LossKind(parsing: "SoftmaxHinge"), kind: .invalidArgument, mentions: ["--loss 'SoftmaxHinge'"])
        assertSprigError(try Initializer(parsing: "Orthogonal"), kind: .invalidArgument, mentions: ["--initializer 'Orthogonal'"])
        assertSprigError(try parseList("20;x;3", flag: "--layer-sizes") { Int($0) }, kind: .invalidArgument,
                         mentions: ["--layer-sizes", "'x'"])
    }

    /// Through the real binary: the aliases train; bad values are one `error:` line naming flag and value.
    func testTheBinaryAcceptsNervasSpellingsAndRefusesBadOnes() throws {
        let base = ["train", "--dataset", "synthetic", "--train-size", "50", "--test-size", "10", "--epochs", "1", "--threads", "1"]
        let run = try CommandLineTests.sprig(base + ["--layer-sizes", "20;8;3", "--optimizer", "Nesterov(0.9),Adam(0.9,0.999,1e-8)",
                                                     "--activation", "LeakyReLU(0.1)", "--loss", "SoftmaxCrossEntropy",
                                                     "--initializer", "XavierNormalized", "--dropouts", "0.1;0"])
        XCTAssertEqual(run.status, 0, run.errors)
        XCTAssertTrue(run.output.contains("epoch 1/1"), run.output)
        for (flag, value) in [("--optimizer", "Nesterov(1.5)"), ("--optimizer", "Nesterov(0.9),Adam(0.9,0.999)"),
                              ("--activation", "LeakyReLU(abc)"), ("--loss", "Hinge"), ("--initializer", "Orthogonal")] {
            let result = try CommandLineTests.sprig(base + ["--layer-sizes", "20,8,3", flag, value])
            assertOneErrorLine(result, status: 64, mentions: ["\(flag) '"], context: "\(flag) \(value)")
            XCTAssertTrue(result.errors.contains(value) || value.contains(","), "\(flag) \(value): \(result.errors)")
        }
        let sizes = try CommandLineTests.sprig(base + ["--layer-sizes", "20;abc;3"])
        assertOneErrorLine(sizes, status: 64, mentions: ["--layer-sizes", "'abc'"])
        let dropouts = try CommandLineTests.sprig(base + ["--layer-sizes", "20,8,3", "--dropouts", "0.2;2"])
        assertOneErrorLine(dropouts, status: 64, mentions: ["--dropouts", "2"])
    }

    // MARK: Help and README

    static var readme: String {
        get throws {
            let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("README.md").path
            guard let text = FileManager.default.contents(atPath: path) else {
                throw TestFiles.MissingRequirement(description: "\(path) is missing (it is part of the repository)")
            }
            return String(decoding: text, as: UTF8.self)
        }
    }

    /// README's section `heading` (from its `## ` line to the next).
    static func section(_ heading: String, of text: String) -> String {
        guard let start = text.range(of: "\n## \(heading)\n") else { return "" }
        let rest = text[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)])
    }

    /// `sprig ARGS --help` with a wide terminal, so each option's help is one line.
    static func help(_ arguments: [String], columns: Int = 1000) throws -> String {
        try CommandLineTests.requireBinary()
        let result = try TestFiles.run(["COLUMNS=\(columns)", "timeout", "60", CommandLineTests.binary] + arguments + ["--help"])
        XCTAssertEqual(result.status, 0, result.errors)
        return result.output
    }

    /// The help's options: flag → its block of lines (the option line and its description).
    static func options(inHelp help: String) -> [String: String] {
        var blocks: [String: String] = [:], current: String?
        for line in help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("  -"), let flag = line.firstMatch(of: #/--[a-z0-9-]+/#) {
                current = String(flag.output)
                blocks[current!] = line
            } else if let flag = current, line.hasPrefix("   ") {
                blocks[flag]! += "\n" + line
            } else {
                current = nil
            }
        }
        return blocks
    }

    /// README's `sprig train` flag table: flag → its row.
    static func readmeRows() throws -> [String: String] {
        var rows: [String: String] = [:]
        for line in section("`sprig train` flags", of: try readme).split(separator: "\n") where line.hasPrefix("| `--") {
            let first = line.split(separator: "|", omittingEmptySubsequences: true)[0]
            for match in first.matches(of: #/--[a-z0-9-]+/#) { rows[String(match.output)] = String(line) }
        }
        return rows
    }

    /// The names in `text` as `NamedSpecification.key`s (words of letters, digits, `_` and `-`).
    static func keys(in text: String) -> Set<String> {
        Set(text.matches(of: #/[A-Za-z][A-Za-z0-9_-]*/#).map { NamedSpecification.key(String($0.output)) })
    }

    func testTrainHelpAndReadmeListTheSameFlags() throws {
        let help = Set(Self.options(inHelp: try Self.help(["train"])).keys).subtracting(["--help", "--version"])
        let readme = Set(try Self.readmeRows().keys)
        XCTAssertGreaterThan(help.count, 40, "flags found in the help: \(help.sorted())")
        XCTAssertEqual(help.subtracting(readme).sorted(), [], "in sprig train --help but not in README's flag table")
        XCTAssertEqual(readme.subtracting(help).sorted(), [], "in README's flag table but not in sprig train --help")
    }

    /// The `--layers` entries `LayerSpecification.parse` accepts (those taking a number shown with one).
    static let layerNames = ["Linear", "ReLU", "LeakyReLU(0.1)", "AllReLU(0.3)", "TReLU(0.1)", "Sigmoid", "Tanh",
                             "SReLU", "SReLU(0,0,0,1)", "Softmax", "LogSoftmax", "BatchNorm"]

    func testEveryAcceptedNameIsInTheHelpAndTheReadme() throws {
        let help = Self.options(inHelp: try Self.help(["train"])), rows = try Self.readmeRows()
        let layersSection = Self.section("Layers", of: try Self.readme)
        // Every name each parser accepts really is accepted (the lists are the parsers' own tables).
        for (name, needs) in Activation.names { XCTAssertNoThrow(try Activation(parsing: needs ? "\(name):0.5" : name), name) }
        for (name, needs) in OptimizerKind.names { XCTAssertNoThrow(try OptimizerKind(parsing: needs ? "\(name):0.5" : name), name) }
        for name in LossKind.names { XCTAssertNoThrow(try LossKind(parsing: name), name) }
        for name in Initializer.names { XCTAssertNoThrow(try Initializer(parsing: name), name) }
        XCTAssertNoThrow(try LayerSpecification.parse(Self.layerNames.filter { $0 != "BatchNorm" }.joined(separator: ";") + ";BatchNorm"))

        let vocabularies: [(flag: String, names: [String], readme: String?)] = [
            ("--activation", Activation.names.map(\.name), nil), ("--optimizer", OptimizerKind.names.map(\.name), nil),
            ("--loss", LossKind.names, nil), ("--initializer", Initializer.names, nil),
            ("--layers", Self.layerNames.map { String($0.prefix { $0 != "(" }) }, layersSection),
        ]
        for (flag, names, readmeText) in vocabularies {
            let helpKeys = Self.keys(in: help[flag] ?? ""), readmeKeys = Self.keys(in: readmeText ?? rows[flag] ?? "")
            for name in names {
                XCTAssertTrue(helpKeys.contains(NamedSpecification.key(name)), "\(flag) accepts '\(name)' but sprig train --help does not say so")
                XCTAssertTrue(readmeKeys.contains(NamedSpecification.key(name)), "\(flag) accepts '\(name)' but README does not say so")
            }
        }
        // Nerva's spellings are documented as such, in the help and in the flag table.
        let nerva: [(flag: String, spellings: [String])] = [
            ("--activation", ["ReLU", "LeakyReLU(", "AllReLU(", "TReLU("]),
            ("--optimizer", ["GradientDescent", "Momentum(", "Nesterov(", "Adam("]),
            ("--loss", ["SoftmaxCrossEntropy", "LogisticCrossEntropy", "CrossEntropy", "NegativeLogLikelihood", "SquaredError"]),
            ("--initializer", ["Xavier", "XavierNormalized", "He", "PyTorch"]),
            ("--layers", ["TReLU(", "SReLU"]),
            ("--layer-sizes", [";"]), ("--densities", [";"]), ("--dropouts", [";"]),
        ]
        for (flag, spellings) in nerva {
            for spelling in spellings {
                XCTAssertTrue(help[flag]?.contains(spelling) == true, "sprig train --help's \(flag) lacks '\(spelling)'")
                XCTAssertTrue(rows[flag]?.contains(spelling) == true, "README's \(flag) row lacks '\(spelling)'")
            }
        }
    }

    /// Help texts are paragraphs that ArgumentParser wraps to the terminal: with a wide one, no
    /// sentence is broken across lines.
    func testHelpTextsAreNotWrappedByHand() throws {
        for command in [["challenge", "run"], ["challenge", "generate"], ["cache"], ["cache", "info"], ["cache", "clear"]] {
            let lines = try Self.help(command).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            for (line, next) in zip(lines, lines.dropFirst()) {
                let brokenSentence = line.last.map { $0.isLowercase || $0.isNumber || $0 == "," || $0 == ";" } == true
                    && next.first.map { $0.isLowercase || $0.isNumber } == true
                XCTAssertFalse(brokenSentence, "sprig \(command.joined(separator: " ")) --help breaks a sentence by hand:\n\(line)\n\(next)")
            }
        }
        // And on an 80-column terminal ArgumentParser does wrap the discussion itself.
        let narrow = try Self.help(["challenge", "run"], columns: 80)
        XCTAssertTrue(narrow.split(separator: "\n").allSatisfy { $0.count <= 80 || $0.hasPrefix("USAGE:") }, narrow)
        XCTAssertTrue(try Self.help(["challenge", "run"]).contains("Every rank must run the same flags on the same files (checked). Exits 2 on FAIL."))
    }

    // MARK: The network cache's cap and `sprig cache`

    /// Sets the environment variables for the test's duration.
    private func environment(_ values: [String: String?]) {
        let previous = values.keys.map { ($0, ProcessInfo.processInfo.environment[$0]) }
        for (name, value) in values {
            if let value { setenv(name, value, 1) } else { unsetenv(name) }
        }
        addTeardownBlock {
            for (name, value) in previous {
                if let value { setenv(name, value, 1) } else { unsetenv(name) }
            }
        }
    }

    /// A network of 64 neurons and 2 layers in a new directory (`seed` makes it another one).
    private func network(seed: UInt64) throws -> String {
        let dir = try TestFiles.makeDirectory(self)
        for k in 1...2 {
            try RadixNet.tsv(RadixNet.layer(neurons: 64, layer: k + 6, seed: seed))
                .write(toFile: "\(dir)/n64-l\(k).tsv", atomically: true, encoding: .utf8)
        }
        return dir
    }

    private func setLastUse(_ path: String, secondsAgo: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -secondsAgo)], ofItemAtPath: path)
    }

    func testTheCacheDirectoryFollowsTheEnvironment() throws {
        environment(["SPRIG_CACHE_DIR": nil, "XDG_CACHE_HOME": "/xdg/cache", "HOME": "/home/someone"])
        XCTAssertEqual(NetworkCache.directory(), "/xdg/cache/sprig")
        setenv("XDG_CACHE_HOME", "relative/cache", 1)   // ignored, as the XDG specification says
        XCTAssertEqual(NetworkCache.directory(), "/home/someone/.cache/sprig")
        unsetenv("XDG_CACHE_HOME")
        XCTAssertEqual(NetworkCache.directory(), "/home/someone/.cache/sprig")
        setenv("SPRIG_CACHE_DIR", "/scratch/sprig-cache", 1)
        XCTAssertEqual(NetworkCache.directory(), "/scratch/sprig-cache")

        environment(["SPRIG_CACHE_MAX_BYTES": nil])
        XCTAssertEqual(try NetworkCache.maximumBytes(), 1 << 30)
        for (text, bytes) in [("0", 0), ("12345", 12345), ("2G", 2 << 30), ("1KiB", 1024), ("500m", 500 << 20), (" 3MB ", 3 << 20)] {
            setenv("SPRIG_CACHE_MAX_BYTES", text, 1)
            XCTAssertEqual(try NetworkCache.maximumBytes(), bytes, text)
        }
        for bad in ["-1", "1e9", "lots", "", "G", "99999999999T"] {
            setenv("SPRIG_CACHE_MAX_BYTES", bad, 1)
            assertSprigError(try NetworkCache.maximumBytes(), kind: .invalidArgument, mentions: ["SPRIG_CACHE_MAX_BYTES '\(bad)'"])
        }
        XCTAssertTrue(NetworkCache.isCacheFileName("n1024-l120-9f3a.sprignet"))
        for name in ["notes.txt", "n1024-l120-9f3a.sprignet.tmp", ".n64-l2-ab.sprignet.sprig-12-ff.tmp", "n-l2-ab.sprignet",
                     "n64-l2-xyz.sprignet", "n64-2-ab.sprignet", "my.sprignet"] {
            XCTAssertFalse(NetworkCache.isCacheFileName(name), name)
        }
    }

    /// Past the cap, the least recently used cache files go (a read counts as a use); files
    /// that are not cache files are neither counted nor removed; a network above the cap is not written.
    func testWritingPastTheCapEvictsTheLeastRecentlyUsed() throws {
        let cache = try TestFiles.makeDirectory(self)
        environment(["SPRIG_CACHE_DIR": cache, "SPRIG_CACHE_MAX_BYTES": nil])
        let user = "\(cache)/my-notes.txt"
        try TestFiles.write([UInt8](repeating: 7, count: 1 << 20), to: user)
        let pool = ThreadPool(threads: 2)
        var notes: [String] = []
        func read(_ network: String) throws { _ = try NetworkCache.readNetwork(directory: network, neurons: 64, layers: 2, pool: pool) { notes.append($0) } }
        let (a, b, c, d) = (try network(seed: 1), try network(seed: 2), try network(seed: 3), try network(seed: 4))
        let (pathA, pathB, pathC, pathD) = (NetworkCache.path(network: a, neurons: 64, layers: 2), NetworkCache.path(network: b, neurons: 64, layers: 2),
                                            NetworkCache.path(network: c, neurons: 64, layers: 2), NetworkCache.path(network: d, neurons: 64, layers: 2))
        try read(a)
        let size = try XCTUnwrap(NetworkCache.entries().first?.bytes)
        setenv("SPRIG_CACHE_MAX_BYTES", "\(2 * size + size / 2)", 1)   // room for two
        try read(b)
        XCTAssertEqual(Set(try NetworkCache.entries().map(\.path)), [pathA, pathB])
        let sizeB = try XCTUnwrap(NetworkCache.entries().first { $0.path == pathB }?.bytes)   // the header's hash may be a digit shorter
        try setLastUse(pathA, secondsAgo: 100)
        try setLastUse(pathB, secondsAgo: 50)
        try read(a)   // from the cache: now the most recently used
        XCTAssertTrue(notes.last?.hasPrefix("network read from cache") == true, "\(notes)")
        try read(c)   // a third: b, the least recently used, goes
        XCTAssertEqual(Set(try NetworkCache.entries().map(\.path)), [pathA, pathC], "\(notes)")
        XCTAssertTrue(notes.contains { $0.hasPrefix("removed 1 least recently used cache file (\(sizeB) bytes)") }, "\(notes)")
        XCTAssertLessThanOrEqual(try NetworkCache.entries().reduce(0) { $0 + $1.bytes }, 2 * size + size / 2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: user), "a file that is not the cache's was removed")

        // The cap lowered below one network: it is read, not written, and nothing else goes.
        setenv("SPRIG_CACHE_MAX_BYTES", "\(size / 2)", 1)
        try read(d)
        XCTAssertTrue(notes.last?.contains("network not cached") == true, "\(notes)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: pathD))
        // 0 turns writing off; a bad cap is an error naming it, before anything is read.
        setenv("SPRIG_CACHE_MAX_BYTES", "many", 1)
        assertSprigError(try read(d), kind: .invalidArgument, mentions: ["SPRIG_CACHE_MAX_BYTES 'many'"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: user))
    }

    /// `sprig cache info` and `sprig cache clear` on a directory named by SPRIG_CACHE_DIR:
    /// clear removes the cache files only and reports the bytes freed.
    func testCacheInfoAndClear() throws {
        let cache = try TestFiles.makeDirectory(self)
        environment(["SPRIG_CACHE_DIR": cache, "SPRIG_CACHE_MAX_BYTES": nil])
        let pool = ThreadPool(threads: 2)
        for seed: UInt64 in [1, 2] { _ = try NetworkCache.readNetwork(directory: try network(seed: seed), neurons: 64, layers: 2, pool: pool) }
        try TestFiles.write([1, 2, 3], to: "\(cache)/my-notes.txt")
        try TestFiles.write([1, 2, 3], to: "\(cache)/n64-l2-zz.sprignet")   // not a cache file's name
        try FileManager.default.createDirectory(atPath: "\(cache)/n64-l2-ab.sprignet", withIntermediateDirectories: false)
        let total = try NetworkCache.entries().reduce(0) { $0 + $1.bytes }
        XCTAssertEqual(try NetworkCache.entries().count, 2)
        func sprig(_ arguments: [String], environment: [String] = []) throws -> TestFiles.ProcessResult {
            try CommandLineTests.requireBinary()
            return try TestFiles.run(["-u", "SPRIG_CACHE_MAX_BYTES", "SPRIG_CACHE_DIR=\(cache)"] + environment
                                     + ["timeout", "60", CommandLineTests.binary] + arguments)
        }
        let info = try sprig(["cache", "info"])
        XCTAssertEqual(info.status, 0, info.errors)
        XCTAssertTrue(info.output.contains("path   \(cache)\n"), info.output)
        XCTAssertTrue(info.output.contains("files  2\n"), info.output)
        XCTAssertTrue(info.output.contains("size   \(total) bytes"), info.output)
        XCTAssertTrue(info.output.contains("cap    1073741824 bytes (1.0 GiB) (the default"), info.output)
        let capped = try sprig(["cache", "info"], environment: ["SPRIG_CACHE_MAX_BYTES=2M"])
        XCTAssertTrue(capped.output.contains("cap    2097152 bytes (2.0 MiB) (SPRIG_CACHE_MAX_BYTES)"), capped.output)

        let clear = try sprig(["cache", "clear"])
        XCTAssertEqual(clear.status, 0, clear.errors)
        XCTAssertEqual(clear.output, "removed 2 cache files from \(cache): \(total) bytes freed\n")
        XCTAssertEqual(try NetworkCache.entries(in: cache), [])
        for kept in ["my-notes.txt", "n64-l2-zz.sprignet", "n64-l2-ab.sprignet"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(cache)/\(kept)"), "\(kept) was removed")
        }
        let again = try sprig(["cache", "clear"])
        XCTAssertEqual(again.output, "removed 0 cache files from \(cache): 0 bytes freed\n")
        XCTAssertTrue(try sprig(["cache", "info"]).output.contains("files  0\n"))
        let missing = try sprig(["cache", "info"], environment: ["SPRIG_CACHE_DIR=\(cache)/not-yet"])
        XCTAssertTrue(missing.output.contains("(not created yet)"), missing.output)

        assertOneErrorLine(try sprig(["cache", "info"], environment: ["SPRIG_CACHE_MAX_BYTES=lots"]), status: 64,
                           mentions: ["SPRIG_CACHE_MAX_BYTES 'lots'"])
        let file = "\(cache)/my-notes.txt"   // a cache "directory" that is a file
        assertOneErrorLine(try sprig(["cache", "clear"], environment: ["SPRIG_CACHE_DIR=\(file)"]), status: 1, mentions: [file])
    }
}
