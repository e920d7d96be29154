import Foundation

/// One entry of a network's ordered layer list (`NetworkConfiguration.layers`): the
/// configuration that checkpoints and the ranks' agreement check carry. Linear layers take
/// their sizes and densities in order from `layerSizes` and `densities`.
public enum LayerSpecification: Equatable, Sendable, Codable, CustomStringConvertible {
    /// The next linear layer, with its element-wise activation fused in.
    case linear(Activation)
    case batchNorm
    /// Inverted dropout with this rate, on the next layer's input.
    case dropout(Double)
    case softmax
    case logSoftmax
    /// A trainable S-shaped ReLU with these initial values for every neuron.
    case srelu(al: Float, tl: Float, ar: Float, tr: Float)

    /// Whether the layer keeps a scratch of its output's size for backward (Z, x̂ or the dropout
    /// mask): what the built layer's `scratchPerExample` is, known before it is built, for the
    /// memory checks. A ReLU linear layer keeps none (its backward reads Y), nor do the softmax
    /// layers and SReLU.
    public var keepsScratch: Bool {
        switch self {
        case .linear(let activation): return activation != .relu
        case .batchNorm, .dropout: return true
        case .softmax, .logSoftmax, .srelu: return false
        }
    }

    public var description: String {
        switch self {
        case .linear(let activation): return "linear(\(activation))"
        case .batchNorm: return "batch-norm"
        case .dropout(let rate): return "dropout(\(rate))"
        case .softmax: return "softmax"
        case .logSoftmax: return "log-softmax"
        case .srelu(let al, let tl, let ar, let tr): return "srelu(\(al),\(tl),\(ar),\(tr))"
        }
    }

    /// Nerva's `--layers` list, e.g. `ReLU;BatchNorm;AllReLU(0.3);Linear`: one entry per
    /// linear layer naming its activation (`Linear` = identity, `ReLU`, `LeakyReLU(a)`,
    /// `AllReLU(a)`, `TReLU(e)`, `SReLU`, `Sigmoid`, `Tanh`, `Softmax`, `LogSoftmax` — the last two a linear layer
    /// followed by that layer), plus `BatchNorm` entries, each a layer after the one before it.
    /// Errors name `flag`.
    public static func parse(_ text: String, flag: String = "--layers") throws -> [LayerSpecification] {
        var list: [LayerSpecification] = []
        var linear = 0
        func addLinear(_ activation: Activation) throws {
            list.append(.linear(activation))
            linear += 1
        }
        for raw in text.split(separator: ";", omittingEmptySubsequences: false) {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            let (name, argument) = try nameAndArgument(entry, flag: flag)
            switch name {
            case "linear": try addLinear(.identity)
            case "relu": try addLinear(.relu)
            case "leakyrelu": try addLinear(.leakyReLU(try argument("leakyrelu", "LeakyReLU(0.1)")))
            case "allrelu": try addLinear(.allReLU(try argument("allrelu", "AllReLU(0.3)")))
            case "trelu": try addLinear(.truncatedReLU(try argument("trelu", "TReLU(1e-30)")))
            case "sigmoid": try addLinear(.sigmoid)
            case "tanh": try addLinear(.tanh)
            case "softmax": try addLinear(.identity); list.append(.softmax)
            case "logsoftmax": try addLinear(.identity); list.append(.logSoftmax)
            case "srelu":
                let values = try sreluParameters(entry, flag: flag)
                try addLinear(.identity)
                list.append(.srelu(al: values[0], tl: values[1], ar: values[2], tr: values[3]))
            case "batchnorm":
                guard linear > 0 else {
                    throw SprigError.invalidArgument("\(flag) '\(text)': BatchNorm comes first; it must follow a linear layer")
                }
                list.append(.batchNorm)
            default:
                throw SprigError.invalidArgument("\(flag) '\(text)': unknown layer '\(entry)' (expected Linear, ReLU, LeakyReLU(a), "
                                                 + "AllReLU(a), TReLU(e), Sigmoid, Tanh, SReLU or SReLU(al,tl,ar,tr), Softmax, LogSoftmax or BatchNorm)")
            }
        }
        return list
    }

    /// `list` with a dropout of rate `rates[k]` before linear layer k wherever the rate is above 0.
    public static func inserting(dropouts rates: [Double], into list: [LayerSpecification]) -> [LayerSpecification] {
        var result: [LayerSpecification] = []
        var linear = 0
        for entry in list {
            if case .linear = entry {
                if linear < rates.count, rates[linear] > 0 { result.append(.dropout(rates[linear])) }
                linear += 1
            }
            result.append(entry)
        }
        return result
    }

    /// `SReLU` (Nerva's initial values a_l = 0, t_l = 0, a_r = 0, t_r = 1) or `SReLU(al,tl,ar,tr)`.
    private static func sreluParameters(_ entry: String, flag: String) throws -> [Float] {
        guard let open = entry.firstIndex(of: "(") else { return [0, 0, 0, 1] }
        let inside = entry[entry.index(after: open)..<entry.index(before: entry.endIndex)]
        // Every comma-separated part must be a number: an empty or unreadable one is an error, not skipped.
        let parts = inside.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap { Float($0) }
        guard parts.count == 4, values.count == 4, values.allSatisfy(\.isFinite) else {
            throw SprigError.invalidArgument("\(flag): '\(entry)' needs four finite numbers, SReLU(al,tl,ar,tr), e.g. SReLU(0,0,0,1)")
        }
        return values
    }

    /// "AllReLU(0.3)" → ("allrelu", a parser of the number in parentheses); names without one
    /// must not have parentheses.
    private static func nameAndArgument(_ entry: String, flag: String) throws -> (String, (String, String) throws -> Float) {
        var name = entry, inside: String?
        if let open = entry.firstIndex(of: "(") {
            guard entry.hasSuffix(")") else { throw SprigError.invalidArgument("\(flag): '\(entry)' lacks its closing parenthesis") }
            name = String(entry[..<open])
            inside = String(entry[entry.index(after: open)..<entry.index(before: entry.endIndex)])
        }
        let key = name.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
        let parse: (String, String) throws -> Float = { _, example in
            guard let inside, let value = Float(inside.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                throw SprigError.invalidArgument("\(flag): '\(entry)' needs a finite number in parentheses, e.g. \(example)")
            }
            return value
        }
        if inside != nil && !["leakyrelu", "allrelu", "trelu", "srelu"].contains(key) {
            throw SprigError.invalidArgument("\(flag): '\(entry)' takes no parameter")
        }
        return (key, parse)
    }
}
