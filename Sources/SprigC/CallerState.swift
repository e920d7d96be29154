import CBLAS
import CPUControl

/// The process-wide and caller-thread state a training run changes for its kernels (subnormals
/// flushed to zero on the calling thread, OpenBLAS single-threaded), saved before a C call and
/// restored after it, so that the Python interpreter and NumPy see no change. Sprig's own
/// worker threads keep their modes.
struct CallerState {
    let floatingPointControl = sprig_floating_point_control()
    let blasThreads = openblas_get_num_threads()

    func restore() {
        sprig_set_floating_point_control(floatingPointControl)
        openblas_set_num_threads(blasThreads)
    }
}
