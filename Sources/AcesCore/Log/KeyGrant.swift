/// A public signing key the roster lists for a chapter, with the period in which entries
/// signed by it are valid (compared with the entry's own HLC time, never the local clock).
public struct KeyGrant: Sendable, Hashable {
    public let keyID: String
    public let publicKey: PublicSigningKey
    /// First millisecond (inclusive) of validity.
    public let validFrom: Int64
    /// Last millisecond (exclusive) of validity; nil for open-ended.
    public let validUntil: Int64?

    public init(keyID: String, publicKey: PublicSigningKey, validFrom: Int64, validUntil: Int64?) {
        self.keyID = keyID
        self.publicKey = publicKey
        self.validFrom = validFrom
        self.validUntil = validUntil
    }

    /// Whether an entry stamped `hlc` may be signed by this key.
    public func covers(_ hlc: HLC) -> Bool {
        hlc.millis >= validFrom && (validUntil.map { hlc.millis < $0 } ?? true)
    }
}

/// The keys of every chapter, as the roster lists them. Pure data: the node loads it from `chapters/`.
public struct KeyRing: Sendable {
    private var grants: [ChapterID: [String: KeyGrant]] = [:]
    /// The chapters the roster names as federation stewards: they may write, grant and transfer
    /// any record (§2 *Ownership*). Only the roster makes a steward, never a peer's own claim.
    public var stewards: Set<ChapterID> = []

    public init(_ byChapter: [ChapterID: [KeyGrant]] = [:]) {
        for (c, gs) in byChapter { for g in gs { grants[c, default: [:]][g.keyID] = g } }
    }

    /// Adds a grant.
    public mutating func add(_ grant: KeyGrant, for chapter: ChapterID) { grants[chapter, default: [:]][grant.keyID] = grant }

    /// The grant `keyID` of `chapter`, if listed.
    public func grant(_ keyID: String, of chapter: ChapterID) -> KeyGrant? { grants[chapter]?[keyID] }

    /// The chapters that have keys.
    public var chapters: [ChapterID] { grants.keys.sorted() }
}
