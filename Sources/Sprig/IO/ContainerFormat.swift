/// The binary container every file of Sprig's own is written in (checkpoints, the network
/// cache), little-endian:
///
/// | offset | size | content |
/// |---|---|---|
/// | 0 | 8 | magic (`SPRIGCKP`, `SPRIGNET`, …) |
/// | 8 | 4 | format version, UInt32 |
/// | 12 | 8 | header length H, UInt64 |
/// | 20 | H | JSON header: what the sections are and how long |
/// | … | | typed array sections, raw, in the order and with the counts the header gives |
/// | end−8 | 4 | CRC-32 (zlib's) of every byte before it |
/// | end−4 | 4 | end marker `SEND` |
///
/// `ContainerWriter` builds one; `ContainerReader` checks size, magic, version, end marker
/// and checksum before anything is parsed, then reads the sections within the file's bounds.
public struct ContainerFormat: Sendable {
    /// Eight bytes that start every file of this kind.
    public let magic: [UInt8]
    /// The layout version this Sprig writes.
    public let version: UInt32
    /// The oldest version this Sprig still reads (older and newer ones are refused).
    public let oldestReadable: UInt32
    /// What a file of this kind is called in messages ("checkpoint", "network cache").
    public let name: String

    public init(magic: String, version: UInt32, oldestReadable: UInt32? = nil, name: String) {
        precondition(magic.utf8.count == 8, "a container magic has eight bytes")
        self.magic = Array(magic.utf8)
        self.version = version
        self.oldestReadable = oldestReadable ?? version
        self.name = name
    }

    static let endMarker = Array("SEND".utf8)
    /// Magic, version and header length.
    static let prefixSize = 20
    /// CRC-32 and end marker.
    static let suffixSize = 8
}
