import CBLAS
import Foundation
import Sprig

/// The machine's own limits on the kernel bench's threads, measured in the same run: sgemm's
/// rate (OpenBLAS, 2048³, best of 5) and the read bandwidth of each level of the memory
/// hierarchy (every thread summing its own array, sized to fit half of that level: L2 per
/// core, L3 shared, DRAM 256 MiB per thread; best of the repetitions).
struct MachineRates {
    struct Level { let name: String; let capacity: Int; let bytesPerSecond: Double }

    let sgemmGFLOPS: Double
    let levels: [Level]

    /// The smallest level that holds `bytes` (half its capacity, leaving room for the rest).
    func level(holding bytes: Int) -> Level {
        levels.first { bytes <= $0.capacity / 2 } ?? levels[levels.count - 1]
    }

    var json: String {
        let bandwidths = levels.map { "\"\($0.name)_gbytes_per_second\": \(($0.bytesPerSecond / 1e7).rounded() / 100)" }
        return "{\"machine\": {\"sgemm_gflops\": \((sgemmGFLOPS * 100).rounded() / 100), " + bandwidths.joined(separator: ", ")
            + ", \"l2_bytes\": \(levels[0].capacity), \"l3_bytes\": \(levels[1].capacity)}}"
    }

    /// `sgemm`: `sgemmRate(threads:)`, measured before `pool` was made: OpenBLAS starts its
    /// threads on its first call with several, and a thread inherits the CPU its creator is
    /// bound to (a pool binds the caller to its first CPU).
    static func measure(pool: ThreadPool, sgemm: Double) -> MachineRates {
        let l2 = cacheSize(index: 2, fallback: 1 << 20), l3 = cacheSize(index: 3, fallback: 32 << 20)
        let sizes = [("l2", l2, l2 / 2), ("l3", l3, l3 / 2 / pool.threads), ("dram", Int.max, 256 << 20)]
        let levels = sizes.map { name, capacity, perThread in
            Level(name: name, capacity: capacity, bytesPerSecond: readBandwidth(pool: pool, bytesPerThread: perThread))
        }
        return MachineRates(sgemmGFLOPS: sgemm, levels: levels)
    }

    /// C = A·B for 2048×2048 matrices, 2·n³ flops, OpenBLAS on `threads` threads.
    static func sgemmRate(threads: Int) -> Double {
        let n = 2048
        let a = FloatBuffer(count: n * n), b = FloatBuffer(count: n * n), c = FloatBuffer(count: n * n)
        for i in 0..<(n * n) { a.pointer[i] = Float(i % 7) * 0.1; b.pointer[i] = Float(i % 5) * 0.1 }
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        var best = Double.infinity
        for _ in 0..<6 {
            let clock = Stopwatch()
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        a.pointer, Int32(n), b.pointer, Int32(n), 0, c.pointer, Int32(n))
            best = min(best, clock.seconds)
        }
        return 2 * Double(n * n * n) / best / 1e9
    }

    /// Bytes per second read by all threads at once, each summing its own `bytesPerThread`.
    private static func readBandwidth(pool: ThreadPool, bytesPerThread: Int) -> Double {
        let floats = bytesPerThread / 4
        let arrays = (0..<pool.threads).map { _ in FloatBuffer(count: max(floats, 1 << 19)) }   // whole huge pages
        let passes = max(1, (1 << 30) / bytesPerThread)   // about 1 GiB per thread per repetition
        var best = Double.infinity
        for _ in 0..<5 {
            let clock = Stopwatch()
            pool.run(parts: pool.threads) { k in
                var total = SIMD16<Float>()
                let p = arrays[k].pointer
                for _ in 0..<passes {
                    var a = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(),
                             SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                    var j = 0
                    while j + 128 <= floats {   // eight independent sums of one 64-byte line each
                        let raw = UnsafeRawPointer(p + j)
                        a.0 += raw.load(as: SIMD16<Float>.self)
                        a.1 += raw.load(fromByteOffset: 64, as: SIMD16<Float>.self)
                        a.2 += raw.load(fromByteOffset: 128, as: SIMD16<Float>.self)
                        a.3 += raw.load(fromByteOffset: 192, as: SIMD16<Float>.self)
                        a.4 += raw.load(fromByteOffset: 256, as: SIMD16<Float>.self)
                        a.5 += raw.load(fromByteOffset: 320, as: SIMD16<Float>.self)
                        a.6 += raw.load(fromByteOffset: 384, as: SIMD16<Float>.self)
                        a.7 += raw.load(fromByteOffset: 448, as: SIMD16<Float>.self)
                        j += 128
                    }
                    total += ((a.0 + a.1) + (a.2 + a.3)) + ((a.4 + a.5) + (a.6 + a.7))
                }
                arrays[k].pointer[0] = total.sum()
            }
            best = min(best, clock.seconds)
        }
        return Double(passes * floats * 4 * pool.threads) / best
    }

    private static func cacheSize(index: Int, fallback: Int) -> Int {
        let path = "/sys/devices/system/cpu/cpu0/cache/index\(index)/size"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return fallback }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let multiplier = trimmed.hasSuffix("K") ? 1024 : trimmed.hasSuffix("M") ? 1 << 20 : 1
        return Int(trimmed.trimmingCharacters(in: .letters)).map { $0 * multiplier } ?? fallback
    }
}
