import AcesCore
import Foundation
import GRDB

/// A record as the replica holds it now: the winning value of each field, and its merge state.
public struct Record: Sendable, Hashable {
    public let kind: RecordKind
    public let id: String
    /// Field name → winning value; fields without a value are absent.
    public let values: [String: JSONValue]
    /// Removed (deleted or erased) records are kept as tombstones.
    public let removed: Bool
    /// Per field: heads, and whether the record was erased.
    public let state: RecordState
    /// How many operations were applied to the record (the same on every node holding the same
    /// entries): an event's iCalendar SEQUENCE.
    public let revision: Int

    /// The record as a JSON object: `id` and every field with a value.
    public var json: JSONValue {
        var o = values
        o["id"] = .string(id)
        if removed { o["removed"] = .bool(true) }
        return .object(o)
    }

    /// Field names that have more than one head.
    public var conflictedFields: [String] {
        state.conflictedFields.map { $0 == RecordState.removedIndex ? LogOperation.removedField : kind.fields[$0].name }
    }

    /// What a write of `values` must carry: the values that differ from the record's, and those of
    /// fields in conflict even when equal to the winner shown (writing it settles the conflict).
    public func changes(_ values: [String: JSONValue]) -> [String: JSONValue] {
        values.filter { name, value in
            (self.values[name] ?? .null) != value || kind.field(name).map { (state.fields[$0.index]?.heads.count ?? 0) > 1 } == true
        }
    }

    static func columns(_ kind: RecordKind) -> String {
        "id, removed, state, revision, " + kind.fields.map { "\"\($0.name)\"" }.joined(separator: ", ")
    }

    init(kind: RecordKind, row: Row) throws {
        self.kind = kind
        self.id = row["id"]
        self.removed = row["removed"]
        self.revision = row["revision"]
        guard let s = RecordState(encoded: [UInt8](row["state"] as Data)) else {
            throw StoreError.notAReplica("the state of \(kind.rawValue) \(row["id"] as String) is damaged")
        }
        self.state = s
        var values = [String: JSONValue]()
        for f in kind.fields {
            let dbv: DatabaseValue = row[f.name]
            switch dbv.storage {
            case .null: continue
            case .int64(let i): values[f.name] = .number(Double(i))
            case .double(let d): values[f.name] = .number(d)
            case .string(let s):
                if f.type == .urlList, let v = try? JSONParser.parse(Array(s.utf8)) {
                    values[f.name] = v
                } else {
                    values[f.name] = .string(s)
                }
            case .blob: continue
            }
        }
        self.values = values
    }

    static func fetch(_ db: Database, kind: RecordKind, id: String) throws -> Record? {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(columns(kind)) FROM \(kind.table) WHERE id = ?", arguments: [id])
        else { return nil }
        return try Record(kind: kind, row: row)
    }

    static func fetchState(_ db: Database, kind: RecordKind, id: String) throws -> RecordState? {
        let statement = try db.cachedStatement(sql: "SELECT state FROM \(kind.table) WHERE id = ?")
        guard let data = try Data.fetchOne(statement, arguments: [id]) else {
            return nil
        }
        guard let s = RecordState(encoded: [UInt8](data)) else {
            throw StoreError.notAReplica("the state of \(kind.rawValue) \(id) is damaged")
        }
        return s
    }
}

/// Which records a listing shows.
public struct RecordFilter: Sendable {
    public var chapter: ChapterID?
    /// Words that must all appear (case-insensitively) in the record's text fields.
    public var text: String?
    public var includeRemoved = false
    public var limit = 1000
    public var offset = 0

    public init(chapter: ChapterID? = nil, text: String? = nil, includeRemoved: Bool = false, limit: Int = 1000, offset: Int = 0) {
        self.chapter = chapter
        self.text = text
        self.includeRemoved = includeRemoved
        self.limit = limit
        self.offset = offset
    }
}

extension Store {
    /// One record, removed ones included; nil if this replica never saw it.
    public func record(_ kind: RecordKind, id: String) throws -> Record? {
        try pool.read { db in try Record.fetch(db, kind: kind, id: id) }
    }

    /// `record(_:id:)` from async code.
    public func record(_ kind: RecordKind, id: String) async throws -> Record? {
        try await pool.read { db in try Record.fetch(db, kind: kind, id: id) }
    }

    /// Records of a kind matching the filter, members by name and events by start.
    public func records(_ kind: RecordKind, filter: RecordFilter = RecordFilter()) throws -> [Record] {
        var clauses = [String]()
        var args = [DatabaseValue]()
        if !filter.includeRemoved { clauses.append("removed = 0") }
        if let c = filter.chapter {
            clauses.append("\"chapter\" = ?")
            args.append(c.rawValue.databaseValue)
        }
        let textFields = kind == .member ? ["name", "organisation", "role", "city", "bio"] : ["title", "description", "venue"]
        // Case and accents folded on both sides, as the directory's search does: `zoe` finds Zoë.
        for word in SearchText.fold(filter.text ?? "").split(whereSeparator: { $0.isWhitespace }) {
            let pattern =
                "%"
                + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
            clauses.append("(" + textFields.map { "aces_fold(\"\($0)\") LIKE ? ESCAPE '\\'" }.joined(separator: " OR ") + ")")
            args.append(contentsOf: Array(repeating: pattern.databaseValue, count: textFields.count))
        }
        let order = kind == .member ? "\"name\" COLLATE NOCASE, id" : "\"start\", id"
        let sql =
            "SELECT \(Record.columns(kind)) FROM \(kind.table)"
            + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ")) + " ORDER BY \(order) LIMIT ? OFFSET ?"
        args.append(filter.limit.databaseValue)
        args.append(filter.offset.databaseValue)
        return try pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { try Record(kind: kind, row: $0) }
        }
    }
}
