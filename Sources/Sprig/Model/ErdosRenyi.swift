/// Per-layer densities from one overall density with the Erdős–Rényi allocation (as Nerva):
/// layer l with n_in inputs and n_out outputs gets density ε·s_l, s_l = (n_in + n_out)/(n_in·n_out),
/// with ε chosen so the total nonzeros equal `overall`·Σ n_in·n_out. A layer whose ε·s_l would
/// exceed 1 becomes dense and ε is solved again over the rest, until none exceeds 1.
public enum ErdosRenyi {
    public static func densities(layerSizes: [Int], overall: Double) throws -> [Double] {
        guard layerSizes.count >= 2 else { throw SprigError.invalidArgument("need at least two layer sizes") }
        guard overall > 0, overall <= 1 else {
            throw SprigError.invalidArgument("overall density \(overall) is not in (0, 1]")
        }
        let shapes = zip(layerSizes.dropLast(), layerSizes.dropFirst()).map { (Double($0), Double($1)) }
        let total = shapes.reduce(0) { $0 + $1.0 * $1.1 }
        var dense = [Bool](repeating: false, count: shapes.count)
        while true {
            var budget = overall * total
            var scored = 0.0
            for (l, (n, m)) in shapes.enumerated() {
                if dense[l] { budget -= n * m } else { scored += (n + m) }   // s_l · n·m = n + m
            }
            guard scored > 0 else { return dense.map { _ in 1 } }
            let epsilon = budget / scored
            var changed = false
            for (l, (n, m)) in shapes.enumerated() where !dense[l] && epsilon * (n + m) / (n * m) > 1 {
                dense[l] = true
                changed = true
            }
            if !changed {
                return shapes.enumerated().map { l, s in dense[l] ? 1 : epsilon * (s.0 + s.1) / (s.0 * s.1) }
            }
        }
    }
}
