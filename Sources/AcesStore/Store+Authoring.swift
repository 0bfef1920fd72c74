import AcesCore
import Foundation
import GRDB
import GRDBSQLite

/// Who signs local writes, and the clock and randomness they use (passed in, so tests can fix them).
public struct Author: Sendable {
    public let origin: ChapterID
    public let keyID: String
    public let key: SigningKey
    public let wallMillis: @Sendable () -> Int64
    public let randomBytes: @Sendable (Int) -> [UInt8]
    /// Whether the entries record that the member whose record they change made them
    /// (`"by": "member"`); false for the chapter's admins and operators.
    public var byMember = false

    public init(
        origin: ChapterID, key: SigningKey, keyID: String? = nil,
        wallMillis: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
        randomBytes: @escaping @Sendable (Int) -> [UInt8] = { n in
            var g = SystemRandomNumberGenerator()
            var out = [UInt8]()
            out.reserveCapacity(n + 8)
            while out.count < n { withUnsafeBytes(of: g.next() as UInt64) { out.append(contentsOf: $0) } }
            return Array(out.prefix(n))
        }
    ) {
        self.origin = origin
        self.key = key
        self.keyID = keyID ?? key.publicKey.keyID(chapter: origin)
        self.wallMillis = wallMillis
        self.randomBytes = randomBytes
    }
}

/// A change a local write asks for. The store works out the bases from the current heads.
public enum Mutation: Sendable {
    /// Writes fields of a record (creating it if new). Values must already be validated.
    case set(RecordKind, id: String, values: [String: JSONValue])
    /// Removes a record.
    case delete(RecordKind, id: String)
    /// Erases a record for good.
    case erase(RecordKind, id: String)
    /// Writes fields of a removed record and replaces its removal: the record comes back.
    case restore(RecordKind, id: String, values: [String: JSONValue])
    /// Lets another chapter edit the record (owner or steward only).
    case grant(RecordKind, id: String, to: ChapterID)
    /// Ends a grant.
    case revoke(RecordKind, id: String, to: ChapterID)
    /// Hands the record to another chapter, which owns it from then on.
    case transfer(RecordKind, id: String, to: ChapterID)

    /// The record the mutation changes.
    public var record: (kind: RecordKind, id: String) {
        switch self {
        case .set(let k, let id, _), .restore(let k, let id, _): (k, id)
        case .delete(let k, let id), .erase(let k, let id): (k, id)
        case .grant(let k, let id, _), .revoke(let k, let id, _), .transfer(let k, let id, _): (k, id)
        }
    }
}

/// Read access to the state inside the authoring transaction.
public struct Draft {
    let db: Database

    /// The current record, removed ones included.
    public func record(_ kind: RecordKind, id: String) throws -> Record? {
        try Record.fetch(db, kind: kind, id: id)
    }

    /// Live members whose email has the same identity key.
    public func memberIDs(withEmail email: String) throws -> [String] {
        // Through SQLite's C API: an import asks this once per new member.
        let select = RawStatement(try db.cachedStatement(sql: "SELECT id FROM members WHERE email_key = ? AND removed = 0 ORDER BY id"))
        defer { sqlite3_reset(select.handle) }
        try select.bind(1, EmailAddress.identityKey(email))
        var ids = [String]()
        while try select.step(db) { if let id = select.text(0) { ids.append(id) } }
        return ids
    }
}

extension Store {
    /// Authors one entry from the mutations `build` returns, signs it, appends it to this
    /// node's log and applies it, all in one transaction. Returns nil when `build` asks for nothing.
    @discardableResult
    public func author(as author: Author, _ build: (Draft) throws -> [Mutation]) throws -> Entry? {
        try authorMany(as: author, count: 1) { draft, _ in try build(draft) }.first
    }

    /// Authors up to `count` entries in one transaction (an import): `build` is called once per
    /// entry, sees the state including the entries before it, and may return no mutation to
    /// skip. All or nothing: if one throws, none is written.
    @discardableResult
    public func authorMany(as author: Author, count: Int, _ build: (Draft, Int) throws -> [Mutation]) throws -> [Entry] {
        try pool.write { db -> [Entry] in try authorEntries(db, as: author, count: count, build) }
    }

    /// The body of `authorMany`, inside a write transaction the caller holds.
    /// With `announcing`, writes the one entry that names the origin's next key (and no operation).
    /// With `grouping` (an import), the mutations of several consecutive calls of `build` share
    /// one entry, up to its bounds; a call whose records the entry being filled touches already
    /// starts a new one. `build` then sees the state as of the last entry written, not of the
    /// calls grouped with it, and the entries are not kept in memory (an empty array is returned):
    /// `written` is told, after each entry, how many calls and entries are done.
    func authorEntries(
        _ db: Database, as author: Author, count: Int, announcing: KeyAnnouncement? = nil, grouping: EntryGrouping? = nil,
        written: ((_ calls: Int, _ entries: Int) -> Void)? = nil, prepared: PayloadPipeline? = nil,
        _ build: (Draft, Int) throws -> [Mutation]
    ) throws -> [Entry] {
        let applier = try Applier(db, roster: ownershipRoster)
        applier.searchInBulk = grouping != nil
        let origin = try applier.origin(author.origin)
        if origin.frozen != nil { throw StoreError.frozen(author.origin) }
        if let current = try Store.chainKey(db, originID: origin.id, before: 1 << 40), current.announcement.keyID != author.keyID {
            throw StoreError.invalid(
                "this node's log names '\(current.announcement.keyID)' as its signing key since \(author.origin):\(current.seq), but it was asked to sign with '\(author.keyID)'; run 'aces keys rotate' to finish the interrupted rotation"
            )
        }
        if let lock = try Store.restoreLock(db) {
            throw StoreError.restoreLocked(quorum: lock.quorum, confirmed: lock.confirmed.count)
        }
        var clock = HybridClock(last: lastHLC(applier, own: author.origin, wall: author.wallMillis()), wallMillis: author.wallMillis)
        var entries = [Entry]()
        // The entry being filled: its operations, their payloads and canonical bytes, the records
        // it touches and an estimate of its size on the wire.
        var operations = [LogOperation]()
        var payloads = [Payload?]()
        var payloadBytes: [UInt8] = [0x5b]
        var touched = Set<String>()
        var size = 0
        var done = 0
        var signed = 0
        var open = false
        func write() throws {
            guard open else { return }
            open = false
            payloadBytes.append(0x5d)
            let own = try applier.origin(author.origin)
            let envelope = Envelope(
                origin: author.origin, seq: own.headSeq + 1, prev: own.headHash, hlc: clock.tick(), keyID: author.keyID,
                operations: operations, nextKey: announcing, byMember: author.byMember)
            // The same rule every receiver applies (PROTOCOL.md §2, *Ownership*): refused here
            // with its sentence, nothing written.
            for op in operations {
                if let refusal = try applier.custody(op.kind, id: op.id).refusal(
                    of: op, at: envelope.stamp, stewards: applier.roster.stewards)
                {
                    // Named by the roster, or by the origins this node holds entries of.
                    throw StoreError.notOwner(refusal.sentence(chapters: applier.roster.chapters + applier.origins.keys.sorted()))
                }
            }
            let entry = Entry.sign(envelope, payloads: payloads, payloadBytes: payloadBytes, with: author.key)
            try applier.append(entry)
            if grouping == nil { entries.append(entry) }
            signed += 1
            operations.removeAll(keepingCapacity: true)
            payloads.removeAll(keepingCapacity: true)
            payloadBytes = [0x5b]
            touched.removeAll(keepingCapacity: true)
            size = 0
            written?(done, signed)
        }
        for i in 0..<count {
            let mutations = try build(Draft(db: db), i)
            if mutations.isEmpty && announcing == nil { continue }
            var records = Set<String>()
            for m in mutations {
                let (kind, id) = m.record
                guard records.insert(kind.rawValue + "/" + id).inserted else {
                    throw StoreError.invalid("one entry cannot change \(kind.rawValue) \(id) twice; combine the changes into one")
                }
            }
            if author.byMember {
                guard mutations.count == 1, case .set(.member, _, _) = mutations[0] else {
                    throw StoreError.invalid("an entry by a member changes exactly one member record")
                }
            }
            if !operations.isEmpty,
                operations.count + mutations.count > (grouping?.operations ?? 0) || !touched.isDisjoint(with: records)
            {
                try write()
            }
            touched.formUnion(records)
            open = true
            let ahead = prepared?.take(i)
            let made = mutations.count == 1 ? ahead : nil
            for m in mutations {
                let (op, payload, bytes) = try operation(for: m, applier: applier, author: author, prepared: made)
                operations.append(op)
                payloads.append(payload)
                if payloadBytes.count > 1 { payloadBytes.append(0x2c) }
                payloadBytes.append(contentsOf: bytes ?? Array("null".utf8))
                size += EntryGrouping.estimatedBytes(of: op, payload: bytes?.count ?? 4)
            }
            done = i + 1
            if grouping == nil || size >= grouping!.bytes || operations.count >= grouping!.operations { try write() }
        }
        try write()
        try applier.finish()
        return entries
    }

    /// The clock's starting point: our own newest timestamp, and every other origin's newest one
    /// unless it is more than a minute ahead of our wall clock (a skewed peer must not drag us along).
    private func lastHLC(_ applier: Applier, own: ChapterID, wall: Int64) -> HLC {
        let limit = HLC(millis: wall + 60_000, counter: 0).packed
        var last: Int64 = 0
        for (name, o) in applier.origins where name == own || o.headHLC <= limit { last = max(last, o.headHLC) }
        return HLC(packed: last)
    }

    /// The operation for a mutation, its payload, and the payload's canonical bytes.
    private func operation(for m: Mutation, applier: Applier, author: Author, prepared: PreparedPayload? = nil) throws -> (
        LogOperation, Payload?, [UInt8]?
    ) {
        switch m {
        case .set(let kind, let id, var values), .restore(let kind, let id, var values):
            guard RecordID.isValid(id), !values.isEmpty else {
                throw StoreError.invalid("a write needs a record id and at least one field")
            }
            // From protocol version 3 the chapter is the owner's: it moves only by a transfer.
            if let chapter = values.removeValue(forKey: "chapter"), chapter != .null {
                let owner = try applier.ownerName(kind, id: id, hint: author.origin)
                guard chapter.stringValue == owner else {
                    throw StoreError.notOwner(
                        "\(kind.rawValue) \(id) belongs to \(owner ?? "no chapter"): its chapter changes only by 'aces \(kind.rawValue) transfer \(id) --to CHAPTER', run by its owner"
                    )
                }
                guard !values.isEmpty else { throw StoreError.invalid("the chapter of \(kind.rawValue) \(id) is already \(owner ?? "")") }
            }
            let state = try applier.currentState(kind, id: id) ?? RecordState()
            if state.erased { throw StoreError.erased(kind, id) }
            var bases = [String: [Version]]()
            for name in values.keys {
                guard let f = kind.field(name) else { throw StoreError.invalid("\(kind.rawValue) has no field '\(name)'") }
                bases[name] = state.fields[f.index]?.heads.map(\.version) ?? []
            }
            if case .restore = m { bases[LogOperation.removedField] = state.fields[RecordState.removedIndex]?.heads.map(\.version) ?? [] }
            // Made on another core ahead of time for the same values (an import), or now.
            let made = prepared.flatMap { $0.payload.values == values ? $0 : nil } ?? PreparedPayload(values, salt: author.randomBytes)
            return (LogOperation(kind: kind, id: id, action: .set, bases: bases, digest: made.digest), made.payload, made.bytes)
        case .delete(let kind, let id), .erase(let kind, let id):
            guard let state = try applier.currentState(kind, id: id) else { throw StoreError.notFound(kind, id) }
            // Every head it saw; `_removed` always, empty when nothing was removed before.
            var bases = [LogOperation.removedField: [Version]()]
            for (index, fh) in state.fields where !fh.heads.isEmpty {
                let name = index == RecordState.removedIndex ? LogOperation.removedField : kind.fields[index].name
                bases[name] = fh.heads.map(\.version)
            }
            if case .erase = m {
                return (LogOperation(kind: kind, id: id, action: .erase, bases: bases, digest: nil), nil, nil)
            }
            return (LogOperation(kind: kind, id: id, action: .delete, bases: bases, digest: nil), nil, nil)
        case .grant(let kind, let id, let to), .revoke(let kind, let id, let to), .transfer(let kind, let id, let to):
            guard let state = try applier.currentState(kind, id: id), !state.erased else { throw StoreError.notFound(kind, id) }
            let standing = try applier.custody(kind, id: id).standing(before: nil, stewards: applier.roster.stewards)
            let action: Action
            switch m {
            case .grant:
                action = .grant
                if standing.holder.isHeld(by: to) { throw StoreError.invalid("\(to) owns \(kind.rawValue) \(id) already") }
                if standing.grants.contains(to) { throw StoreError.invalid("\(to) holds a grant on \(kind.rawValue) \(id) already") }
            case .revoke:
                action = .revoke
                if !standing.grants.contains(to) { throw StoreError.invalid("\(to) holds no grant on \(kind.rawValue) \(id)") }
            default:
                action = .transfer
                if standing.holder.isHeld(by: to) { throw StoreError.invalid("\(to) owns \(kind.rawValue) \(id) already") }
                if to == author.origin {
                    let owner = standing.holder.chapter(among: applier.roster.chapters + applier.origins.keys.sorted())
                    throw StoreError.notOwner(
                        "\(kind.rawValue) \(id) belongs to \(owner?.rawValue ?? "another chapter"): only its owner (or a steward) can transfer it to \(to)"
                    )
                }
            }
            return (LogOperation(kind: kind, id: id, action: action, bases: [:], digest: nil, to: to), nil, nil)
        }
    }
}
