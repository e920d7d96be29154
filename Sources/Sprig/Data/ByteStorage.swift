/// The bytes of a byte data set: an array the data set owns, or memory it borrows — the
/// Python package's NumPy array, passed without a copy and valid for the call that made the
/// data set (the caller keeps it alive; nothing here outlives that call).
public struct ByteStorage: @unchecked Sendable {
    private let owned: [UInt8]
    private let borrowed: UnsafeBufferPointer<UInt8>?

    public init(_ bytes: [UInt8]) {
        owned = bytes
        borrowed = nil
    }

    /// Reads `bytes` in place; the memory must stay valid and unchanged while the storage is used.
    public init(borrowing bytes: UnsafeBufferPointer<UInt8>) {
        owned = []
        borrowed = bytes
    }

    public var count: Int { borrowed?.count ?? owned.count }
    public var isEmpty: Bool { count == 0 }
    /// Whether the bytes are the caller's memory (no copy was made).
    public var isBorrowed: Bool { borrowed != nil }

    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let borrowed { return try body(borrowed) }
        return try owned.withUnsafeBufferPointer(body)
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }

    /// The first `n` bytes: a copy of an owned array, a narrower view of borrowed memory.
    public func prefix(_ n: Int) -> ByteStorage {
        if let borrowed { return ByteStorage(borrowing: UnsafeBufferPointer(rebasing: borrowed.prefix(n))) }
        return ByteStorage(Array(owned.prefix(n)))
    }
}
