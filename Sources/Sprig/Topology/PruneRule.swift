/// Which weights of a sparse layer a regrow step removes (`--prune`), from the layer's values
/// `w` (one per slot, nnz of them) and the fraction F in effect this time:
/// - `magnitude(F)`: drops the k = round(F·nnz) weights with the smallest |w| (k ≤ nnz).
/// - `set(F)`: SET, as Nerva's `prune_SET` counts it: with P positive weights (w > 0) and N
///   negative ones (w < 0), drops the round(F·P) positive weights closest to zero (smallest w)
///   and the round(F·N) negative weights closest to zero (largest w); zeros are neither and
///   are kept. So about F·nnz weights go in all, the fraction F of each sign (Nerva's counts
///   relative to each sign's own count, not to nnz). Nerva also caps the total at half the
///   layer's empty positions (`limit_prune_counts`); that cap needs the layer's shape and is
///   the caller's to apply through the fraction.
/// - `threshold(V)`: drops exactly the weights with |w| < V (keeps |w| ≥ V); F is not used.
///
/// round is to nearest, halves away from zero (C's `lround`). Ties are broken by slot: the
/// weights are ordered by (|w|, slot) ascending and the first ones are dropped, so among equal
/// magnitudes the lower slots go first (as Nerva's `nth_element` + threshold count does). A
/// NaN weight ranks above every number (it is dropped only when all others are). Cost:
/// O(nnz log nnz) (one sort of 64-bit keys).
public enum PruneRule: Equatable, Sendable, Codable, CustomStringConvertible {
    case magnitude(Double)
    case set(Double)
    case threshold(Float)

    /// Parses `magnitude:F`, `set:F` (F in the open interval (0, 1)) or `threshold:V` (V finite,
    /// ≥ 0), given with `flag` (named in errors).
    public init(parsing text: String, flag: String = "--prune") throws {
        let specification = NamedSpecification(text, flag: flag)
        func fraction(_ usage: String) throws -> Double {
            try specification.expectParameters(1...1, usage: usage)
            let f = try specification.number(0, in: 0...1, usage: usage)
            guard f > 0, f < 1 else { throw specification.error("the fraction must lie strictly between 0 and 1 (expected \(usage))") }
            return f
        }
        switch specification.name {
        case "magnitude":
            self = .magnitude(try fraction("magnitude:F with 0 < F < 1, e.g. magnitude:0.3"))
        case "set":
            self = .set(try fraction("set:F with 0 < F < 1, e.g. set:0.3"))
        case "threshold":
            let usage = "threshold:V with V ≥ 0, e.g. threshold:0.001"
            try specification.expectParameters(1...1, usage: usage)
            self = .threshold(try specification.float(0, in: 0 ... Double.greatestFiniteMagnitude, usage: usage))
        default:
            throw specification.error("unknown prune rule (expected magnitude:F, set:F or threshold:V)")
        }
    }

    public var description: String {
        switch self {
        case .magnitude(let f): return "magnitude:\(f)"
        case .set(let f): return "set:\(f)"
        case .threshold(let v): return "threshold:\(v)"
        }
    }

    /// The rule's fraction F, nil for `threshold`.
    public var fraction: Double? {
        switch self {
        case .magnitude(let f), .set(let f): return f
        case .threshold: return nil
        }
    }

    /// For each slot, whether its weight stays (true) or is dropped; `fraction` is the F in
    /// effect this time (a schedule may shrink the rule's own), ignored by `threshold`.
    public func survivors(of values: UnsafeBufferPointer<Float>, fraction: Double) -> [Bool] {
        precondition(fraction >= 0 && fraction <= 1, "prune fraction \(fraction) outside [0, 1]")
        var keep = [Bool](repeating: true, count: values.count)
        switch self {
        case .threshold(let v):
            for (slot, w) in values.enumerated() where abs(w) < v { keep[slot] = false }
        case .magnitude:
            let keys = values.indices.map { PruneRule.key(values[$0], slot: $0) }
            PruneRule.drop(PruneRule.roundedCount(fraction, of: keys.count), smallestOf: keys, from: &keep)
        case .set:
            var positive: [UInt64] = [], negative: [UInt64] = []
            for (slot, w) in values.enumerated() {
                if w > 0 { positive.append(PruneRule.key(w, slot: slot)) } else if w < 0 { negative.append(PruneRule.key(w, slot: slot)) }
            }
            PruneRule.drop(PruneRule.roundedCount(fraction, of: positive.count), smallestOf: positive, from: &keep)
            PruneRule.drop(PruneRule.roundedCount(fraction, of: negative.count), smallestOf: negative, from: &keep)
        }
        return keep
    }

    /// round(F·n), halves away from zero, clamped to 0…n.
    static func roundedCount(_ fraction: Double, of n: Int) -> Int {
        min(n, max(0, Int((fraction * Double(n)).rounded())))
    }

    /// The key ordering weights by (|w|, slot): the bits of |w| (which order non-negative floats,
    /// NaN above +∞) above the slot's 32 bits.
    @inline(__always) static func key(_ w: Float, slot: Int) -> UInt64 {
        precondition(slot <= Int(UInt32.max))
        return UInt64(abs(w).bitPattern) << 32 | UInt64(slot)
    }

    /// Marks the slots of the `count` smallest keys as dropped.
    static func drop(_ count: Int, smallestOf keys: [UInt64], from keep: inout [Bool]) {
        guard count > 0 else { return }
        var sorted = keys
        sorted.sort()
        for key in sorted.prefix(count) { keep[Int(key & 0xFFFF_FFFF)] = false }
    }
}
