/// Where a rank computes: the CPU, a GPU (an error where there is none), or a GPU when one can
/// be used and the CPU otherwise.
public enum DeviceKind: String, CaseIterable, Sendable {
    case cpu, gpu, auto
}
