import Foundation

/// Whether the MPI library takes GPU memory in its collectives, asked of the library itself
/// (Open MPI's `MPIX_Query_cuda_support()`, looked up at run time), never assumed: false when
/// the library does not export the query.
public enum CUDAAwareMPI {
    public static var isSupported: Bool {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "MPIX_Query_cuda_support") else { return false }
        let query = unsafeBitCast(symbol, to: (@convention(c) () -> Int32).self)
        return query() == 1
    }
}
