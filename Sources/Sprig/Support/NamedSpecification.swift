/// A flag value of the form `name` or `name:parameter:…` (`nesterov:0.9`, `leaky_relu:0.1`,
/// `multistep:50,75:0.1`), as the activation, optimizer and learning-rate schedule flags take
/// it, or Nerva's `Name(parameter)` (`Nesterov(0.9)`, `LeakyReLU(0.1)`,
/// `Adam(0.9,0.999,1e-8)`), which reads as `name:parameter`. The name is read in lower case
/// with `-` as `_`; `key` also drops the `_`, so CamelCase and kebab-case spellings
/// (`LeakyReLU`, `leaky-relu`, `leaky_relu`) are one name. Numbers must be finite. Every error
/// is a `SprigError.invalidArgument` that names the flag and the value as given.
public struct NamedSpecification: Sendable {
    /// The value as the user gave it.
    public let text: String
    /// The flag it came from, e.g. `--optimizer`.
    public let flag: String
    /// The part before the first `:`, lower case, `-` read as `_`.
    public let name: String
    /// The parts after the name (empty ones kept, so `relu:` has one empty parameter); for
    /// `Name(inside)`, the one parameter `inside` (none for `Name()`).
    public let parameters: [String]

    public init(_ text: String, flag: String) {
        self.text = text
        self.flag = flag
        let lowered = text.trimmingCharacters(in: .whitespaces).lowercased()
        if let (head, inside) = NamedSpecification.parenthesised(lowered) {
            name = head.replacingOccurrences(of: "-", with: "_")
            parameters = inside.isEmpty ? [] : [inside]
        } else {
            let parts = lowered.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            name = parts[0].replacingOccurrences(of: "-", with: "_")
            parameters = Array(parts.dropFirst())
        }
    }

    /// The name without `_` (and so without `-`): `leakyrelu` for `LeakyReLU`, `leaky-relu` and
    /// `leaky_relu`, `gradientdescent` for `GradientDescent` and `gradient_descent`.
    public var key: String { NamedSpecification.key(name) }

    /// `text` in lower case without `_` and `-`: the form names are compared in.
    public static func key(_ text: String) -> String {
        text.lowercased().replacingOccurrences(of: "_", with: "").replacingOccurrences(of: "-", with: "")
    }

    /// `name(inside)` → (name, inside) when the text is exactly a name (letters, digits, `_`,
    /// `-`, starting with a letter) followed by one parenthesised part at the end; else nil
    /// (then the text is read in the colon form, and a stray parenthesis makes an unknown name).
    static func parenthesised(_ text: String) -> (String, String)? {
        guard text.hasSuffix(")"), let open = text.firstIndex(of: "(") else { return nil }
        let head = text[..<open]
        guard let first = head.first, first.isLetter,
              head.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        let inside = text[text.index(after: open)..<text.index(before: text.endIndex)]
        guard !inside.contains("("), !inside.contains(")") else { return nil }
        return (String(head), inside.trimmingCharacters(in: .whitespaces))
    }

    /// The error "`flag` 'text': `problem`".
    public func error(_ problem: String) -> SprigError {
        .invalidArgument("\(flag) '\(text)': \(problem)")
    }

    /// Refuses the value unless it has between `counts.lowerBound` and `counts.upperBound`
    /// parameters; `usage` says what was expected (e.g. "step:SIZE:GAMMA, e.g. step:30:0.1").
    public func expectParameters(_ counts: ClosedRange<Int>, usage: String) throws {
        guard counts.contains(parameters.count) else { throw error("expected \(usage)") }
    }

    /// Parameter `index` as a finite Double in `range`.
    public func number(_ index: Int, in range: ClosedRange<Double> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude,
                       usage: String) throws -> Double {
        try finite(Double(parameters[index]), index, usage: usage, range: range)
    }

    /// Parameter `index` as a Float that is finite once rounded to Float (so `1e39` is refused
    /// too) and lies in `range`.
    public func float(_ index: Int, in range: ClosedRange<Double> = -.greatestFiniteMagnitude ... .greatestFiniteMagnitude,
                      usage: String) throws -> Float {
        let value = try finite(Float(parameters[index]).map(Double.init), index, usage: usage, range: range)
        return Float(value)
    }

    /// Parameter `index` as an integer in `range`.
    public func integer(_ index: Int, in range: ClosedRange<Int> = Int.min...Int.max, usage: String) throws -> Int {
        guard let value = Int(parameters[index]), range.contains(value) else { throw error("expected \(usage)") }
        return value
    }

    /// Parameter `index` as a comma-separated list of integers in `range`.
    public func integers(_ index: Int, in range: ClosedRange<Int> = Int.min...Int.max, usage: String) throws -> [Int] {
        let values = parameters[index].split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        guard !values.isEmpty, values.allSatisfy({ $0.map(range.contains) == true }) else { throw error("expected \(usage)") }
        return values.map { $0! }
    }

    private func finite(_ value: Double?, _ index: Int, usage: String, range: ClosedRange<Double>) throws -> Double {
        guard let value else { throw error("expected \(usage)") }
        guard value.isFinite else { throw error("'\(parameters[index])' is not a finite number (expected \(usage))") }
        guard range.contains(value) else { throw error("expected \(usage)") }
        return value
    }
}
