import AcesCore
import Foundation
import GRDB
import GRDBSQLite

/// The directory's full-text index (FTS5 table `member_search`).
///
/// It holds only members a directory may list (not removed, active), with their text and a
/// `scope` column of tokens for who may see them and where they belong, so one FTS5 query
/// answers visibility and filters too. Its rowid sorts like the member's folded name (the first
/// eight letters, then the member's rowid), so FTS5 streams matches in name order and a page
/// stops after its last row: a prefix matching half the directory costs what a rare one does.
struct SearchIndex {
    let db: Database

    init(_ db: Database) throws { self.db = db }

    /// Bits of the FTS rowid taken by the member's own rowid (16.7 million members).
    static let memberBits: Int64 = 24

    /// The FTS rowid of a member: name order first, then the member's rowid.
    static func rowid(nameKey: String, member: Int64) -> Int64 {
        var key: Int64 = 0
        var n = 0
        for u in nameKey.utf8 where n < 8 {
            key = key * 27 + ((97...122).contains(u) ? Int64(u) - 96 : 0)
            n += 1
        }
        while n < 8 {
            key *= 27
            n += 1
        }
        return key << memberBits | (member & ((1 << memberBits) - 1))
    }

    /// The member's rowid inside an FTS rowid.
    static func member(_ ftsRowid: Int64) -> Int64 { ftsRowid & ((1 << memberBits) - 1) }

    /// The scope tokens of a member: `vpublic`, `vmembers` or `vc<chapter>` (chapter-only),
    /// `c<chapter>`, `k<country>`.
    static func scope(visibility: String?, chapter: String?, country: String?) -> String {
        var tokens = [String]()
        switch visibility {
        case "public": tokens.append("vpublic")
        case "members": tokens.append("vmembers")
        case "chapter": if let c = chapter { tokens.append("vc" + c) }
        default: break
        }
        if let c = chapter { tokens.append("c" + c) }
        if let k = country { tokens.append("k" + k.lowercased()) }
        return tokens.joined(separator: " ")
    }

    /// Brings members' index rows up to date with their rows in `members`. Deletes, then
    /// inserts, each in ascending rowid order: FTS5 flushes its pending terms whenever a rowid
    /// goes backwards, so unsorted writes would cost a segment each.
    func reindex(members rowids: some Collection<Int64>) throws {
        guard let top = rowids.max() else { return }
        guard top < 1 << SearchIndex.memberBits else {
            throw StoreError.invalid("the directory's search index holds at most 16,777,215 members")
        }
        // Through SQLite's C API: a bulk reindex reads and writes every member once, and GRDB's
        // named-column rows cost more than the statements (measured in an import's profile).
        let read = RawStatement(
            try db.cachedStatement(
                sql: """
                    SELECT name, name_key, organisation, role, city, bio, visibility, "chapter", country, status, removed, search_rowid
                    FROM members WHERE rowid = ?
                    """))
        var deletes = [Int64]()
        var inserts = [(id: Int64, text: [String?])]()
        var moved = [(member: Int64, to: Int64?)]()
        for rowid in rowids.sorted() {  // the table in order: each page read once
            sqlite3_reset(read.handle)
            try read.bind(1, rowid)
            guard try read.step(db) else { continue }
            let old: Int64? = read.isNull(11) ? nil : read.int64(11)
            if let old { deletes.append(old) }
            var new: Int64?
            if read.int64(10) == 0 && read.text(9) == "active" {
                let id = SearchIndex.rowid(nameKey: read.text(1) ?? "", member: rowid)
                let scope = SearchIndex.scope(visibility: read.text(6), chapter: read.text(7), country: read.text(8))
                inserts.append((id, [read.text(0), read.text(2), read.text(3), read.text(4), read.text(5), scope]))
                new = id
            }
            if new != old { moved.append((rowid, new)) }
        }
        sqlite3_reset(read.handle)
        let delete = RawStatement(try db.cachedStatement(sql: "DELETE FROM member_search WHERE rowid = ?"))
        for d in deletes.sorted() {
            try delete.bind(1, d)
            try delete.run(db)
        }
        let insert = RawStatement(
            try db.cachedStatement(
                sql: "INSERT INTO member_search(rowid, name, organisation, role, city, bio, scope) VALUES (?, ?, ?, ?, ?, ?, ?)"))
        for row in inserts.sorted(by: { $0.id < $1.id }) {
            try insert.bind(1, row.id)
            for (k, t) in row.text.enumerated() { try insert.bind(Int32(k + 2), t) }
            try insert.run(db)
        }
        let update = RawStatement(try db.cachedStatement(sql: "UPDATE members SET search_rowid = ? WHERE rowid = ?"))
        for m in moved {
            if let to = m.to { try update.bind(1, to) } else { try update.bindNull(1) }
            try update.bind(2, m.member)
            try update.run(db)
        }
    }
}

extension SearchIndex {
    /// Bytes of terms FTS5 gathers in memory before it writes them out as a segment, during a
    /// bulk reindex (its default is 1 MiB): fewer, larger segments, and fewer merges of them.
    static let bulkHashSize = 16 << 20

    /// Members a bulk reindex reads and writes at a time: each slice is one sorted pass of FTS5
    /// (a segment or two), and what is held in memory stays a few MB.
    static let bulkSlice = 20_000

    /// `reindex` for many members at once (an import): FTS5 gathers up to `bulkHashSize` of
    /// terms before writing a segment, then its default again, both inside the caller's
    /// transaction (FTS5 keeps the setting in its `_config` table).
    func reindexInBulk(members rowids: some Collection<Int64>) throws {
        try db.execute(sql: "INSERT INTO member_search(member_search, rank) VALUES ('hashsize', ?)", arguments: [SearchIndex.bulkHashSize])
        let sorted = rowids.sorted()
        for start in stride(from: 0, to: sorted.count, by: SearchIndex.bulkSlice) {
            try reindex(members: sorted[start..<min(start + SearchIndex.bulkSlice, sorted.count)])
        }
        try db.execute(sql: "INSERT INTO member_search(member_search, rank) VALUES ('hashsize', ?)", arguments: [1 << 20])
    }
}

extension SearchIndex {
    /// The FTS5 query for a directory search: every word as a prefix in the text columns, and
    /// the scope tokens the viewer may see (and the chapter and country asked for). Words and
    /// tokens are quoted, so nothing typed is read as FTS5 syntax.
    static func match(words: [String], viewer: Viewer, chapter: ChapterID?, country: String?) -> String {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        // A one-letter word among others is a whole word ("o" of "O'Brien"): as a prefix it would
        // expand to every word with that letter.
        var parts = words.map { w in
            "{name organisation role city bio} : " + quoted(w) + (w.count > 1 || words.count == 1 ? "*" : "")
        }
        switch viewer {
        case .visitor: parts.append("scope : \"vpublic\"")
        case .member(_, let c): parts.append("scope : (\"vpublic\" OR \"vmembers\" OR \(quoted("vc" + c.rawValue)))")
        }
        if let chapter { parts.append("scope : " + quoted("c" + chapter.rawValue)) }
        if let country { parts.append("scope : " + quoted("k" + country.lowercased())) }
        return parts.joined(separator: " AND ")
    }
}

extension Store {
    /// Indexes the members large transactions left pending, `batch` per transaction (in rowid
    /// order, so FTS5 appends). Returns how many were indexed. Search results are re-checked
    /// against the members table meanwhile, so a pending member is never shown to someone who
    /// may not see it; it may just be missing from results for a moment.
    @discardableResult
    public func indexPendingSearch(batch: Int = 5000) throws -> Int {
        var done = 0
        while true {
            let n = try pool.write { db in try Store.indexPending(db, batch: batch) }
            done += n
            if n < batch { return done }
        }
    }

    /// `indexPendingSearch()` from async code.
    @discardableResult
    public func indexPendingSearch(batch: Int = 5000) async throws -> Int {
        var done = 0
        while true {
            let n = try await pool.write { db in try Store.indexPending(db, batch: batch) }
            done += n
            if n < batch { return done }
        }
    }

    /// Indexes up to `batch` pending members, lowest rowids first; returns how many.
    private static func indexPending(_ db: Database, batch: Int) throws -> Int {
        let rows = try Int64.fetchAll(db, sql: "SELECT rowid FROM search_pending ORDER BY rowid LIMIT ?", arguments: [batch])
        try SearchIndex(db).reindex(members: rows)
        if let last = rows.last { try db.execute(sql: "DELETE FROM search_pending WHERE rowid <= ?", arguments: [last]) }
        return rows.count
    }
}
