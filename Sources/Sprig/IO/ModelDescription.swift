import Foundation

/// What a weights file says about its model beyond the arrays, so that the file alone is
/// enough to use it: the network (sizes, densities, the layer list with every activation,
/// initialisation, seed, the compaction record of a shrunk network), the normalisation the
/// model was trained with (none, or the training data's mean and deviation), how its inputs
/// were encoded, and the training configuration as a record. Kept in the `.npz` as the entry
/// `sprig_model.json`: UTF-8 JSON as a uint8 array, so NumPy reads it as
/// `json.loads(bytes(np.load(path)["sprig_model.json"]))`.
public struct ModelDescription: Codable, Equatable, Sendable {
    public static let arrayName = "sprig_model.json"
    public static let currentVersion = 1

    public var format = "sprig-model"
    public var version = ModelDescription.currentVersion
    public var network: NetworkConfiguration
    /// The normalisation applied to the inputs before the first layer (nil: none).
    public var normalization: Normalization?
    /// How the inputs were given when the model was trained (nil: not known).
    public var input: InputEncoding?
    /// The configuration of the run that trained it (a record; nil when not known).
    public var training: TrainingConfiguration?
    /// Each linear layer's kernel when it was saved (nil for a dense layer; the whole list nil
    /// in files written before Sprig kept it, whose sparse layers then run CSR).
    public var kernels: [SparseLayerKernel?]?

    public init(network: NetworkConfiguration, normalization: Normalization?, input: InputEncoding?, training: TrainingConfiguration?,
                kernels: [SparseLayerKernel?]? = nil) {
        self.network = network
        self.normalization = normalization
        self.input = input
        self.training = training
        self.kernels = kernels
    }

    func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(self))
    }

    static func decode(_ bytes: [UInt8], path: String) throws -> ModelDescription {
        let description: ModelDescription
        do { description = try JSONDecoder().decode(ModelDescription.self, from: Data(bytes)) }
        catch { throw SprigError.format(path: path, reason: "\(arrayName) is not a model description: \(error)") }
        guard description.format == "sprig-model", (1...currentVersion).contains(description.version) else {
            throw SprigError.format(path: path, reason: "\(arrayName) is format \(description.format) version \(description.version); "
                                    + "this sprig reads sprig-model 1…\(currentVersion)")
        }
        do {
            try description.network.validate()
            try description.training?.validate()
        } catch let error as SprigError {
            throw SprigError.format(path: path, reason: "\(arrayName): \(error)")
        }
        if let kernels = description.kernels {
            let sparse = description.network.densities.map { $0 < 1 }
            guard kernels.count == sparse.count else {
                throw SprigError.format(path: path, reason: "\(arrayName): kernels has \(kernels.count) entries but the network has \(sparse.count) linear layers")
            }
            if let l = kernels.indices.first(where: { (kernels[$0] != nil) != sparse[$0] }) {
                throw SprigError.format(path: path, reason: "\(arrayName): kernels[\(l)] is \(kernels[l].map { "\"\($0)\"" } ?? "null") but layer \(l + 1) is "
                                        + (sparse[l] ? "sparse (csr or dense)" : "dense (null)"))
            }
        }
        if let n = description.normalization, !(n.mean.isFinite && n.standardDeviation.isFinite && n.standardDeviation >= 0) {
            throw SprigError.format(path: path, reason: "\(arrayName): normalization mean \(n.mean), deviation \(n.standardDeviation) is not finite")
        }
        return description
    }
}

/// How a model's inputs are given: pixels (uint8, read as x/255, as the image files and
/// NumPy uint8 arrays are), floats (float32 as they are), or bytes through another value
/// table (the synthetic data's).
public enum InputEncoding: String, Codable, Sendable {
    case pixels = "uint8/255"
    case floats = "float32"
    case table = "uint8-table"

    /// The encoding of `data` as loaded (before any normalisation).
    public init(_ data: Dataset) {
        switch data.storage {
        case .floats: self = .floats
        case .bytes(_, let values): self = values == PixelScaling.unitInterval ? .pixels : .table
        }
    }

    /// In words, for messages.
    public var words: String {
        switch self {
        case .pixels: return "uint8 pixels (read as x/255)"
        case .floats: return "float32 features"
        case .table: return "bytes through the synthetic data's value table"
        }
    }
}
