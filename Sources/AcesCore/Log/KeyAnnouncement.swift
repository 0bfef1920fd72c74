/// A signing key an origin names in its own chain (`next_key` of an envelope): from the entry
/// after the announcing one, the origin signs with this key and with no earlier one. The
/// announcing entry is signed by the key it replaces, so the chain itself vouches for the new
/// key; peers need no roster update to accept it.
public struct KeyAnnouncement: Sendable, Hashable {
    public let keyID: String
    public let publicKey: PublicSigningKey

    public init(keyID: String, publicKey: PublicSigningKey) {
        self.keyID = keyID
        self.publicKey = publicKey
    }

    /// The announcement as JSON: `{"id": "fr-1a2b3c4d", "public_key": "<base64url>"}`.
    public var json: JSONValue { .object(["id": .string(keyID), "public_key": .string(publicKey.base64url)]) }

    /// Reads an announcement and checks that its id is the one its key and origin imply
    /// (`<origin>-<first 8 hex digits of SHA-256 of the public key>`).
    public init(json: JSONValue, origin: ChapterID) throws(EntryError) {
        guard case .object(let o) = json, o.count == 2, case .string(let id)? = o["id"], case .string(let pk)? = o["public_key"],
            let key = try? PublicSigningKey(base64url: pk), key.base64url == pk
        else { throw EntryError.malformed("next_key must be {\"id\": key id, \"public_key\": 32 bytes base64url}") }
        guard id == key.keyID(chapter: origin) else {
            throw EntryError.malformed("next_key id must be '\(key.keyID(chapter: origin))' for that public key")
        }
        self.init(keyID: id, publicKey: key)
    }
}

/// The key an origin's chain currently names: the latest announcement, and the seq of the
/// entry that made it.
public struct ChainKey: Sendable, Hashable {
    public let seq: Int64
    public let announcement: KeyAnnouncement

    public init(seq: Int64, announcement: KeyAnnouncement) {
        self.seq = seq
        self.announcement = announcement
    }
}

extension KeyRing {
    /// The public key that must have signed `env`, given the key its origin's chain names before
    /// it (nil when the chain announced none): the chain's key when there is one, otherwise a key
    /// the roster lists for the entry's time. A key the roster lists is also held to the roster's
    /// validity window, so an operator can still revoke a key in the roster.
    public func signer(of env: Envelope, after chainKey: ChainKey?) -> Result<PublicSigningKey, EntryError> {
        let grant = self.grant(env.keyID, of: env.origin)
        if let ck = chainKey {
            guard env.keyID == ck.announcement.keyID else {
                return .failure(.retiredKey(origin: env.origin, seq: env.seq, keyID: env.keyID, replacedAt: ck.seq))
            }
            if let g = grant, g.publicKey != ck.announcement.publicKey || !g.covers(env.hlc) {
                return .failure(.unknownKey(origin: env.origin, seq: env.seq, keyID: env.keyID))
            }
            return .success(ck.announcement.publicKey)
        }
        guard let g = grant, g.covers(env.hlc) else {
            return .failure(.unknownKey(origin: env.origin, seq: env.seq, keyID: env.keyID))
        }
        return .success(g.publicKey)
    }
}
