/// Why an entry was refused. Kept with the entry in quarantine; shown to operators.
/// Messages name origins, sequence numbers and key ids only, never field values.
public enum EntryError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not an entry of this protocol: bad JSON, a missing or ill-typed member, an unknown field.
    case malformed(String)
    /// `prev` does not name the hash of the origin's previous entry.
    case brokenChain(origin: ChapterID, seq: Int64)
    /// The entry is not the next one of its origin.
    case gap(origin: ChapterID, expected: Int64, got: Int64)
    /// The entry names a key the roster does not list for its origin, or uses it outside its validity.
    case unknownKey(origin: ChapterID, seq: Int64, keyID: String)
    /// The entry is signed with a key its origin's chain replaced at `replacedAt` (`next_key`).
    case retiredKey(origin: ChapterID, seq: Int64, keyID: String, replacedAt: Int64)
    /// No valid signature by the named key closes the run this entry belongs to.
    case badSignature(origin: ChapterID, seq: Int64)
    /// A payload's digest differs from the one the envelope signs.
    case digestMismatch(origin: ChapterID, seq: Int64, operation: Int)
    /// A different entry already holds this `(origin, seq)`.
    case fork(origin: ChapterID, seq: Int64)
    /// The origin is frozen after a fork; nothing more of it is applied.
    case frozenOrigin(ChapterID)
    /// The stream came from a peer for an origin other than the one asked for.
    case wrongOrigin(expected: ChapterID, got: ChapterID)
    /// The entry is written in a protocol version newer than this node reads. Not a refusal:
    /// the entry waits, neither applied nor refused, until the node is upgraded.
    case unknownVersion(origin: ChapterID?, seq: Int64?, version: Int)

    /// Whether the entry waits (held) rather than being refused.
    public var isHold: Bool {
        if case .unknownVersion = self { return true }
        return false
    }

    /// A short stable code, used in metrics and listings.
    public var code: String {
        switch self {
        case .malformed: "malformed"
        case .brokenChain: "broken_chain"
        case .gap: "gap"
        case .unknownKey: "unknown_key"
        case .retiredKey: "retired_key"
        case .badSignature: "bad_signature"
        case .digestMismatch: "digest_mismatch"
        case .fork: "fork"
        case .frozenOrigin: "frozen_origin"
        case .wrongOrigin: "wrong_origin"
        case .unknownVersion: "unknown_version"
        }
    }

    public var description: String {
        switch self {
        case .malformed(let why): "malformed entry: \(why)"
        case .brokenChain(let o, let s): "entry \(o):\(s) does not follow its origin's previous entry (prev hash mismatch)"
        case .gap(let o, let e, let g): "entry \(o):\(g) arrived where \(o):\(e) was expected"
        case .unknownKey(let o, let s, let k):
            "entry \(o):\(s) is signed with key '\(k)', which the roster does not list as valid for '\(o)' at that time"
        case .retiredKey(let o, let s, let k, let at):
            "entry \(o):\(s) is signed with key '\(k)', which \(o):\(at) replaced with a new key; it signs nothing after that"
        case .badSignature(let o, let s): "entry \(o):\(s) has no valid signature behind it"
        case .digestMismatch(let o, let s, let i): "entry \(o):\(s) operation \(i): the values do not match their signed digest"
        case .fork(let o, let s): "fork: a different entry \(o):\(s) is already held; origin '\(o)' is frozen"
        case .frozenOrigin(let o): "origin '\(o)' is frozen after a fork; an operator must investigate"
        case .wrongOrigin(let e, let g): "asked for entries of '\(e)' but received one of '\(g)'"
        case .unknownVersion(let o, let s, let v):
            "entry \(o.map(\.rawValue) ?? "?"):\(s.map(String.init) ?? "?") is written in protocol version \(v), which this node does not read (it reads \(Envelope.readableVersions.lowerBound) to \(Envelope.readableVersions.upperBound)): it waits until Aces is upgraded"
        }
    }
}
