import Crypto
import Foundation

/// A SHA-256 digest: entry hashes, `prev` links and value digests.
public struct Digest32: Hashable, Sendable, CustomStringConvertible {
    /// The 32 bytes of the digest.
    public let bytes: [UInt8]

    /// The `prev` of an origin's first entry: 32 zero bytes.
    public static let zero = Digest32(unchecked: [UInt8](repeating: 0, count: 32))

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    /// Wraps 32 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// Parses 64 hex digits.
    public init?(hex: String) {
        guard hex.utf8.count == 64, let b = Hex.decode(hex) else { return nil }
        self.bytes = b
    }

    /// SHA-256 of the given bytes.
    public static func sha256<D: DataProtocol>(_ data: D) -> Digest32 {
        Digest32(unchecked: Array(SHA256.hash(data: data)))
    }

    /// SHA-256 of two byte strings concatenated, without copying them together.
    public static func sha256(_ a: [UInt8], _ b: [UInt8]) -> Digest32 {
        var h = SHA256()
        h.update(data: a)
        h.update(data: b)
        return Digest32(unchecked: Array(h.finalize()))
    }

    /// Lowercase hex of the digest.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}
