/// What an operation does to one record.
public enum Action: String, Sendable, Hashable {
    /// Writes the named fields; the values travel in the entry's payload.
    case set
    /// Removes the record (a tombstone); the bases are every head it saw.
    case delete
    /// Removes the record for good and erases its values from every stored entry (GDPR Art. 17).
    case erase
    /// Lets another chapter (`to`) edit the record (protocol version 3).
    case grant
    /// Ends the grant `to` held on the record (protocol version 3).
    case revoke
    /// Hands the record to another chapter (`to`), which owns it from then on (protocol version 3).
    case transfer

    /// Whether the action changes who may write the record rather than its fields.
    public var isCustody: Bool { self == .grant || self == .revoke || self == .transfer }
}

/// One operation of an entry: an action on one record, naming for each field the versions
/// it replaced (its base).
public struct LogOperation: Sendable, Hashable {
    /// The pseudo-field that holds a record's removal; deletes and erasures write it.
    public static let removedField = "_removed"

    public let kind: RecordKind
    /// The record's id (a lowercase UUID minted by the authoring node).
    public let id: String
    public let action: Action
    /// Field name → the versions this operation replaced. For `set`, the fields written;
    /// for `delete`/`erase`, every field with heads, and `_removed`.
    public let bases: [String: [Version]]
    /// For `set`: SHA-256 of the canonical payload (salt and values).
    public let digest: Digest32?
    /// For `grant`, `revoke` and `transfer`: the chapter the custody change names.
    public let to: ChapterID?

    public init(kind: RecordKind, id: String, action: Action, bases: [String: [Version]], digest: Digest32?, to: ChapterID? = nil) {
        self.kind = kind
        self.id = id
        self.action = action
        self.bases = bases
        self.digest = digest
        self.to = to
    }

    /// Whether this operation may appear in an entry of `protocolVersion`: from version 2 a
    /// `delete` or `erase` names `_removed`, with no version when nothing was removed before.
    /// From version 3: `grant`, `revoke` and `transfer` exist, and a `set` never writes `chapter`
    /// (the owner's; PROTOCOL.md §2, *Ownership*).
    func isWellFormed(inVersion protocolVersion: Int) -> Bool {
        if action.isCustody != (to != nil) || (action.isCustody && protocolVersion < 3) { return false }
        if protocolVersion >= 3 && action == .set && bases["chapter"] != nil { return false }
        return protocolVersion < 2 || action == .set || action.isCustody || bases[LogOperation.removedField] != nil
    }

    /// The first protocol version whose entries may name the member field `email_visibility`.
    public static let emailVisibilityVersion = 3

    /// Whether an entry of `protocolVersion` may name field `name` of `kind` (fields added by a
    /// later version are unknown to nodes of an earlier one, so their entries cannot name them).
    static func fieldExists(_ name: String, _ kind: RecordKind, inVersion protocolVersion: Int) -> Bool {
        name != "email_visibility" || kind != .member || protocolVersion >= emailVisibilityVersion
    }
}

/// The values of one `set` operation with their salt. The envelope signs only the digest, so
/// the payload can be erased later while the entry still verifies.
public struct Payload: Sendable, Hashable {
    /// 16 random bytes, erased with the values, so the digest reveals nothing afterwards.
    public let salt: [UInt8]
    /// Field name → value.
    public let values: [String: JSONValue]

    public init(salt: [UInt8], values: [String: JSONValue]) {
        self.salt = salt
        self.values = values
    }

    /// The payload as JSON: `{"salt": base64url, "values": {…}}`.
    public var json: JSONValue {
        .object(["salt": .string(Base64URL.encode(salt)), "values": .object(values)])
    }

    /// The payload's canonical JSON.
    public var canonicalBytes: [UInt8] { CanonicalJSON.encode(json) }

    /// SHA-256 of the payload's canonical JSON.
    public var digest: Digest32 { Digest32.sha256(canonicalBytes) }

    /// Reads a payload from its JSON form.
    public init(json: JSONValue) throws(EntryError) {
        guard case .object(let o) = json, o.count == 2, case .string(let s)? = o["salt"],
            let salt = Base64URL.decode(s), salt.count == 16, case .object(let values)? = o["values"]
        else { throw EntryError.malformed("a payload must be {\"salt\": 16 bytes base64url, \"values\": {...}}") }
        self.init(salt: salt, values: values)
    }
}
