import Foundation

/// An n-dimensional array in NumPy's `.npy` format (the members of an `.npz` archive).
///
/// File layout: the magic `\x93NUMPY`, major and minor version bytes, the header length
/// (little-endian UInt16 for version 1.0, UInt32 for 2.0 and 3.0), then an ASCII header that
/// is a Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`
/// padded with spaces and ending in `\n` so the data starts at a multiple of 64 bytes, then the
/// elements. Supported dtypes: `<f4`, `<f8`, `<i4`, `<i8` and `|u1`. Elements are kept in C
/// (row-major) order; Fortran-order files are transposed on reading.
public struct NPYArray: Sendable, Equatable {
    /// The typed elements, in C order.
    public enum Elements: Sendable, Equatable {
        case float32([Float])
        case float64([Double])
        case int32([Int32])
        case int64([Int64])
        case uint8([UInt8])

        /// The number of elements.
        public var count: Int {
            switch self {
            case .float32(let values): return values.count
            case .float64(let values): return values.count
            case .int32(let values): return values.count
            case .int64(let values): return values.count
            case .uint8(let values): return values.count
            }
        }

        /// NumPy's type string for the elements (`descr`), e.g. `<f4`.
        public var descriptor: String {
            switch self {
            case .float32: return "<f4"
            case .float64: return "<f8"
            case .int32: return "<i4"
            case .int64: return "<i8"
            case .uint8: return "|u1"
            }
        }

        /// Bytes per element.
        public var elementSize: Int {
            switch self {
            case .float32, .int32: return 4
            case .float64, .int64: return 8
            case .uint8: return 1
            }
        }
    }

    /// The size of each dimension, outermost first; `[]` for a scalar.
    public let shape: [Int]
    public let elements: Elements
    /// Where the array was read from (e.g. `run.npz: W1.data`), for error messages; nil for
    /// arrays built in memory. Not part of equality.
    public var source: String?

    /// An array of the given shape; throws `SprigError.invalidArgument` unless the product of
    /// `shape` (each ≥ 0) equals the number of elements.
    public init(shape: [Int], elements: Elements) throws {
        guard shape.allSatisfy({ $0 >= 0 }), let product = NPYArray.product(shape), product == elements.count else {
            throw SprigError.invalidArgument("array shape \(shape) does not hold \(elements.count) elements")
        }
        self.shape = shape
        self.elements = elements
    }

    /// A one-dimensional array of `elements`.
    public init(_ elements: Elements) {
        self.shape = [elements.count]
        self.elements = elements
    }

    public static func == (a: NPYArray, b: NPYArray) -> Bool { a.shape == b.shape && a.elements == b.elements }

    /// The number of elements (the product of `shape`).
    public var count: Int { elements.count }

    /// The elements as `Float`. Float64 arrays are accepted only when every value is exactly
    /// a float32 (as `astype('<f8')` of float32 data is); a value that would be rounded is
    /// refused, naming its index. Throws `SprigError.format` for integer dtypes.
    public func floats() throws -> [Float] {
        switch elements {
        case .float32(let values): return values
        case .float64(let values):
            if let index = values.firstIndex(where: { !$0.isNaN && Double(Float($0)) != $0 }) {
                throw SprigError.format(path: source ?? "array", reason: "float64 value \(values[index]) at index \(index) "
                                        + "is not exactly a float32 and would be rounded (Sprig keeps float32; save the "
                                        + "array as float32, e.g. array.astype('<f4'))")
            }
            return values.map { Float($0) }
        case .int32, .int64, .uint8:
            throw SprigError.format(path: source ?? "array", reason: "expected floating-point values (<f4 or <f8) "
                                    + "but the array has dtype \(elements.descriptor)")
        }
    }

    /// The elements of a uint8 array; throws `SprigError.format` for any other dtype.
    public func bytes() throws -> [UInt8] {
        guard case .uint8(let values) = elements else {
            throw SprigError.format(path: source ?? "array", reason: "expected bytes (|u1) but the array has dtype \(elements.descriptor)")
        }
        return values
    }

    /// The elements as `Int`; throws `SprigError.format` for floating-point dtypes.
    public func integers() throws -> [Int] {
        switch elements {
        case .int32(let values): return values.map { Int($0) }
        case .int64(let values): return values.map { Int($0) }
        case .uint8(let values): return values.map { Int($0) }
        case .float32, .float64:
            throw SprigError.format(path: source ?? "array", reason: "expected integer values (<i4, <i8 or |u1) "
                                    + "but the array has dtype \(elements.descriptor)")
        }
    }

    // MARK: Encoding

    /// The `.npy` file bytes: version 1.0 (2.0 if the header would not fit in 65535 bytes),
    /// C order, data aligned to 64 bytes.
    public func encoded() -> [UInt8] {
        let shapeText: String
        switch shape.count {
        case 0: shapeText = "()"
        case 1: shapeText = "(\(shape[0]),)"
        default: shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
        let dictionary = "{'descr': '\(elements.descriptor)', 'fortran_order': False, 'shape': \(shapeText), }"
        var header = Array(dictionary.utf8)
        let isVersion1 = 10 + header.count + 1 <= 0xFFFF
        let prefixSize = isVersion1 ? 10 : 12
        let padding = (64 - (prefixSize + header.count + 1) % 64) % 64
        header += [UInt8](repeating: 0x20, count: padding) + [0x0A]

        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [isVersion1 ? 1 : 2, 0]
        bytes.reserveCapacity(prefixSize + header.count + count * elements.elementSize)
        let headerLength = header.count
        let lengthBytes = isVersion1 ? 2 : 4
        for k in 0 ..< lengthBytes { bytes.append(UInt8(truncatingIfNeeded: headerLength >> (8 * k))) }
        bytes += header
        switch elements {
        case .float32(let values): NPYArray.appendLittleEndian(values, to: &bytes) { $0.bitPattern.byteSwapped }
        case .float64(let values): NPYArray.appendLittleEndian(values, to: &bytes) { $0.bitPattern.byteSwapped }
        case .int32(let values): NPYArray.appendLittleEndian(values, to: &bytes) { $0.byteSwapped }
        case .int64(let values): NPYArray.appendLittleEndian(values, to: &bytes) { $0.byteSwapped }
        case .uint8(let values): bytes += values
        }
        return bytes
    }

    /// Appends the memory of `values` (little-endian hosts) or of `swapped` applied to each
    /// (big-endian hosts) to `bytes`.
    private static func appendLittleEndian<T, Swapped>(_ values: [T], to bytes: inout [UInt8],
                                                       swapped: (T) -> Swapped) {
        #if _endian(little)
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
        #else
        values.map(swapped).withUnsafeBytes { bytes.append(contentsOf: $0) }
        #endif
    }

    // MARK: Decoding

    /// Where the parts of a `.npy` file lie, from its header.
    private struct Layout {
        var header: NPYHeader
        /// The dtype with native order spelled out (`<f4`, …, `|u1`).
        var descriptor: String
        var dataStart: Int
        /// dataStart + elements × elementSize: the size the whole file must have.
        var byteCount: Int
    }

    /// The size in bytes of the whole `.npy` file whose first bytes are `prefix`, as its header
    /// says (header plus shape × element size), or nil while `prefix` does not yet hold the
    /// whole header. Lets a reader check a declared size before reading the data.
    public static func encodedByteCount(prefix: [UInt8], source: String) throws -> Int? {
        try layout(prefix, isComplete: false, source: source)?.byteCount
    }

    /// Parses `.npy` file bytes. `source` names the array in errors (e.g. `path: name`); every
    /// malformed input throws `SprigError.format(path: source, …)`.
    public static func decode(_ bytes: [UInt8], source: String) throws -> NPYArray {
        guard let layout = try layout(bytes, isComplete: true, source: source) else {
            throw SprigError.format(path: source, reason: "truncated .npy header")
        }
        let data = bytes[layout.dataStart...]
        guard data.count == layout.byteCount - layout.dataStart else {
            throw SprigError.format(path: source, reason: "data size mismatch: shape \(layout.header.shape) of \(layout.descriptor) "
                                    + "needs \(layout.byteCount - layout.dataStart) bytes but \(data.count) follow the header")
        }
        var elements: Elements
        switch layout.descriptor {
        case "<f4": elements = .float32(readLittleEndian(data) { Float(bitPattern: $0.bitPattern.byteSwapped) })
        case "<f8": elements = .float64(readLittleEndian(data) { Double(bitPattern: $0.bitPattern.byteSwapped) })
        case "<i4": elements = .int32(readLittleEndian(data) { $0.byteSwapped })
        case "<i8": elements = .int64(readLittleEndian(data) { $0.byteSwapped })
        default: elements = .uint8(Array(data))
        }
        if layout.header.fortranOrder && layout.header.shape.count > 1 {
            elements = transposedFromFortranOrder(elements, shape: layout.header.shape)
        }
        var array = try NPYArray(shape: layout.header.shape, elements: elements)
        array.source = source
        return array
    }

    /// Parses the magic, version, header and dtype. When `bytes` may be only the start of the
    /// file (`isComplete` false), returns nil while the header is not complete yet.
    private static func layout(_ bytes: [UInt8], isComplete: Bool, source: String) throws -> Layout? {
        func fail(_ reason: String) -> SprigError { SprigError.format(path: source, reason: reason) }

        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard Array(bytes.prefix(6)) == Array(magic.prefix(bytes.count)) else {
            throw fail("not a .npy array (missing the \\x93NUMPY magic)")
        }
        guard bytes.count >= 10 else {
            if isComplete { throw fail("not a .npy array (missing the \\x93NUMPY magic)") }
            return nil
        }
        let major = bytes[6]
        let headerStart: Int
        let headerLength: Int
        switch major {
        case 1:
            headerStart = 10
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        case 2, 3:
            guard bytes.count >= 12 else {
                if isComplete { throw fail("truncated .npy header") }
                return nil
            }
            headerStart = 12
            headerLength = (0 ..< 4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        default:
            throw fail("unsupported .npy format version \(major).\(bytes[7])")
        }
        guard headerStart + headerLength <= bytes.count else {
            guard isComplete else { return nil }
            throw fail("truncated .npy header: it declares \(headerLength) bytes but only "
                       + "\(bytes.count - headerStart) follow")
        }
        let headerBytes = bytes[headerStart ..< headerStart + headerLength]
        guard let headerText = String(bytes: headerBytes, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("unreadable .npy header")
        }
        let header: NPYHeader
        do {
            header = try NPYHeader(parsing: headerText)
        } catch let error as NPYHeader.ParseError {
            throw fail("malformed .npy header \(headerText.trimmingCharacters(in: .whitespacesAndNewlines)): "
                       + error.reason)
        }
        guard let elementCount = product(header.shape) else {
            throw fail("shape \(header.shape) is too large")
        }
        var descriptor = header.descriptor
        if descriptor.hasPrefix("="), descriptor.count > 1 {
            descriptor = "<" + descriptor.dropFirst()  // native order; every supported host is little-endian
        }
        if descriptor == "<u1" || descriptor == "=u1" { descriptor = "|u1" }
        if descriptor.hasPrefix(">"), ["f4", "f8", "i4", "i8", "u1"].contains(String(descriptor.dropFirst())) {
            throw fail("big-endian dtype \(header.descriptor) is not supported (save it as little-endian, "
                       + "e.g. array.astype('<\(descriptor.dropFirst())'))")
        }
        let elementSize: Int
        switch descriptor {
        case "<f4", "<i4": elementSize = 4
        case "<f8", "<i8": elementSize = 8
        case "|u1": elementSize = 1
        default:
            throw fail("unsupported dtype \(header.descriptor) (supported: <f4, <f8, <i4, <i8, |u1)")
        }
        let dataStart = headerStart + headerLength
        let (dataBytes, overflowMultiply) = elementCount.multipliedReportingOverflow(by: elementSize)
        let (byteCount, overflowAdd) = dataBytes.addingReportingOverflow(dataStart)
        guard !overflowMultiply, !overflowAdd else { throw fail("shape \(header.shape) of \(descriptor) is too large") }
        return Layout(header: header, descriptor: descriptor, dataStart: dataStart, byteCount: byteCount)
    }

    /// Elements of type `T` stored little-endian in `data` (whose size is a multiple of T's);
    /// `swapped` reverses the bytes of one element and is used only on big-endian hosts.
    private static func readLittleEndian<T>(_ data: ArraySlice<UInt8>, swapped: (T) -> T) -> [T] {
        let count = data.count / MemoryLayout<T>.stride
        let values = [T](unsafeUninitializedCapacity: count) { output, initialized in
            if count > 0 {
                data.withUnsafeBytes { raw in
                    UnsafeMutableRawPointer(output.baseAddress!).copyMemory(from: raw.baseAddress!,
                                                                            byteCount: count * MemoryLayout<T>.stride)
                }
            }
            initialized = count
        }
        #if _endian(little)
        return values
        #else
        return values.map(swapped)
        #endif
    }

    /// C-order elements from Fortran-order ones: element (i₀, …, i_{n−1}) sits at Fortran offset
    /// i₀ + d₀·(i₁ + d₁·(i₂ + …)).
    private static func transposedFromFortranOrder(_ elements: Elements, shape: [Int]) -> Elements {
        func reorder<T>(_ values: [T]) -> [T] {
            guard !values.isEmpty else { return values }
            var fortranStrides = [Int](repeating: 1, count: shape.count)
            for axis in 1 ..< shape.count { fortranStrides[axis] = fortranStrides[axis - 1] * shape[axis - 1] }
            var index = [Int](repeating: 0, count: shape.count)
            var offset = 0
            var result: [T] = []
            result.reserveCapacity(values.count)
            for _ in 0 ..< values.count {
                result.append(values[offset])
                // Advance the C-order multi-index (last axis fastest), keeping `offset` in step.
                var axis = shape.count - 1
                while axis >= 0 {
                    index[axis] += 1
                    offset += fortranStrides[axis]
                    if index[axis] < shape[axis] { break }
                    offset -= fortranStrides[axis] * shape[axis]
                    index[axis] = 0
                    axis -= 1
                }
            }
            return result
        }
        switch elements {
        case .float32(let values): return .float32(reorder(values))
        case .float64(let values): return .float64(reorder(values))
        case .int32(let values): return .int32(reorder(values))
        case .int64(let values): return .int64(reorder(values))
        case .uint8(let values): return .uint8(reorder(values))
        }
    }

    /// The product of `shape` (1 for a scalar), or nil on overflow.
    private static func product(_ shape: [Int]) -> Int? {
        var result = 1
        for size in shape {
            let (next, overflow) = result.multipliedReportingOverflow(by: size)
            if overflow { return nil }
            result = next
        }
        return result
    }
}
