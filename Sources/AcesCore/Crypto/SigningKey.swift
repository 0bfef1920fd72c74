import Crypto
import Foundation

/// A node's Ed25519 signing key. The private half lives only in the node's data directory.
public struct SigningKey: Sendable {
    private let key: Curve25519.Signing.PrivateKey

    /// A fresh random key.
    public init() { key = Curve25519.Signing.PrivateKey() }

    /// A key from its 32-byte seed.
    public init(seed: [UInt8]) throws(KeyError) {
        do { key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed) } catch {
            throw KeyError("a signing key must be a 32-byte Ed25519 seed")
        }
    }

    /// The 32-byte seed, for writing to the key file.
    public var seed: [UInt8] { Array(key.rawRepresentation) }

    /// The public half.
    public var publicKey: PublicSigningKey { PublicSigningKey(key.publicKey) }

    /// Signs `message` with Ed25519.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        // Curve25519 signing in swift-crypto only fails on a broken RNG, which we cannot recover from.
        guard let sig = try? key.signature(for: message) else {
            preconditionFailure("Ed25519 signing failed")
        }
        return Array(sig)
    }
}

/// An Ed25519 public key as the roster lists it.
public struct PublicSigningKey: Hashable, Sendable {
    let key: Curve25519.Signing.PublicKey
    /// The 32 raw bytes.
    public let raw: [UInt8]

    init(_ key: Curve25519.Signing.PublicKey) {
        self.key = key
        self.raw = Array(key.rawRepresentation)
    }

    /// A key from its 32 raw bytes.
    public init(raw: [UInt8]) throws(KeyError) {
        do { key = try Curve25519.Signing.PublicKey(rawRepresentation: raw) } catch {
            throw KeyError("a public signing key must be 32 bytes of Ed25519")
        }
        self.raw = raw
    }

    /// A key from unpadded base64url, as the roster writes it.
    public init(base64url: String) throws(KeyError) {
        guard let raw = Base64URL.decode(base64url), raw.count == 32 else {
            throw KeyError("a public signing key must be 43 characters of base64url (32 bytes)")
        }
        try self.init(raw: raw)
    }

    /// The key as unpadded base64url.
    public var base64url: String { Base64URL.encode(raw) }

    /// The key id a chapter's entries name: `<chapter>-<first 8 hex digits of SHA-256 of the key>`.
    public func keyID(chapter: ChapterID) -> String {
        chapter.rawValue + "-" + String(Digest32.sha256(raw).hex.prefix(8))
    }

    /// Verifies an Ed25519 signature with the crypto library's own check.
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        key.isValidSignature(signature, for: message)
    }

    public static func == (a: PublicSigningKey, b: PublicSigningKey) -> Bool { a.raw == b.raw }
    public func hash(into h: inout Hasher) { h.combine(raw) }
}

/// A key that could not be read.
public struct KeyError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ d: String) { description = d }
}
