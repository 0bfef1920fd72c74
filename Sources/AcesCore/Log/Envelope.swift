/// The signed part of an entry. Its canonical JSON (RFC 8785) is what the origin signs
/// (through SHA-256) and, with the signature, what the entry's hash covers.
public struct Envelope: Sendable, Hashable {
    /// The protocol version this code writes.
    public static let formatVersion = 3
    /// The protocol versions this code reads (docs/PROTOCOL.md says what changed in each).
    public static let readableVersions: ClosedRange<Int> = 1...3
    /// The most operations one entry may carry.
    public static let maxOperations = 1000
    /// The most base versions one field of an operation may name.
    public static let maxBases = 64

    /// The protocol version the entry is written in (its `v`): it decides which rules of
    /// validity and merge apply to it.
    public let protocolVersion: Int
    public let origin: ChapterID
    public let seq: Int64
    public let prev: Digest32
    public let hlc: HLC
    public let keyID: String
    public let operations: [LogOperation]
    /// The key that signs this origin's entries after this one (`aces keys rotate`). An entry
    /// that announces a key carries no operations.
    public let nextKey: KeyAnnouncement?
    /// Whether the member whose record the entry changes made it, signed in on the origin's
    /// node (`"by": "member"`, protocol version 3 and later); false: the chapter's admins.
    public let byMember: Bool
    /// The first protocol version whose entries may carry `by`.
    public static let byVersion = 3

    public init(
        origin: ChapterID, seq: Int64, prev: Digest32, hlc: HLC, keyID: String, operations: [LogOperation],
        nextKey: KeyAnnouncement? = nil, protocolVersion: Int = Envelope.formatVersion, byMember: Bool = false
    ) {
        self.protocolVersion = protocolVersion
        self.origin = origin
        self.seq = seq
        self.prev = prev
        self.hlc = hlc
        self.keyID = keyID
        self.operations = operations
        self.nextKey = nextKey
        self.byMember = byMember
    }

    /// Whether an entry by a member may carry `ops`: one `set` of one member record (its own).
    static func memberMayAuthor(_ ops: [LogOperation]) -> Bool {
        ops.count == 1 && ops[0].kind == .member && ops[0].action == .set
    }

    /// The version an operation of this entry writes.
    public var version: Version { Version(origin: origin, seq: seq) }
    /// The stamp the merge compares.
    public var stamp: Stamp { Stamp(hlc: hlc, version: version) }

    /// The envelope as JSON.
    public var json: JSONValue {
        var ops = [JSONValue]()
        ops.reserveCapacity(operations.count)
        for op in operations {
            var fields = [String: JSONValue]()
            for (name, base) in op.bases {
                fields[name] = .array(base.map { .string($0.description) })
            }
            var o: [String: JSONValue] = [
                "kind": .string(op.kind.rawValue), "id": .string(op.id), "act": .string(op.action.rawValue),
                "fields": .object(fields),
            ]
            if let d = op.digest { o["digest"] = .string(d.hex) }
            if let to = op.to { o["to"] = .string(to.rawValue) }
            ops.append(.object(o))
        }
        var o: [String: JSONValue] = [
            "v": .number(Double(protocolVersion)),
            "origin": .string(origin.rawValue),
            "seq": .number(Double(seq)),
            "prev": .string(prev.hex),
            "hlc": .array([.number(Double(hlc.millis)), .number(Double(hlc.counter))]),
            "key": .string(keyID),
            "ops": .array(ops),
        ]
        if let k = nextKey { o["next_key"] = k.json }
        if byMember { o["by"] = "member" }
        return .object(o)
    }
}
