import Dispatch

/// Monotonic elapsed time in seconds.
public struct Stopwatch {
    private let start = DispatchTime.now().uptimeNanoseconds
    public init() {}
    public var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 }
}
