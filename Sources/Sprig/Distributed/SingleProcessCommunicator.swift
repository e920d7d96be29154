import Foundation

/// The communicator of a job with one rank: every collective leaves the buffer as it is.
public final class SingleProcessCommunicator: Communicator {
    public init() {}
    public var rank: Int { 0 }
    public var size: Int { 1 }
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func allreduceMax(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func startAllreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws -> PendingCollective {
        PendingCollective(request: nil)
    }
    public func wait(_ pending: PendingCollective) throws {}
    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {}
    public func allGather(_ value: UInt64) throws -> [UInt64] { [value] }
    public func barrier() throws {}
    public func abort(code: Int32) -> Never { exit(code) }
}
