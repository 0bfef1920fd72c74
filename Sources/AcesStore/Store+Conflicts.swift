import AcesCore
import Foundation
import GRDB

extension Store {
    /// Open conflicts, optionally of one kind or about records of one chapter.
    public func conflicts(kind: Conflict.Kind? = nil, chapter: ChapterID? = nil) throws -> [Conflict] {
        try pool.read { db in try ConflictFinder(db).all(kind: kind, chapter: chapter) }
    }

    /// One open conflict by id.
    public func conflict(id: String) throws -> Conflict? {
        try pool.read { db in try ConflictFinder(db).all().first { $0.id == id } }
    }

    /// Open conflicts (optionally of one kind or about records of one chapter), each with whether
    /// this node's chapter may settle it (`maySettle`), read in one transaction from async code.
    public func openConflicts(kind: Conflict.Kind? = nil, chapter: ChapterID? = nil) async throws -> [(
        conflict: Conflict, maySettle: Bool
    )] {
        let (roster, own) = (ownershipRoster, self.chapter)
        return try await pool.read { db in
            try ConflictFinder(db).all(kind: kind, chapter: chapter).map { c in
                (c, try Store.maySettle(db, c, chapter: own, roster: roster))
            }
        }
    }

    /// One open conflict by id with whether this node may settle it, from async code; nil when no
    /// open conflict has this id.
    public func openConflict(id: String) async throws -> (conflict: Conflict, maySettle: Bool)? {
        let (roster, own) = (ownershipRoster, chapter)
        return try await pool.read { db in
            guard let c = try ConflictFinder(db).all().first(where: { $0.id == id }) else { return nil }
            return (c, try Store.maySettle(db, c, chapter: own, roster: roster))
        }
    }

    /// Conflicts settled by a write that replaced several concurrent values of a field, or brought
    /// back a record beside its removal, newest first: each with its sides (the versions replaced)
    /// and `settledBy`. Read from the whole log, so it takes a while on a large one.
    public func settledConflicts(kind: Conflict.Kind? = nil, chapter: ChapterID? = nil) throws -> [Conflict] {
        try pool.read { db in try ConflictFinder(db).settled(kind: kind, chapter: chapter) }
    }

    /// Settles every open field and delete conflict with its automatic winner, in one call: one
    /// write per record (every conflicted field of a member at once; a delete conflict with the
    /// record's removal or its return, which also closes its field conflicts), up to 500 records
    /// per signed entry. Duplicate identities need an operator's choice, and the conflicts of a
    /// record this chapter may not settle (`maySettle`) are its owner's: both are left, each
    /// listed by id with why.
    public func settleAllWithAutomaticWinners(as author: Author) throws -> BulkSettlement {
        let roster = ownershipRoster
        let before = try conflicts()
        var result = BulkSettlement()
        var open = before.filter { $0.kind != .duplicate }.count
        // One round settles everything it names; another only runs if an edit arrived meanwhile.
        for _ in 0..<8 where open > 0 {
            let written = try authorMany(as: author, count: 1) { draft, _ in
                try draft.automaticWinnerMutations(limit: 500) { c in
                    try Store.maySettle(draft.db, c, chapter: author.origin, roster: roster)
                }
            }
            guard !written.isEmpty else { break }
            result.entries += written.count
            let left = try conflicts().filter { $0.kind != .duplicate }.count
            guard left < open else { break }
            open = left
        }
        let after = try conflicts()
        let beforeIDs = Set(before.filter { $0.kind != .duplicate }.map(\.id))
        result.settled = beforeIDs.subtracting(after.map(\.id)).count
        result.left = try pool.read { db in
            // A record with one conflict this chapter may not settle is left whole (its delete
            // conflict's settlement would close its field conflicts too).
            var ownerRecords = Set<String>()
            for c in after where c.kind != .duplicate {
                if try !Store.maySettle(db, c, chapter: author.origin, roster: roster) { ownerRecords.insert(c.recordKey) }
            }
            return after.map { c in
                let reason: LeftConflict.Reason =
                    c.kind == .duplicate ? .needsSurvivor : ownerRecords.contains(c.recordKey) ? .ownerSettles : .stillOpen
                return LeftConflict(id: c.id, kind: c.kind, reason: reason)
            }
        }
        result.duplicates = result.left.filter { $0.reason == .needsSurvivor }.count
        result.forOwner = result.left.filter { $0.reason == .ownerSettles }.count
        result.unsettled = result.left.filter { $0.reason == .stillOpen }.count
        return result
    }
}

/// A conflict `Store.settleAllWithAutomaticWinners` left open, and why.
public struct LeftConflict: Sendable, Equatable {
    public enum Reason: String, Sendable {
        /// A duplicate identity: an operator chooses the survivor.
        case needsSurvivor = "needs_survivor"
        /// This chapter may not settle it (or another conflict of the same record): the record's
        /// owner, or a steward, does (`Store.maySettle`).
        case ownerSettles = "owner_settles"
        /// Still open after the settlement: an edit arrived meanwhile, or the record is erased.
        case stillOpen = "still_open"
    }

    public let id: String
    public let kind: Conflict.Kind
    public let reason: Reason
}

/// What `Store.settleAllWithAutomaticWinners` did.
public struct BulkSettlement: Sendable, Equatable {
    /// Field and delete conflicts closed.
    public var settled = 0
    /// Signed entries written.
    public var entries = 0
    /// Duplicate identities left open (they are settled one by one with a chosen survivor).
    public var duplicates = 0
    /// Field and delete conflicts still open (a record that is erased, or edits arriving meanwhile).
    public var unsettled = 0
    /// Field and delete conflicts left to the record's owner: this chapter may not settle them.
    public var forOwner = 0
    /// Every conflict left open, by id, with why.
    public var left: [LeftConflict] = []
}

extension Draft {
    /// Every open conflict, as it stands inside the authoring transaction.
    public func openConflicts() throws -> [Conflict] { try ConflictFinder(db).all() }

    /// One open conflict by id, as it stands inside the authoring transaction.
    public func conflict(id: String) throws -> Conflict? { try ConflictFinder(db).all().first { $0.id == id } }

    /// The writes that accept the automatic winner of every open field and delete conflict of up
    /// to `limit` records whose every conflict `may` settle: one mutation per record.
    func automaticWinnerMutations(limit: Int, may: (Conflict) throws -> Bool) throws -> [Mutation] {
        var order = [String]()
        var byRecord = [String: [Conflict]]()
        for c in try openConflicts() where c.kind != .duplicate {
            let key = c.recordKey
            if byRecord[key] == nil { order.append(key) }
            byRecord[key, default: []].append(c)
        }
        order = try order.filter { key in try byRecord[key]!.allSatisfy(may) }
        var mutations = [Mutation]()
        for key in order.prefix(limit) {
            let group = byRecord[key]!
            if let delete = group.first(where: { $0.kind == .delete }) {
                mutations += try self.mutations(resolving: delete, with: .latest)
                continue
            }
            var values = [String: JSONValue]()
            for c in group {
                for case .set(_, _, let v) in try self.mutations(resolving: c, with: .latest) { values.merge(v) { $1 } }
            }
            if !values.isEmpty { mutations.append(.set(group[0].recordKind, id: group[0].records[0], values: values)) }
        }
        return mutations
    }

    /// The writes that settle `conflict` as `resolution` asks. Each names every current head
    /// as its base, so the conflict closes on every node once the entry arrives; an edit still
    /// in flight elsewhere makes a new, visible conflict instead of being lost.
    public func mutations(resolving c: Conflict, with resolution: Resolution) throws -> [Mutation] {
        switch (c.kind, resolution) {
        case (.field, .take(let origin)):
            guard let side = c.candidates.first(where: { $0.version.origin == origin }) else {
                throw StoreError.invalid("no side of conflict \(c.id) was written by '\(origin)' (sides: \(Self.origins(c)))")
            }
            return [.set(c.recordKind, id: c.records[0], values: [c.field!: side.value ?? .null])]
        case (.field, .latest):
            guard let side = c.candidates.first(where: \.isWinner) else { return [] }
            return [.set(c.recordKind, id: c.records[0], values: [c.field!: side.value ?? .null])]
        case (.field, .value(let v)):
            guard let spec = c.recordKind.field(c.field!) else { return [] }
            let value: JSONValue
            do { value = try spec.validate(v) } catch { throw StoreError.invalid("--value: \(error)") }
            return [.set(c.recordKind, id: c.records[0], values: [c.field!: value])]
        case (.delete, .take(let origin)):
            guard let side = c.candidates.first(where: { $0.version.origin == origin }) else {
                throw StoreError.invalid("no side of conflict \(c.id) was written by '\(origin)' (sides: \(Self.origins(c)))")
            }
            return try settleDelete(c, keepRemoval: side.action != .set)
        case (.delete, .latest):
            guard let side = c.candidates.first(where: \.isWinner) else { return [] }
            return try settleDelete(c, keepRemoval: side.action != .set)
        case (.duplicate, .mergeInto(let survivor)):
            guard c.records.contains(survivor) else {
                throw StoreError.invalid("\(survivor) is not one of the duplicates (\(c.records.joined(separator: ", ")))")
            }
            guard let keep = try record(.member, id: survivor) else { throw StoreError.notFound(.member, survivor) }
            var mutations = [Mutation]()
            var folded = [String: JSONValue]()
            for other in c.records where other != survivor {
                guard let r = try record(.member, id: other) else { continue }
                for (name, v) in r.values where keep.values[name] == nil && folded[name] == nil && !["merged_into", "email"].contains(name)
                {
                    folded[name] = v
                }
                mutations.append(.set(.member, id: other, values: ["merged_into": .string(survivor)]))
            }
            if !folded.isEmpty { mutations.insert(.set(.member, id: survivor, values: folded), at: 0) }
            return mutations
        case (.duplicate, _):
            throw StoreError.invalid(
                "a duplicate identity is settled with --merge-into MEMBER_ID (one of \(c.records.joined(separator: ", ")))")
        case (_, .mergeInto):
            throw StoreError.invalid("--merge-into settles duplicate identities only")
        case (.delete, .value):
            throw StoreError.invalid("a delete conflict is settled with --take ORIGIN (the deleting or the editing chapter)")
        }
    }

    private func settleDelete(_ c: Conflict, keepRemoval: Bool) throws -> [Mutation] {
        let id = c.records[0]
        if keepRemoval { return [.delete(c.recordKind, id: id)] }
        guard let r = try record(c.recordKind, id: id) else { throw StoreError.notFound(c.recordKind, id) }
        var values = [String: JSONValue]()
        for (index, fh) in r.state.fields where index != RecordState.removedIndex && !fh.heads.isEmpty {
            let name = c.recordKind.fields[index].name
            values[name] = r.values[name] ?? .null
        }
        // The record comes back whole: the fields the removal replaced get back the values they had.
        let finder = try ConflictFinder(db)
        for f in c.recordKind.fields where values[f.name] == nil {
            if let v = try finder.latestValue(r, field: f.name) { values[f.name] = v }
        }
        return [.restore(c.recordKind, id: id, values: values)]
    }

    private static func origins(_ c: Conflict) -> String {
        Array(Set(c.candidates.map(\.version.origin.rawValue))).sorted().joined(separator: ", ")
    }
}

/// Derives the open conflicts from the state and the log.
struct ConflictFinder {
    let db: Database
    private var originIDs: [ChapterID: Int64] = [:]

    init(_ db: Database) throws {
        self.db = db
        for r in try Row.fetchAll(db, sql: "SELECT id, name FROM origins") {
            if let c = ChapterID(r["name"]) { originIDs[c] = r["id"] }
        }
    }

    func all(kind: Conflict.Kind? = nil, chapter: ChapterID? = nil) throws -> [Conflict] {
        var out = [Conflict]()
        for recordKind in RecordKind.allCases where kind != .duplicate {
            let rows = try Row.fetchAll(
                db, sql: "SELECT \(Record.columns(recordKind)) FROM \(recordKind.table) WHERE conflicted = 1 ORDER BY id")
            for row in rows {
                let r = try Record(kind: recordKind, row: row)
                let home = try homeChapter(r)
                if let chapter, home != chapter.rawValue { continue }
                let label = try latestValue(r, field: r.kind == .member ? "name" : "title")?.stringValue
                var found = [Conflict]()
                if kind != .delete {
                    for index in r.state.conflictedFields where index != RecordState.removedIndex {
                        found.append(try fieldConflict(r, index: index, chapter: home))
                    }
                }
                if kind != .field && r.state.hasDeleteConflict { found.append(try deleteConflict(r, chapter: home)) }
                for var c in found {
                    c.label = label
                    out.append(c)
                }
            }
        }
        if kind == nil || kind == .duplicate { out += try duplicates(chapter: chapter) }
        return out.sorted {
            ($0.kind.rawValue, $0.records.joined(separator: ","), $0.field ?? "") < (
                $1.kind.rawValue, $1.records.joined(separator: ","), $1.field ?? ""
            )
        }
    }

    /// The record's chapter field; where it was cleared or the record removed, the last value the
    /// log holds for it; else the chapter that wrote it.
    func homeChapter(_ r: Record) throws -> String? {
        if let value = try latestValue(r, field: "chapter")?.stringValue { return value }
        return try versions(r, field: "chapter").first?.origin.rawValue
    }

    /// The field's value now, or for a removed record or a cleared value, the newest value the log
    /// holds for it.
    func latestValue(_ r: Record, field: String) throws -> JSONValue? {
        if let v = r.values[field] { return v }
        for v in try versions(r, field: field) {
            if let written = try operation(v, kind: r.kind, record: r.id)?.2?.values[field], written != .null { return written }
        }
        return nil
    }

    /// The versions that last wrote the field, newest first: its heads, or for a removed record
    /// the versions its removals replaced.
    private func versions(_ r: Record, field: String) throws -> [Version] {
        guard let spec = r.kind.field(field) else { return [] }
        let heads = (r.state.fields[spec.index]?.heads ?? []).sorted(by: >).map(\.version)
        if !heads.isEmpty { return heads }
        var replaced = [Version]()
        for removal in (r.state.fields[RecordState.removedIndex]?.heads ?? []).sorted(by: >) {
            replaced += try operation(removal.version, kind: r.kind, record: r.id)?.1.bases[field] ?? []
        }
        return replaced
    }

    private func fieldConflict(_ r: Record, index: Int, chapter: String?) throws -> Conflict {
        let name = r.kind.fields[index].name
        let heads = r.state.standingHeads(index)
        let winner = heads.max()
        let candidates = try heads.map { h in try candidate(h, kind: r.kind, record: r.id, field: name, isWinner: h == winner) }
        return Conflict(
            id: Conflict.makeID(["field", r.kind.rawValue, r.id, name] + heads.map(\.version.description).sorted()),
            kind: .field, recordKind: r.kind, records: [r.id], field: name, chapter: chapter, candidates: candidates)
    }

    private func deleteConflict(_ r: Record, chapter: String?) throws -> Conflict {
        // The id covers every head (those a delete saw too: a settlement names them all); the
        // sides are the removals and the writes no delete saw.
        var stamps = Set<Stamp>(), sides = Set<Stamp>()
        for (index, fh) in r.state.fields {
            stamps.formUnion(fh.heads)
            sides.formUnion(r.state.standingHeads(index))
        }
        let removedWins = r.state.isRemoved
        let removals = Set(r.state.fields[RecordState.removedIndex]?.heads ?? [])
        let newestRemoval = removals.max()
        let newestWrite = sides.subtracting(removals).max()
        let candidates = try sides.sorted().map { s in
            try candidate(s, kind: r.kind, record: r.id, field: nil, isWinner: removedWins ? s == newestRemoval : s == newestWrite)
        }
        return Conflict(
            id: Conflict.makeID(["delete", r.kind.rawValue, r.id] + stamps.map(\.version.description).sorted()),
            kind: .delete, recordKind: r.kind, records: [r.id], field: nil, chapter: chapter, candidates: candidates)
    }

    private func duplicates(chapter: ChapterID?) throws -> [Conflict] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT email_key, id FROM members WHERE removed = 0 AND email_key IN (
                    SELECT email_key FROM members WHERE removed = 0 AND email_key IS NOT NULL GROUP BY email_key HAVING count(*) > 1)
                ORDER BY email_key, id
                """)
        var groups = [String: [String]]()
        for r in rows { groups[r["email_key"], default: []].append(r["id"]) }
        var out = [Conflict]()
        for ids in groups.values {
            let records = try ids.compactMap { try Record.fetch(db, kind: .member, id: $0) }
            let chapters = try records.map(homeChapter)
            if let chapter, !chapters.contains(chapter.rawValue) { continue }
            let candidates = try records.compactMap { r -> Conflict.Candidate? in
                guard let first = r.state.fields[1]?.heads.max() else { return nil }
                let c = try candidate(first, kind: .member, record: r.id, field: nil, isWinner: false)
                return Conflict.Candidate(
                    version: c.version, hlc: c.hlc, keyID: c.keyID, action: .set, record: r.id, value: r.values["email"],
                    fields: r.values, replaced: [], isWinner: false)
            }
            var c = Conflict(
                id: Conflict.makeID(["duplicate"] + ids.sorted()), kind: .duplicate, recordKind: .member, records: ids.sorted(),
                field: nil, chapter: chapters.first ?? nil, candidates: candidates)
            c.label = records.first?.values["name"]?.stringValue
            out.append(c)
        }
        return out
    }

    /// Conflicts closed by a write that named several concurrent heads of a field as its base, or
    /// a removal beside writes (a delete conflict kept either way), newest first.
    func settled(kind: Conflict.Kind?, chapter: ChapterID?) throws -> [Conflict] {
        guard kind != .duplicate else { return [] }
        var out = [Conflict]()
        var records = [String: (Record?, String?)]()
        let cursor = try Row.fetchCursor(db, sql: "SELECT envelope, payloads FROM entries ORDER BY hlc DESC, rowid DESC")
        while let row = try cursor.next() {
            let env = try Envelope(json: try JSONParser.parse([UInt8](row["envelope"] as Data)))
            let removedField = LogOperation.removedField
            guard env.operations.contains(where: { op in op.bases.contains { $0.key == removedField || $0.value.count > 1 } }) else {
                continue
            }
            let payloads = try JSONParser.parse([UInt8](row["payloads"] as Data)).arrayValue ?? []
            for (i, op) in env.operations.enumerated() {
                let keepsOrEndsRemoval = !(op.bases[removedField] ?? []).isEmpty
                let contested = op.bases.filter { $0.key != removedField && $0.value.count > 1 }
                guard keepsOrEndsRemoval || !contested.isEmpty else { continue }
                let key = op.kind.rawValue + "/" + op.id
                if records[key] == nil {
                    let r = try Record.fetch(db, kind: op.kind, id: op.id)
                    records[key] = (r, try r.flatMap(homeChapter))
                }
                let (record, home) = records[key]!
                if let chapter, home != chapter.rawValue { continue }
                let payload = i < payloads.count && payloads[i] != .null ? try? Payload(json: payloads[i]) : nil
                let label = try record.flatMap { try latestValue($0, field: $0.kind == .member ? "name" : "title")?.stringValue }
                func settlement(field: String?) -> Conflict.Candidate {
                    Conflict.Candidate(
                        version: env.version, hlc: env.hlc, keyID: env.keyID, action: op.action, record: op.id,
                        value: field.flatMap { payload?.values[$0] }, fields: payload?.values ?? [:], replaced: [], isWinner: true)
                }
                if keepsOrEndsRemoval {
                    // A delete conflict: kept removed (a delete naming an earlier removal) or brought back.
                    guard kind != .field, op.action != .erase else { continue }
                    let versions = Set(op.bases.values.joined()).sorted { $0.description < $1.description }
                    // Its sides: the removals and the writes they did not see (a version-2 delete
                    // keeps the heads it saw, and the settlement names those too).
                    var seen = Set<Version>()
                    for removal in op.bases[removedField] ?? [] {
                        for (name, bases) in try operation(removal, kind: op.kind, record: op.id)?.1.bases ?? [:] where name != removedField
                        {
                            seen.formUnion(bases)
                        }
                    }
                    var c = Conflict(
                        id: Conflict.makeID(["delete", op.kind.rawValue, op.id] + versions.map(\.description).sorted()), kind: .delete,
                        recordKind: op.kind, records: [op.id], field: nil, chapter: home,
                        candidates: try versions.filter { !seen.contains($0) }.map {
                            try side($0, kind: op.kind, record: op.id, field: nil)
                        })
                    c.label = label
                    c.settledBy = settlement(field: nil)
                    out.append(c)
                    continue
                }
                guard kind != .delete else { continue }
                for (field, bases) in contested.sorted(by: { $0.key < $1.key }) {
                    var c = Conflict(
                        id: Conflict.makeID(["field", op.kind.rawValue, op.id, field] + bases.map(\.description).sorted()), kind: .field,
                        recordKind: op.kind, records: [op.id], field: field, chapter: home,
                        candidates: try bases.map { try side($0, kind: op.kind, record: op.id, field: field) })
                    c.label = label
                    c.settledBy = settlement(field: field)
                    out.append(c)
                }
            }
        }
        return out
    }

    /// One side of a settled conflict: the version it replaced, read back from the log.
    private func side(_ v: Version, kind: RecordKind, record: String, field: String?) throws -> Conflict.Candidate {
        let found = try operation(v, kind: kind, record: record)
        let values = found?.2?.values ?? [:]
        return Conflict.Candidate(
            version: v, hlc: found?.0.hlc ?? HLC(packed: 0), keyID: found?.0.keyID ?? "", action: found?.1.action ?? .set, record: record,
            value: field.flatMap { values[$0] }, fields: values, replaced: [], isWinner: false)
    }

    /// What one version of a record wrote, read back from the log.
    private func candidate(_ s: Stamp, kind: RecordKind, record: String, field: String?, isWinner: Bool) throws -> Conflict.Candidate {
        var keyID = "", action = Action.set, values = [String: JSONValue](), replaced = [(Version, JSONValue?)]()
        if let (env, op, payload) = try operation(s.version, kind: kind, record: record) {
            keyID = env.keyID
            action = op.action
            values = payload?.values ?? [:]
            if let field {
                for base in op.bases[field] ?? [] {
                    let old = try operation(base, kind: kind, record: record)?.2?.values[field]
                    replaced.append((base, old))
                }
            }
        }
        return Conflict.Candidate(
            version: s.version, hlc: s.hlc, keyID: keyID, action: action, record: record, value: field.flatMap { values[$0] },
            fields: values, replaced: replaced, isWinner: isWinner)
    }

    private func operation(_ v: Version, kind: RecordKind, record: String) throws -> (Envelope, LogOperation, Payload?)? {
        guard let o = originIDs[v.origin],
            let row = try Row.fetchOne(
                db, sql: "SELECT envelope, payloads FROM entries WHERE rowid = ?", arguments: [Store.rowid(origin: o, seq: v.seq)])
        else { return nil }
        let env = try Envelope(json: try JSONParser.parse([UInt8](row["envelope"] as Data)))
        guard let i = env.operations.firstIndex(where: { $0.kind == kind && $0.id == record }) else { return nil }
        let payloads = try JSONParser.parse([UInt8](row["payloads"] as Data)).arrayValue ?? []
        let payload = i < payloads.count && payloads[i] != .null ? try? Payload(json: payloads[i]) : nil
        return (env, env.operations[i], payload)
    }
}
