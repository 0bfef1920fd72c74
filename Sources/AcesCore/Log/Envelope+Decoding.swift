import Synchronization

extension Envelope {
    /// Reads an envelope from JSON and checks it is well formed. Values of fields are checked
    /// for shape only (text, number, list), never against local data such as the time zone
    /// database, so every node reaches the same verdict.
    public init(json: JSONValue) throws(EntryError) {
        guard case .object(let o) = json else { throw EntryError.malformed("the envelope must be a JSON object") }
        // The version first: a later version may add members this one does not know.
        if let v = o["v"]?.intValue, v > Envelope.readableVersions.upperBound {
            let origin = o["origin"]?.stringValue.flatMap(ChapterID.init)
            let seq = o["seq"]?.intValue.flatMap { $0 >= 1 && $0 < 1 << 40 ? Int64($0) : nil }
            throw EntryError.unknownVersion(origin: origin, seq: seq, version: v)
        }
        let known: Set<String> = ["v", "origin", "seq", "prev", "hlc", "key", "next_key", "ops", "by"]
        if let extra = o.keys.first(where: { !known.contains($0) }) {
            throw EntryError.malformed("unknown envelope member '\(extra.prefix(40))'")
        }
        guard let version = o["v"]?.intValue, Envelope.readableVersions.contains(version) else {
            throw EntryError.malformed(
                "unsupported protocol version (this node reads versions \(Envelope.readableVersions.lowerBound) to \(Envelope.readableVersions.upperBound))"
            )
        }
        var byMember = false
        if let by = o["by"] {
            guard version >= Envelope.byVersion else {
                throw EntryError.malformed("by is allowed only in entries of protocol version \(Envelope.byVersion) and later")
            }
            guard by == "member" else { throw EntryError.malformed("by must be \"member\" when present") }
            byMember = true
        }
        guard case .string(let originText)? = o["origin"], let origin = ChapterID(originText) else {
            throw EntryError.malformed("origin must be a chapter id")
        }
        guard let seqInt = o["seq"]?.intValue, seqInt >= 1, seqInt < 1 << 40 else {
            throw EntryError.malformed("seq must be a whole number from 1 to 2^40 - 1")
        }
        let seq = Int64(seqInt)
        guard case .string(let prevText)? = o["prev"], let prev = Digest32(hex: prevText), prevText == prev.hex else {
            throw EntryError.malformed("prev must be 64 lowercase hex digits")
        }
        guard case .array(let h)? = o["hlc"], h.count == 2, let ms = h[0].intValue, let c = h[1].intValue,
            (0...Int(HLC.maxMillis)).contains(ms), (0...Int(HLC.maxCounter)).contains(c)
        else { throw EntryError.malformed("hlc must be [milliseconds, counter]") }
        guard case .string(let key)? = o["key"], (1...64).contains(key.utf8.count) else {
            throw EntryError.malformed("key must name a signing key")
        }
        var nextKey: KeyAnnouncement? = nil
        if let nk = o["next_key"] {
            let k = try KeyAnnouncement(json: nk, origin: origin)
            guard k.keyID != key else { throw EntryError.malformed("next_key must name a key other than the one signing the entry") }
            nextKey = k
        }
        guard case .array(let opsJSON)? = o["ops"] else { throw EntryError.malformed("ops must be a list of operations") }
        if nextKey != nil {
            guard opsJSON.isEmpty else { throw EntryError.malformed("an entry that announces next_key carries no operations") }
        } else {
            guard (1...Envelope.maxOperations).contains(opsJSON.count) else {
                throw EntryError.malformed("ops must list 1 to \(Envelope.maxOperations) operations")
            }
        }
        var ops = [LogOperation]()
        ops.reserveCapacity(opsJSON.count)
        var records = Set<String>()
        for (i, oj) in opsJSON.enumerated() {
            let op = try LogOperation(json: oj, index: i, origin: origin, seq: seq)
            guard records.insert(op.kind.rawValue + "/" + op.id).inserted else {
                throw EntryError.malformed("operation \(i) touches a record another operation of the entry already touches")
            }
            if version < 3 && op.action.isCustody {
                throw EntryError.malformed("operation \(i): \(op.action.rawValue) exists from protocol version 3 on")
            }
            if version >= 3 && op.action == .set && op.bases["chapter"] != nil {
                throw EntryError.malformed(
                    "operation \(i) sets chapter, which from protocol version 3 is the owner's and changes only by a transfer")
            }
            if let field = op.bases.keys.first(where: { !LogOperation.fieldExists($0, op.kind, inVersion: version) }) {
                throw EntryError.malformed(
                    "operation \(i) names \(field), a field of protocol version \(LogOperation.emailVisibilityVersion) and later")
            }
            guard op.isWellFormed(inVersion: version) else {
                throw EntryError.malformed(
                    "operation \(i) is a \(op.action.rawValue) and must name _removed (with [] when nothing was removed before)")
            }
            ops.append(op)
        }
        if byMember && !Envelope.memberMayAuthor(ops) {
            throw EntryError.malformed("an entry by a member carries exactly one set of a member record")
        }
        self.init(
            origin: origin, seq: seq, prev: prev, hlc: HLC(millis: Int64(ms), counter: Int64(c)), keyID: key,
            operations: ops, nextKey: nextKey, protocolVersion: version, byMember: byMember)
        if seq == 1 && prev != .zero { throw EntryError.malformed("the first entry of an origin must have a zero prev") }
    }
}

extension LogOperation {
    init(json: JSONValue, index i: Int, origin: ChapterID, seq: Int64) throws(EntryError) {
        guard case .object(let o) = json else { throw EntryError.malformed("operation \(i) must be an object") }
        guard case .string(let k)? = o["kind"], let kind = RecordKind(rawValue: k) else {
            throw EntryError.malformed("operation \(i) has an unknown kind")
        }
        guard case .string(let id)? = o["id"], RecordID.isValid(id) else {
            throw EntryError.malformed("operation \(i) id must be a lowercase UUID")
        }
        guard case .string(let a)? = o["act"], let action = Action(rawValue: a) else {
            throw EntryError.malformed("operation \(i) act must be set, delete, erase, grant, revoke or transfer")
        }
        guard case .object(let fieldsJSON)? = o["fields"] else {
            throw EntryError.malformed("operation \(i) fields must be an object")
        }
        let allowed = Set(["kind", "id", "act", "fields"]).union(action == .set ? ["digest"] : action.isCustody ? ["to"] : [])
        if let extra = o.keys.first(where: { !allowed.contains($0) }) {
            throw EntryError.malformed("operation \(i) has an unknown member '\(extra.prefix(40))'")
        }
        var bases = [String: [Version]]()
        for (name, bj) in fieldsJSON {
            let isRemoved = name == LogOperation.removedField
            guard kind.field(name) != nil || isRemoved else {
                throw EntryError.malformed("operation \(i) names an unknown field '\(name.prefix(40))' of \(kind.rawValue)")
            }
            guard case .array(let items) = bj, items.count <= Envelope.maxBases else {
                throw EntryError.malformed("operation \(i) field '\(name)' must list at most \(Envelope.maxBases) base versions")
            }
            var versions = [Version]()
            for item in items {
                guard case .string(let t) = item, let v = Version(t) else {
                    throw EntryError.malformed("operation \(i) field '\(name)' has a base that is not origin:seq (seq from 1 to 2^40 - 1)")
                }
                guard v.origin != origin || v.seq < seq else {
                    throw EntryError.malformed("operation \(i) field '\(name)' names a base of its own origin that is not earlier")
                }
                versions.append(v)
            }
            guard Set(versions).count == versions.count else {
                throw EntryError.malformed("operation \(i) field '\(name)' names a base twice")
            }
            bases[name] = versions
        }
        var digest: Digest32? = nil
        if action == .set {
            guard bases.keys.contains(where: { $0 != LogOperation.removedField }) else {
                throw EntryError.malformed("operation \(i) sets no field")
            }
            guard case .string(let d)? = o["digest"], let dg = Digest32(hex: d), d == dg.hex else {
                throw EntryError.malformed("operation \(i) digest must be 64 lowercase hex digits")
            }
            digest = dg
        }
        var to: ChapterID? = nil
        if action.isCustody {
            guard case .string(let t)? = o["to"], let chapter = ChapterID(t) else {
                throw EntryError.malformed("operation \(i) is a \(action.rawValue) and must name the chapter it is for in 'to'")
            }
            guard bases.isEmpty else { throw EntryError.malformed("operation \(i) is a \(action.rawValue) and names no field") }
            guard action != .transfer || chapter != origin else {
                throw EntryError.malformed("operation \(i) transfers the record to its own origin")
            }
            to = chapter
        }
        self.init(kind: kind, id: id, action: action, bases: bases, digest: digest, to: to)
    }
}

/// Record ids: lowercase UUIDs (UUIDv7 when minted here).
public enum RecordID {
    /// Whether `s` is a lowercase hyphenated UUID.
    public static func isValid(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 36 else { return false }
        for (i, c) in b.enumerated() {
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return false }
            } else {
                guard (48...57).contains(c) || (97...102).contains(c) else { return false }
            }
        }
        return true
    }

    /// A record id that names the chapter creating it (protocol version 3, §2 *Ownership*): a
    /// UUIDv8 (RFC 9562) whose first 48 bits are Unix milliseconds, like a UUIDv7, and whose last
    /// 32 bits are the chapter's owner tag. Only that chapter's entries may create the record.
    public static func mint(millis: Int64, random: [UInt8], owner: ChapterID) -> String {
        precondition(random.count >= 10)
        var r = Array(random.prefix(10))
        let tag = ownerTag(of: owner)
        for k in 0..<4 { r[6 + k] = UInt8(truncatingIfNeeded: tag >> (8 * (3 - k))) }
        return v7(millis: millis, random: r, versionNibble: 0x80)
    }

    /// The owner tag of a chapter: the first 4 bytes of SHA-256 of its id, as a big-endian number.
    /// Remembered per chapter: the applier asks it for every operation it applies (a catch-up's
    /// profile showed the hashing at 2% of the applying thread).
    public static func ownerTag(of chapter: ChapterID) -> UInt32 {
        if let known = knownTags.withLock({ $0[chapter.rawValue] }) { return known }
        let d = Digest32.sha256(Array(chapter.rawValue.utf8)).bytes
        let tag = UInt32(d[0]) << 24 | UInt32(d[1]) << 16 | UInt32(d[2]) << 8 | UInt32(d[3])
        knownTags.withLock { if $0.count < 4096 { $0[chapter.rawValue] = tag } }
        return tag
    }

    private static let knownTags = Mutex<[String: UInt32]>([:])

    /// The owner tag a record id carries: its last 32 bits when it is a UUIDv8, nil otherwise
    /// (ids minted before protocol version 3).
    public static func ownerTag(in id: String) -> UInt32? {
        let b = Array(id.utf8)
        guard b.count == 36, b[14] == UInt8(ascii: "8") else { return nil }
        var tag: UInt32 = 0
        for c in b[28..<36] {
            let v: UInt8 = c <= 57 ? c - 48 : c - 87
            tag = tag << 4 | UInt32(v)
        }
        return tag
    }

    /// A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits.
    public static func v7(millis: Int64, random: [UInt8]) -> String { v7(millis: millis, random: random, versionNibble: 0x70) }

    private static func v7(millis: Int64, random: [UInt8], versionNibble: UInt8) -> String {
        precondition(random.count >= 10)
        var b = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - i))) }
        for i in 6..<16 { b[i] = random[i - 6] }
        b[6] = versionNibble | (b[6] & 0x0f)
        b[8] = 0x80 | (b[8] & 0x3f)
        // Written byte by byte: an import mints one per new member.
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { out in
            var i = 0
            for (k, byte) in b.enumerated() {
                if k == 4 || k == 6 || k == 8 || k == 10 {
                    out[i] = UInt8(ascii: "-")
                    i += 1
                }
                out[i] = digits.utf8Start[Int(byte >> 4)]
                out[i + 1] = digits.utf8Start[Int(byte & 0x0f)]
                i += 2
            }
            return i
        }
    }
}
