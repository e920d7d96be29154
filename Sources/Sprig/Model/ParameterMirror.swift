/// The parameter store in a backend's memory that is not host memory: one block of
/// (2 + S)·count floats holding the values, the gradients and each of the S optimizer-state
/// buffers, one section each, at the store's offsets (llm.c's one allocation with the
/// parameters pointed into it). Each section remembers which side holds its newest contents,
/// so a section crosses only when the other side uses it.
final class ParameterMirror {
    enum Newest { case both, host, device }

    let backend: any ComputeBackend
    let block: BackendBuffer
    let count: Int
    private var newest: [Newest]

    /// A zeroed block for `sections` sections of `count` floats; the host holds every section's contents.
    init(backend: any ComputeBackend, count: Int, sections: Int) throws {
        self.backend = backend
        self.count = count
        block = try backend.allocate(count: count * sections)
        newest = Array(repeating: .host, count: sections)
    }

    var sections: Int { newest.count }

    /// Section `s`'s address in the backend's memory.
    func address(ofSection s: Int) -> UnsafeMutablePointer<Float> { block.pointer + s * count }

    /// Makes section `s` current on the host (downloading it when the device has newer
    /// contents); the host may then write it, so the device takes it again before its next use.
    func useOnHost(_ s: Int, host: UnsafeMutablePointer<Float>) throws {
        if newest[s] == .device { try backend.download(address(ofSection: s), to: host, count: count) }
        newest[s] = .host
    }

    /// Makes section `s` current in the backend's memory (uploading it when the host has newer
    /// contents); the backend may then write it.
    func useOnDevice(_ s: Int, host: UnsafePointer<Float>) throws -> UnsafeMutablePointer<Float> {
        if newest[s] == .host { try backend.upload(host, to: address(ofSection: s), count: count) }
        newest[s] = .device
        return address(ofSection: s)
    }

    /// Declares the host's copy of section `s` the newest (it was written there section by section).
    func hostHoldsNewest(_ s: Int) { newest[s] = .host }
}
