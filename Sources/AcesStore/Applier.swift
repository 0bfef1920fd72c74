import AcesCore
import Foundation
import GRDB
import GRDBSQLite

/// Appends verified entries to the log and applies their operations to the state, inside one
/// write transaction. Local authoring and remote sync both go through here, so the state is
/// always the same function of the entries held.
final class Applier {
    struct Origin {
        var id: Int64
        var headSeq: Int64
        var headHash: Digest32
        var headHLC: Int64
        var frozen: String?
        var dirty = false
    }

    let db: Database
    private(set) var origins: [ChapterID: Origin] = [:]
    /// The per-operation statements by kind, insert or update, and the bits of their columns.
    private var statements: [UInt64: Statement] = [:]
    /// Bits of the bookkeeping columns (field columns use their field's index, below 32).
    static let emailKeyBit = 40, nameKeyBit = 41, removedBit = 42, revisionBit = 43, conflictedBit = 44

    /// What the `conflicted` column holds for a record in this state.
    static func isConflicted(_ state: RecordState) -> Bool {
        !state.erased && (!state.conflictedFields.isEmpty || state.hasDeleteConflict)
    }

    /// The statement for `key`, prepared from `sql()` the first time.
    private func statement(_ key: UInt64, _ sql: () -> String) throws -> Statement {
        if let s = statements[key] { return s }
        let s = try db.cachedStatement(sql: sql())
        statements[key] = s
        return s
    }
    /// The `entry_records` rows of the entries appended, written in key order when read or at
    /// the end (see `EntryRecords`); a catch-up shares one across its transaction's batches.
    var entryRecords = EntryRecords()
    /// Whether any operation applied here erased a record.
    private(set) var erasedAny = false
    /// Rows read by `currentState` for an operation about to be applied, so authoring reads
    /// each record once.
    var prefetched: [String: ExistingRow] = [:]
    /// Records `currentState` found absent, so applying their first operation reads nothing.
    var prefetchedAbsent: Set<String> = []
    /// Members whose searchable text, visibility or presence changed in this transaction,
    /// reindexed once each by `finish()`.
    var searchDirty: Set<Int64> = []
    /// Whether members were left to the deferred indexer.
    private(set) var searchPending = false
    /// Whether `finish()` indexes every changed member itself, however many (an import: its
    /// members are searchable when it commits, and FTS5 takes them in one sorted pass).
    var searchInBulk = false
    /// Whether operations are held without their payload, not applied (see Store+Withheld.swift),
    /// and who sent the entries being appended, when.
    var hasWithheld = false
    /// Whether any grant, revocation or transfer is stored, or any operation refused for
    /// ownership (see Store+Ownership.swift); the roster that decides it; the records whose
    /// custody changed in this transaction, checked again by `finish()`.
    var hasCustody = false
    var hasRefused = false
    var roster: OwnershipRoster
    var recheck = Set<RecordKey>()
    var rebuilding = false
    var receivedFrom: String?
    var receivedAt = Date()

    /// What the applier reads of a record before changing it.
    struct ExistingRow {
        var rowid: Int64
        var state: RecordState
        var mergedInto: String?
        var revision: Int64
        var chapter: String?
    }

    /// Member fields the directory search covers.
    static let searchFields: Set<String> = [
        "name", "organisation", "role", "city", "bio", "visibility", "status", "chapter", "country",
    ]

    /// The record's current merge state (nil if never seen), remembered for the next apply.
    func currentState(_ kind: RecordKind, id: String) throws -> RecordState? {
        guard let row = try readRow(kind, id: id) else {
            prefetchedAbsent.insert(kind.rawValue + id)
            return nil
        }
        prefetched[kind.rawValue + id] = row
        return row.state
    }

    func readRow(_ kind: RecordKind, id: String) throws -> ExistingRow? {
        // Members also read merged_into, which makes a merged duplicate leave the directory.
        let select = RawStatement(
            try db.cachedStatement(
                sql: kind == .member
                    ? "SELECT rowid, state, merged_into, revision, chapter FROM members WHERE id = ?"
                    : "SELECT rowid, state, NULL, revision, chapter FROM events WHERE id = ?"))
        try select.bind(1, id)
        defer { sqlite3_reset(select.handle) }
        guard try select.step(db) else { return nil }
        guard let s = RecordState(encoded: select.bytes(1)) else {
            throw StoreError.notAReplica("the state of \(kind.rawValue) \(id) is damaged")
        }
        return ExistingRow(
            rowid: select.int64(0), state: s, mergedInto: select.text(2), revision: select.int64(3), chapter: select.text(4))
    }

    init(_ db: Database, roster: OwnershipRoster = OwnershipRoster()) throws {
        self.db = db
        self.roster = roster
        let rows = try Row.fetchAll(db, sql: "SELECT id, name, head_seq, head_hash, head_hlc, frozen FROM origins")
        for r in rows {
            guard let name = ChapterID(r["name"]), let hash = Digest32(bytes: [UInt8](r["head_hash"] as Data)) else {
                throw StoreError.notAReplica("the origins table holds a malformed row")
            }
            origins[name] = Origin(id: r["id"], headSeq: r["head_seq"], headHash: hash, headHLC: r["head_hlc"], frozen: r["frozen"])
        }
        hasWithheld = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM withheld)") ?? false
        hasCustody = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM custody)") ?? false
        hasRefused = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM refused_ops)") ?? false
    }

    /// The origin's row, created when first seen.
    func origin(_ name: ChapterID) throws -> Origin {
        if let o = origins[name] { return o }
        try db.execute(
            sql: "INSERT INTO origins(name, head_seq, head_hash, head_hlc) VALUES (?, 0, ?, 0)",
            arguments: [name.rawValue, Data(Digest32.zero.bytes)])
        let o = Origin(id: db.lastInsertedRowID, headSeq: 0, headHash: .zero, headHLC: 0)
        origins[name] = o
        return o
    }

    /// Whether the entry that wrote `v` is held (origins are held as contiguous prefixes).
    func isHeld(_ v: Version) -> Bool { (origins[v.origin]?.headSeq ?? 0) >= v.seq }

    /// Appends one entry that is the next of its origin and already verified, and applies it.
    func append(_ entry: Entry) throws {
        let env = entry.envelope
        var o = try origin(env.origin)
        precondition(env.seq == o.headSeq + 1 && env.prev == o.headHash, "append out of chain order")
        var payloads = entry.payloads
        let stamp = env.stamp
        var dropped = false
        for (i, op) in env.operations.enumerated() {
            if try withholds(op, payload: payloads[i]) {
                try withhold(op, index: i, of: env)
                continue
            }
            let keep = try apply(op, payload: payloads[i], stamp: stamp, protocolVersion: env.protocolVersion)
            if !keep && payloads[i] != nil {
                payloads[i] = nil
                dropped = true
            }
        }
        let stored =
            !dropped && entry.payloadBytes != nil ? entry.payloadBytes! : CanonicalJSON.encode(.array(payloads.map { $0?.json ?? .null }))
        let insert = RawStatement(
            try db.cachedStatement(
                sql: "INSERT INTO entries(rowid, hash, hlc, envelope, signature, payloads) VALUES (?, ?, ?, ?, ?, ?)"))
        try insert.bind(1, Store.rowid(origin: o.id, seq: env.seq))
        try insert.bind(2, entry.hash.bytes)
        try insert.bind(3, env.hlc.packed)
        try insert.bind(4, entry.envelopeBytes)
        try insert.bind(5, entry.signature)
        try insert.bind(6, stored)
        try insert.run(db)
        for op in env.operations { entryRecords.add(record: op.id, entry: Store.rowid(origin: o.id, seq: env.seq)) }
        if let next = env.nextKey {
            try db.execute(
                sql: "INSERT INTO key_announcements(origin, seq, key_id, public_key) VALUES (?, ?, ?, ?)",
                arguments: [o.id, env.seq, next.keyID, Data(next.publicKey.raw)])
        }
        prefetchedAbsent.removeAll(keepingCapacity: true)
        o.headSeq = env.seq
        o.headHash = entry.hash
        o.headHLC = max(o.headHLC, env.hlc.packed)
        o.dirty = true
        origins[env.origin] = o
    }

    /// Writes the origins' new heads and brings the search index up to date.
    func finish() throws {
        if !entryRecords.deferred { try entryRecords.flush(db) }
        try recheckCustody()
        try reindexSearch()
        let update = try db.cachedStatement(sql: "UPDATE origins SET head_seq = ?, head_hash = ?, head_hlc = ? WHERE id = ?")
        for (name, o) in origins where o.dirty {
            try update.execute(arguments: [o.headSeq, Data(o.headHash.bytes), o.headHLC, o.id])
            origins[name]?.dirty = false
        }
    }

    /// Applies one operation; returns false when its payload must not be stored (erased record).
    func apply(_ op: LogOperation, payload: Payload?, stamp: Stamp, protocolVersion: Int) throws -> Bool {
        // Refused for ownership: kept in the log as evidence, its version not held for the merge.
        guard try admits(op, stamp: stamp, protocolVersion: protocolVersion), !op.action.isCustody else { return true }
        let table = op.kind.table
        var state = RecordState()
        let key = op.kind.rawValue + op.id
        let existing = try prefetched.removeValue(forKey: key) ?? (prefetchedAbsent.remove(key) != nil ? nil : readRow(op.kind, id: op.id))
        if let existing { state = existing.state }
        let wasErased = state.erased
        let wasListed = existing.map { !$0.state.isRemoved && $0.mergedInto == nil } ?? false
        let wasConflicted = existing.map { Applier.isConflicted($0.state) } ?? false
        // An operation on this record held without its payload is not applied: not held, for the merge.
        var waiting = hasWithheld ? try withheldVersions(kind: op.kind, id: op.id) : []
        if hasRefused { waiting.formUnion(try refusedVersions(kind: op.kind, id: op.id)) }
        let changes = state.apply(op, stamp: stamp, protocolVersion: protocolVersion) { isHeld($0) && !waiting.contains($0) }
        if let index = state.fieldBeyondBound {
            let field = index == RecordState.removedIndex ? LogOperation.removedField : op.kind.fields[index].name
            throw StoreError.tooManyHeads(op.kind, op.id, field: field)
        }

        // Each column carries a bit (a field's index, or one of the bookkeeping columns), so the
        // statement for a set of columns is found by an integer, not by building its SQL text.
        var columns: [(bit: Int, name: String, value: JSONValue)] = []
        if state.erased {
            if !wasErased {
                for (i, f) in op.kind.fields.enumerated() { columns.append((i, f.name, .null)) }
                if op.kind == .member {
                    columns.append((Applier.emailKeyBit, "email_key", .null))
                    columns.append((Applier.nameKeyBit, "name_key", .null))
                }
            }
        } else {
            // The `chapter` column always shows the owner (PROTOCOL.md §2, *Ownership*).
            let chapterIndex = op.kind.field("chapter")!.index
            let owner = try ownerName(op.kind, id: op.id, hint: stamp.version.origin)
            if existing == nil || owner != existing?.chapter {
                columns.append((chapterIndex, "chapter", owner.map { .string($0) } ?? .null))
            }
            for change in changes where change.index != RecordState.removedIndex && change.index != chapterIndex {
                let field = op.kind.fields[change.index]
                var value = JSONValue.null
                if let w = change.winner {
                    if w.version == stamp.version {
                        value = payload?.values[field.name] ?? .null
                    } else {
                        value = try storedValue(of: w.version, kind: op.kind, id: op.id, field: field.name)
                    }
                }
                columns.append((change.index, field.name, value))
                if field.name == "email" {
                    columns.append(
                        (Applier.emailKeyBit, "email_key", value.stringValue.map { .string(EmailAddress.identityKey($0)) } ?? .null))
                } else if field.name == "name" && op.kind == .member {
                    columns.append((Applier.nameKeyBit, "name_key", value.stringValue.map { .string(SearchText.fold($0)) } ?? .null))
                }
            }
        }
        var mergedInto = existing?.mergedInto
        if let change = columns.first(where: { $0.name == "merged_into" }) { mergedInto = change.value.stringValue }
        let listed = !state.isRemoved && mergedInto == nil
        let conflicted = Applier.isConflicted(state)
        // `removed` and `conflicted` are only written when they change: every partial index of
        // the table names one of them, and SQLite rewrites the entries of each index whose
        // columns an UPDATE sets, changed or not (five index updates for a new city).
        if existing == nil || listed != wasListed { columns.append((Applier.removedBit, "removed", .bool(!listed))) }
        columns.append((Applier.revisionBit, "revision", .number(Double((existing?.revision ?? 0) + 1))))
        let searchChanged = wasListed != listed || (listed && columns.contains { Applier.searchFields.contains($0.name) })
        if existing == nil || conflicted != wasConflicted { columns.append((Applier.conflictedBit, "conflicted", .bool(conflicted))) }
        columns.sort { $0.bit < $1.bit }
        var mask: UInt64 = 0
        for c in columns { mask |= 1 << UInt64(c.bit) }

        let encodedState = state.encoded
        let kindBit: UInt64 = op.kind == .member ? 0 : 1 << 61
        if let existing {
            let update = RawStatement(
                try statement(mask | kindBit) {
                    "UPDATE \(table) SET " + (columns.map(\.name) + ["state"]).map { "\"\($0)\" = ?" }.joined(separator: ", ")
                        + " WHERE rowid = ?"
                })
            for (k, c) in columns.enumerated() { try update.bind(Int32(k + 1), c.value) }
            try update.bind(Int32(columns.count + 1), encodedState)
            try update.bind(Int32(columns.count + 2), existing.rowid)
            try update.run(db)
            if op.kind == .member && searchChanged { searchDirty.insert(existing.rowid) }
        } else {
            let names = columns.map(\.name) + ["state"]
            let insert = RawStatement(
                try statement(mask | kindBit | 1 << 62) {
                    "INSERT INTO \(table)(id, " + names.map { "\"\($0)\"" }.joined(separator: ", ") + ") VALUES (?"
                        + String(repeating: ", ?", count: names.count) + ")"
                })
            try insert.bind(1, op.id)
            for (k, c) in columns.enumerated() { try insert.bind(Int32(k + 2), c.value) }
            try insert.bind(Int32(columns.count + 2), encodedState)
            try insert.run(db)
            if op.kind == .member && searchChanged { searchDirty.insert(db.lastInsertedRowID) }
        }
        if state.erased && !wasErased {
            try scrub(kind: op.kind, id: op.id)
            try releaseWithheld(kind: op.kind, id: op.id)
        }
        return !state.erased
    }

    /// Reindexes each member whose searchable text, visibility or presence changed, once per
    /// transaction (see `SearchIndex`).
    /// A transaction that changes more members than this leaves them to `Store.indexPendingSearch()`.
    static let inlineSearchLimit = 200

    private func reindexSearch() throws {
        guard !searchDirty.isEmpty else { return }
        if searchDirty.count > Applier.inlineSearchLimit && !searchInBulk {
            let pending = RawStatement(try db.cachedStatement(sql: "INSERT OR IGNORE INTO search_pending(rowid) VALUES (?)"))
            for rowid in searchDirty {
                try pending.bind(1, rowid)
                try pending.run(db)
            }
            searchPending = true
        } else if searchDirty.count > Applier.inlineSearchLimit {
            try SearchIndex(db).reindexInBulk(members: searchDirty)
        } else {
            try SearchIndex(db).reindex(members: searchDirty)
        }
        searchDirty.removeAll(keepingCapacity: true)
    }

    /// The value a stored entry wrote to a field of a record (null if erased or not found).
    private func storedValue(of v: Version, kind: RecordKind, id: String, field: String) throws -> JSONValue {
        guard let o = origins[v.origin],
            let row = try Row.fetchOne(
                try db.cachedStatement(sql: "SELECT envelope, payloads FROM entries WHERE rowid = ?"),
                arguments: [Store.rowid(origin: o.id, seq: v.seq)])
        else { return .null }
        let stored = try StoredEntry(envelope: row["envelope"], payloads: row["payloads"])
        guard let i = stored.operationIndex(kind: kind, id: id) else { return .null }
        return stored.payloads[i]["values"]?[field] ?? .null
    }

    /// Removes every stored value of an erased record from the log; digests stay, so the
    /// chain and signatures still verify.
    private func scrub(kind: RecordKind, id: String) throws {
        erasedAny = true
        try entryRecords.prepareForReading(db)
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT e.rowid, e.envelope, e.payloads FROM entry_records r JOIN entries e ON e.rowid = r.entry WHERE r.record = ?",
            arguments: [id])
        let update = try db.cachedStatement(sql: "UPDATE entries SET payloads = ? WHERE rowid = ?")
        for r in rows {
            var stored = try StoredEntry(envelope: r["envelope"], payloads: r["payloads"])
            guard let i = stored.operationIndex(kind: kind, id: id), stored.payloads[i] != .null else { continue }
            stored.payloads[i] = .null
            let rowid: Int64 = r["rowid"]
            try update.execute(arguments: [Data(CanonicalJSON.encode(.array(stored.payloads))), rowid])
        }
    }
}

/// An entry as stored, parsed only as far as needed.
struct StoredEntry {
    let envelope: JSONValue
    var payloads: [JSONValue]

    init(envelope: Data, payloads: Data) throws {
        do {
            self.envelope = try JSONParser.parse([UInt8](envelope))
            guard case .array(let p) = try JSONParser.parse([UInt8](payloads)) else {
                throw StoreError.notAReplica("a stored entry's payloads are damaged")
            }
            self.payloads = p
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError.notAReplica("a stored entry is damaged (\(error))")
        }
    }

    func operationIndex(kind: RecordKind, id: String) -> Int? {
        envelope["ops"]?.arrayValue?.firstIndex {
            $0["kind"]?.stringValue == kind.rawValue && $0["id"]?.stringValue == id
        }
    }
}

extension RecordKind {
    /// The table holding records of this kind.
    var table: String { self == .member ? "members" : "events" }
}

extension JSONValue {
    /// How a field value is kept in its column: text, integer, or canonical JSON for lists.
    public var databaseValue: DatabaseValue {
        switch self {
        case .null: .null
        case .bool(let b): b.databaseValue
        case .string(let s): s.databaseValue
        case .number(let d): d == d.rounded() && abs(d) < 9.0e15 ? Int64(d).databaseValue : d.databaseValue
        case .array, .object: String(decoding: CanonicalJSON.encode(self), as: UTF8.self).databaseValue
        }
    }
}
