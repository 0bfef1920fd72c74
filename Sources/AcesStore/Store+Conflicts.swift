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
}

extension Draft {
    /// Every open conflict, as it stands inside the authoring transaction.
    public func openConflicts() throws -> [Conflict] { try ConflictFinder(db).all() }

    /// One open conflict by id, as it stands inside the authoring transaction.
    public func conflict(id: String) throws -> Conflict? { try ConflictFinder(db).all().first { $0.id == id } }

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
                if let chapter, r.values["chapter"]?.stringValue != chapter.rawValue { continue }
                if kind != .delete {
                    for index in r.state.conflictedFields where index != RecordState.removedIndex {
                        out.append(try fieldConflict(r, index: index))
                    }
                }
                if kind != .field && r.state.hasDeleteConflict { out.append(try deleteConflict(r)) }
            }
        }
        if kind == nil || kind == .duplicate { out += try duplicates(chapter: chapter) }
        return out.sorted {
            ($0.kind.rawValue, $0.records.joined(separator: ","), $0.field ?? "") < (
                $1.kind.rawValue, $1.records.joined(separator: ","), $1.field ?? ""
            )
        }
    }

    private func fieldConflict(_ r: Record, index: Int) throws -> Conflict {
        let name = r.kind.fields[index].name
        let heads = r.state.fields[index]?.heads ?? []
        let winner = heads.max()
        let candidates = try heads.map { h in try candidate(h, kind: r.kind, record: r.id, field: name, isWinner: h == winner) }
        return Conflict(
            id: Conflict.makeID(["field", r.kind.rawValue, r.id, name] + heads.map(\.version.description).sorted()),
            kind: .field, recordKind: r.kind, records: [r.id], field: name, chapter: r.values["chapter"]?.stringValue,
            candidates: candidates)
    }

    private func deleteConflict(_ r: Record) throws -> Conflict {
        var stamps = Set<Stamp>()
        for (_, fh) in r.state.fields { stamps.formUnion(fh.heads) }
        let removedWins = r.state.isRemoved
        let removals = Set(r.state.fields[RecordState.removedIndex]?.heads ?? [])
        let newestRemoval = removals.max()
        let newestWrite = stamps.subtracting(removals).max()
        let candidates = try stamps.sorted().map { s in
            try candidate(s, kind: r.kind, record: r.id, field: nil, isWinner: removedWins ? s == newestRemoval : s == newestWrite)
        }
        return Conflict(
            id: Conflict.makeID(["delete", r.kind.rawValue, r.id] + stamps.map(\.version.description).sorted()),
            kind: .delete, recordKind: r.kind, records: [r.id], field: nil, chapter: r.values["chapter"]?.stringValue,
            candidates: candidates)
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
            if let chapter, !records.contains(where: { $0.values["chapter"]?.stringValue == chapter.rawValue }) { continue }
            let candidates = try records.compactMap { r -> Conflict.Candidate? in
                guard let first = r.state.fields[1]?.heads.max() else { return nil }
                let c = try candidate(first, kind: .member, record: r.id, field: nil, isWinner: false)
                return Conflict.Candidate(
                    version: c.version, hlc: c.hlc, keyID: c.keyID, action: .set, record: r.id, value: r.values["email"],
                    fields: r.values, replaced: [], isWinner: false)
            }
            out.append(
                Conflict(
                    id: Conflict.makeID(["duplicate"] + ids.sorted()), kind: .duplicate, recordKind: .member, records: ids.sorted(),
                    field: nil,
                    chapter: records.first?.values["chapter"]?.stringValue, candidates: candidates))
        }
        return out
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
