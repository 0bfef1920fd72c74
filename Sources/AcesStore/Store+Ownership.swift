import AcesCore
import Foundation
import GRDB
import Synchronization

/// What of the roster decides ownership: the steward chapters, and the chapters whose owner
/// tags name records. Set by the node from its roster; shared by every copy of a `Store`.
public struct OwnershipRoster: Sendable, Hashable {
    public var stewards: Set<ChapterID>
    public var chapters: [ChapterID]

    public init(stewards: Set<ChapterID> = [], chapters: [ChapterID] = []) {
        self.stewards = stewards
        self.chapters = chapters
    }

    /// The part of a key ring that decides ownership.
    public init(_ keys: KeyRing) { self.init(stewards: keys.stewards, chapters: keys.chapters) }
}

/// The roster a store's authoring uses, shared between copies of the `Store`.
final class OwnershipRosterBox: Sendable {
    let value = Mutex(OwnershipRoster())
}

/// An operation refused because its origin could not write the record (PROTOCOL.md §2,
/// *Ownership*): kept in the log as evidence, never applied. Ids and chapters only.
public struct RefusedOperation: Sendable, Hashable {
    public let origin: ChapterID
    public let seq: Int64
    public let kind: RecordKind
    public let record: String
    /// `not_owner` or `beyond_grant`.
    public let code: String
    public let reason: String
    /// The peer that sent the entry (nil when applied outside a sync).
    public let peer: String?
    public let since: Date
}

/// Who owns a record and who else may write it, as this node's log says.
public struct RecordOwnership: Sendable, Hashable {
    /// The owning chapter (nil when the id names a chapter not in the roster, or no one).
    public let owner: ChapterID?
    /// Chapters holding a grant.
    public let grants: [ChapterID]
    /// The transfers that moved the record, oldest first: from, to, and the entry.
    public let transfers: [(from: ChapterID, to: ChapterID, version: Version)]

    public static func == (a: RecordOwnership, b: RecordOwnership) -> Bool {
        a.owner == b.owner && a.grants == b.grants && a.transfers.map(\.version) == b.transfers.map(\.version)
    }
    public func hash(into h: inout Hasher) { h.combine(owner) }
}

extension Store {
    /// Sets the roster ownership is decided by (the node calls it whenever it loads its roster).
    public func setOwnershipRoster(_ roster: OwnershipRoster) { ownershipBox.value.withLock { $0 = roster } }

    /// The roster ownership is decided by.
    public var ownershipRoster: OwnershipRoster { ownershipBox.value.withLock { $0 } }

    /// Who owns `kind` `id` and who else may write it.
    public func ownership(of kind: RecordKind, id: String) throws -> RecordOwnership {
        let roster = ownershipRoster
        return try pool.read { db in try Store.ownership(db, kind: kind, id: id, roster: roster) }
    }

    /// `ownership(of:id:)` from async code.
    public func ownership(of kind: RecordKind, id: String) async throws -> RecordOwnership {
        let roster = ownershipRoster
        return try await pool.read { db in try Store.ownership(db, kind: kind, id: id, roster: roster) }
    }

    static func ownership(_ db: Database, kind: RecordKind, id: String, roster: OwnershipRoster) throws -> RecordOwnership {
        var roster = roster
        // An owner tag is named by the roster, or by the origins this node holds entries of.
        roster.chapters += try String.fetchAll(db, sql: "SELECT name FROM origins ORDER BY name").compactMap(ChapterID.init)
        let custody = try Applier.custody(db, kind: kind, id: id)
        let now = custody.standing(before: nil, stewards: roster.stewards)
        var transfers = [(from: ChapterID, to: ChapterID, version: Version)]()
        var holder = custody.creator
        for c in custody.changes {
            guard roster.stewards.contains(c.origin) || holder.isHeld(by: c.origin) else { continue }
            if c.action == .transfer {
                transfers.append((holder.chapter(among: roster.chapters + [c.origin]) ?? c.origin, c.to, c.stamp.version))
                holder = .chapter(c.to)
            }
        }
        return RecordOwnership(
            owner: now.holder.chapter(among: roster.chapters), grants: now.grants.sorted(), transfers: transfers)
    }

    /// Whether this node's chapter may settle `c` (PROTOCOL.md §2, *Ownership*; docs/CONFLICTS.md):
    /// a field conflict needs the right to edit the record (owner, grant or steward); a delete
    /// conflict and a duplicate need the owner or a steward of every record involved (settling a
    /// duplicate writes `merged_into`; a grant on the survivor lets the retired one's owner fold
    /// fields into it).
    public func maySettle(_ c: Conflict) throws -> Bool {
        let (roster, chapter) = (ownershipRoster, chapter)
        return try pool.read { db in try Store.maySettle(db, c, chapter: chapter, roster: roster) }
    }

    /// `maySettle(_:)` inside a transaction the caller holds.
    static func maySettle(_ db: Database, _ c: Conflict, chapter: ChapterID, roster: OwnershipRoster) throws -> Bool {
        if roster.stewards.contains(chapter) { return true }
        var standings = [String: Custody.Standing]()
        for id in c.records {
            standings[id] = try Applier.custody(db, kind: c.recordKind, id: id).standing(before: nil, stewards: roster.stewards)
        }
        switch c.kind {
        case .field:
            return standings.values.allSatisfy { $0.permits(.set, fields: [c.field ?? ""], by: chapter) }
        case .delete:
            return standings.values.allSatisfy { $0.permits(.set, fields: [LogOperation.removedField], by: chapter) }
        case .duplicate:
            // Some survivor whose merge writes only what this chapter may write: `merged_into` on
            // each other duplicate, and the survivor's missing fields taken from them, if any.
            let draft = Draft(db: db)
            return try c.records.contains { survivor in
                try draft.mutations(resolving: c, with: .mergeInto(survivor)).allSatisfy { m in
                    guard case .set(_, let id, let values) = m else { return false }
                    return standings[id]?.permits(.set, fields: values.keys, by: chapter) ?? false
                }
            }
        }
    }

    /// Judges once, under the ownership rule, every record a replica written before protocol
    /// version 3 holds operations of several origins on: an edit one chapter made to another's
    /// record is refused from now on, as a node that receives the same entries afresh refuses it.
    /// Runs when the node opens its replica with its roster (`NodeDirectory.openStore`).
    public func recheckOwnershipIfNeeded() throws {
        let roster = ownershipRoster
        let pending = "SELECT EXISTS (SELECT 1 FROM ownership_pending)"
        guard try pool.read({ db in try Bool.fetchOne(db, sql: pending) }) == true else { return }
        try pool.write { db in
            guard try Bool.fetchOne(db, sql: pending) == true else { return }
            let applier = try Applier(db, roster: roster)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT json_extract(op.value, '$.kind') AS kind, json_extract(op.value, '$.id') AS id
                    FROM entries e, json_each(CAST(e.envelope AS TEXT), '$.ops') op
                    GROUP BY 1, 2 HAVING count(DISTINCT json_extract(CAST(e.envelope AS TEXT), '$.origin')) > 1
                    """)
            for r in rows {
                guard let kind = RecordKind(rawValue: r["kind"] ?? "") else { continue }
                applier.recheck.insert(RecordKey(kind: kind, id: r["id"]))
            }
            try applier.finish()
            try db.execute(sql: "DELETE FROM ownership_pending")
        }
    }

    /// Operations refused for ownership, newest first, at most `limit`.
    public func refusedOperations(limit: Int = 100) throws -> [RefusedOperation] {
        try pool.read { db in try Store.refusedOperations(db, limit: limit) }
    }

    /// `refusedOperations(limit:)` from async code.
    public func refusedOperations(limit: Int = 100) async throws -> [RefusedOperation] {
        try await pool.read { db in try Store.refusedOperations(db, limit: limit) }
    }

    static func refusedOperations(_ db: Database, limit: Int) throws -> [RefusedOperation] {
        try Row.fetchAll(
            db, sql: "SELECT * FROM refused_ops ORDER BY since DESC, origin, seq LIMIT ?", arguments: [limit]
        ).compactMap { r in
            guard let o = ChapterID(r["origin"]), let kind = RecordKind(rawValue: r["kind"]) else { return nil }
            return RefusedOperation(
                origin: o, seq: r["seq"], kind: kind, record: r["record"], code: r["code"], reason: r["reason"], peer: r["peer"],
                since: Date(timeIntervalSince1970: TimeInterval(r["since"] as Int64)))
        }
    }

    /// How many operations are refused for ownership, in all and by the peer that sent them.
    public func refusedOperationCounts() throws -> (total: Int, byPeer: [String: Int]) {
        try pool.read(Store.refusedOperationCounts)
    }

    /// `refusedOperationCounts()` from async code.
    public func refusedOperationCounts() async throws -> (total: Int, byPeer: [String: Int]) {
        try await pool.read(Store.refusedOperationCounts)
    }

    static func refusedOperationCounts(_ db: Database) throws -> (total: Int, byPeer: [String: Int]) {
        var byPeer = [String: Int]()
        var total = 0
        for r in try Row.fetchAll(db, sql: "SELECT peer, count(*) AS n FROM refused_ops GROUP BY peer") {
            let n: Int = r["n"]
            total += n
            if let p: String = r["peer"] { byPeer[p] = n }
        }
        return (total, byPeer)
    }
}

extension Applier {
    /// The custody of a record as stored: its creator and every grant, revocation and transfer.
    static func custody(_ db: Database, kind: RecordKind, id: String) throws -> Custody {
        var legacy: ChapterID? = nil
        if RecordID.ownerTag(in: id) == nil {
            legacy = try String.fetchOne(
                db, sql: "SELECT origin FROM legacy_creators WHERE kind = ? AND record = ?", arguments: [kind.rawValue, id]
            ).flatMap(ChapterID.init)
        }
        var changes = [Custody.Change]()
        for r in try Row.fetchAll(
            db, sql: "SELECT origin, seq, hlc, act, target FROM custody WHERE kind = ? AND record = ?",
            arguments: [kind.rawValue, id])
        {
            guard let o = ChapterID(r["origin"]), let to = ChapterID(r["target"]), let act = Action(rawValue: r["act"]) else {
                continue
            }
            changes.append(
                Custody.Change(stamp: Stamp(hlc: HLC(packed: r["hlc"]), version: Version(origin: o, seq: r["seq"])), action: act, to: to))
        }
        return Custody(id: id, legacyCreator: legacy, changes: changes)
    }

    /// The custody of a record, read only when something about it could differ from its id alone.
    func custody(_ kind: RecordKind, id: String) throws -> Custody {
        if !hasCustody && RecordID.ownerTag(in: id) != nil { return Custody(id: id, legacyCreator: nil) }
        return try Applier.custody(db, kind: kind, id: id)
    }

    /// Whether `op` of the entry stamped `stamp` may be applied; records the refusal when not.
    /// Grants, revocations and transfers are stored whatever the verdict (the replay decides
    /// which take effect) and mark their record to be checked again once the transaction's
    /// entries are in.
    func admits(_ op: LogOperation, stamp: Stamp, protocolVersion: Int) throws -> Bool {
        if op.action.isCustody, let to = op.to {
            try db.execute(
                sql: "INSERT OR IGNORE INTO custody(kind, record, origin, seq, hlc, act, target) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    op.kind.rawValue, op.id, stamp.version.origin.rawValue, stamp.version.seq, stamp.hlc.packed, op.action.rawValue,
                    to.rawValue,
                ])
            hasCustody = true
            // A grant only adds a right: it can change a verdict only where something was refused.
            let mayChange = try op.action != .grant || !refusedVersions(kind: op.kind, id: op.id).isEmpty
            if !rebuilding && mayChange {
                recheck.insert(RecordKey(kind: op.kind, id: op.id))
            }
        } else if protocolVersion < 3 && RecordID.ownerTag(in: op.id) == nil {
            try noteLegacyWriter(op, stamp: stamp)
        }
        guard let refusal = try custody(op.kind, id: op.id).refusal(of: op, at: stamp, stewards: roster.stewards) else {
            return true
        }
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO refused_ops(origin, seq, kind, record, code, reason, peer, since)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                stamp.version.origin.rawValue, stamp.version.seq, op.kind.rawValue, op.id, refusal.code,
                refusal.sentence(chapters: roster.chapters), receivedFrom, Int64(receivedAt.timeIntervalSince1970),
            ])
        hasRefused = true
        return false
    }

    /// Keeps the earliest writer of a record older than owner tags; when it changes, the record's
    /// later operations are checked again.
    private func noteLegacyWriter(_ op: LogOperation, stamp: Stamp) throws {
        let row = try Row.fetchOne(
            db, sql: "SELECT origin, seq, hlc FROM legacy_creators WHERE kind = ? AND record = ?", arguments: [op.kind.rawValue, op.id])
        if let row, let o = ChapterID(row["origin"]) {
            let held = Stamp(hlc: HLC(packed: row["hlc"]), version: Version(origin: o, seq: row["seq"]))
            guard stamp < held else { return }
        }
        try db.execute(
            sql: "INSERT OR REPLACE INTO legacy_creators(kind, record, origin, seq, hlc) VALUES (?, ?, ?, ?, ?)",
            arguments: [op.kind.rawValue, op.id, stamp.version.origin.rawValue, stamp.version.seq, stamp.hlc.packed])
        if !rebuilding && (row != nil || hasRefused) { recheck.insert(RecordKey(kind: op.kind, id: op.id)) }
    }

    /// The versions of the record's operations refused for ownership: not held, for the merge.
    func refusedVersions(kind: RecordKind, id: String) throws -> Set<Version> {
        guard hasRefused else { return [] }
        var out = Set<Version>()
        for r in try Row.fetchAll(
            db, sql: "SELECT origin, seq FROM refused_ops WHERE kind = ? AND record = ?", arguments: [kind.rawValue, id])
        {
            if let o = ChapterID(r["origin"]) { out.insert(Version(origin: o, seq: r["seq"])) }
        }
        return out
    }

    /// The chapter that owns a record now, by name, for its `chapter` column.
    /// A tag names the first chapter that has it among the writer, the roster and the origins
    /// this replica holds entries of (the creator wrote the record, so a replica holding its
    /// operations holds the creator's origin).
    func ownerName(_ kind: RecordKind, id: String, hint: ChapterID?) throws -> String? {
        let holder = try custody(kind, id: id).standing(before: nil, stewards: roster.stewards).holder
        if case .chapter(let c) = holder { return c.rawValue }
        if let hint, holder.isHeld(by: hint) { return hint.rawValue }
        return holder.chapter(among: roster.chapters + origins.keys.sorted())?.rawValue
    }

    /// Checks again every record whose custody changed in this transaction: when the verdict on
    /// one of its operations changed (a revocation or transfer that arrived after operations it
    /// makes invalid, or a grant after the edits it allows), the record is rebuilt from its
    /// operations in the log, so the state is the same whatever order the entries came in.
    func recheckCustody() throws {
        while let key = recheck.popFirst() {
            // Nothing of a record this node has never applied or refused can change.
            if try readRow(key.kind, id: key.id) == nil && refusedVersions(kind: key.kind, id: key.id).isEmpty { continue }
            let custody = try Applier.custody(db, kind: key.kind, id: key.id)
            let ops = try operationsInLog(key)
            let withheld = hasWithheld ? try withheldVersions(kind: key.kind, id: key.id) : []
            var refused = [Version: OwnershipRefusal]()
            for o in ops where !withheld.contains(o.stamp.version) {
                if let why = custody.refusal(of: o.op, at: o.stamp, stewards: roster.stewards) { refused[o.stamp.version] = why }
            }
            let recorded = try refusedVersions(kind: key.kind, id: key.id)
            if Set(refused.keys) != recorded {
                try rebuild(key, ops: ops)
                continue
            }
            // The same operations stay refused; the reason may name another owner now.
            for (v, why) in refused {
                try db.execute(
                    sql: "UPDATE refused_ops SET code = ?, reason = ? WHERE origin = ? AND seq = ? AND kind = ? AND record = ?",
                    arguments: [why.code, why.sentence(chapters: roster.chapters), v.origin.rawValue, v.seq, key.kind.rawValue, key.id])
            }
            if let row = try readRow(key.kind, id: key.id), !row.state.erased {
                let owner = try ownerName(key.kind, id: key.id, hint: row.chapter.flatMap(ChapterID.init))
                try db.execute(
                    sql: "UPDATE \(key.kind.table) SET chapter = ? WHERE rowid = ? AND chapter IS NOT ?",
                    arguments: [owner, row.rowid, owner])
                if key.kind == .member && db.changesCount > 0 { searchDirty.insert(row.rowid) }
            }
        }
    }

    /// Every operation on a record in the stored log, by stamp, with its payload.
    private func operationsInLog(_ key: RecordKey) throws -> [(op: LogOperation, stamp: Stamp, version: Int, payload: Payload?)] {
        var out = [(op: LogOperation, stamp: Stamp, version: Int, payload: Payload?)]()
        try entryRecords.prepareForReading(db)
        let rows = try Row.fetchAll(
            db,
            sql: "SELECT e.envelope, e.payloads FROM entry_records r JOIN entries e ON e.rowid = r.entry WHERE r.record = ?",
            arguments: [key.id])
        for r in rows {
            let stored = try StoredEntry(envelope: r["envelope"], payloads: r["payloads"])
            guard let i = stored.operationIndex(kind: key.kind, id: key.id) else { continue }
            let env: Envelope
            do { env = try Envelope(json: stored.envelope) } catch { throw StoreError.notAReplica("a stored entry is damaged: \(error)") }
            let payload = stored.payloads.indices.contains(i) ? try? Payload(json: stored.payloads[i]) : nil
            out.append((env.operations[i], env.stamp, env.protocolVersion, payload))
        }
        return out.sorted { $0.stamp < $1.stamp }
    }

    /// Forgets the record's state and applies its operations again, in stamp order, under the
    /// custody the log now gives it. Withheld operations stay withheld.
    private func rebuild(_ key: RecordKey, ops: [(op: LogOperation, stamp: Stamp, version: Int, payload: Payload?)]) throws {
        rebuilding = true
        defer { rebuilding = false }
        if let row = try readRow(key.kind, id: key.id) {
            if key.kind == .member {
                if let search = try Int64.fetchOne(db, sql: "SELECT search_rowid FROM members WHERE rowid = ?", arguments: [row.rowid]) {
                    try db.execute(sql: "DELETE FROM member_search WHERE rowid = ?", arguments: [search])
                }
                searchDirty.remove(row.rowid)
            }
            try db.execute(sql: "DELETE FROM \(key.kind.table) WHERE rowid = ?", arguments: [row.rowid])
        }
        prefetched.removeValue(forKey: key.kind.rawValue + key.id)
        try db.execute(sql: "DELETE FROM refused_ops WHERE kind = ? AND record = ?", arguments: [key.kind.rawValue, key.id])
        let withheld = hasWithheld ? try withheldVersions(kind: key.kind, id: key.id) : []
        for o in ops where !withheld.contains(o.stamp.version) {
            _ = try apply(o.op, payload: o.payload, stamp: o.stamp, protocolVersion: o.version)
        }
    }
}

/// A record, as a key.
struct RecordKey: Hashable {
    let kind: RecordKind
    let id: String
}
