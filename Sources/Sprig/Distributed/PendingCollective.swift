/// A started non-blocking collective (an MPI request, or nothing for one rank).
public struct PendingCollective: @unchecked Sendable {
    let request: OpaquePointer?
}
