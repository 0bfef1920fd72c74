import GRDB

/// The `entry_records` rows (which stored entries operate on which record) of entries being
/// appended, kept until something reads the table or the transaction ends, then inserted in key
/// order. Written as entries arrived, each row landed on a random page of the table's B-tree
/// (record ids are random); in key order consecutive rows share pages. In a C program doing the
/// applier's statements, the rows of 100,000 entries cost about 0.5 CPU seconds written as they
/// came and 0.1 s written sorted, 25,000 per transaction.
///
/// A class: during a catch-up (`CatchUpSession`) the batches of one transaction share it
/// (`deferred`), and the session does not even write them into the table: it appends them, in
/// the order they came, to `entry_records_staged`, and moves them into `entry_records`, sorted,
/// once the catch-up ends (`mergeStaged`). At a million entries the table is a B-tree larger
/// than SQLite's page cache, and inserting even sorted rows every 25,000 entries rewrote most of
/// its leaves each time; staged, a million-entry catch-up reads 17% and writes 10% fewer bytes
/// (docs/BENCHMARKS.md). Whatever reads the table (`prepareForReading`) merges
/// the staged rows first, so a reader never misses an entry, and a node that stops in the middle
/// of a catch-up keeps its staged rows until the next reader or catch-up merges them.
final class EntryRecords {
    private var rows: [(record: String, entry: Int64)] = []
    /// How many of `rows` are in the table already.
    private var written = 0
    /// Whether `Applier.finish()` leaves the rows to the owner (who flushes before committing).
    var deferred = false

    /// Where a batch started: `rewind(to:)` forgets what it added when its savepoint rolls back.
    struct Mark {
        let count: Int
        let written: Int
    }

    var mark: Mark { Mark(count: rows.count, written: written) }

    func add(record: String, entry: Int64) { rows.append((record, entry)) }

    /// Forgets the rows added since `m`, and counts those written since as unwritten (a rolled
    /// back savepoint took them away).
    func rewind(to m: Mark) {
        if rows.count > m.count { rows.removeLast(rows.count - m.count) }
        written = min(written, m.written, rows.count)
    }

    /// Inserts the rows not yet in the table, in key order (the table's order, byte by byte, for
    /// the ASCII ids every version mints; the order only serves locality). `String`'s own order
    /// compares ASCII bytes at once: comparing their UTF-8 views element by element took 3% of
    /// the applying thread in a catch-up's profile.
    func flush(_ db: Database) throws {
        guard written < rows.count else { return }
        let pending = rows[written...].sorted { a, b in a.record == b.record ? a.entry < b.entry : a.record < b.record }
        try insert(pending, into: "entry_records", db)
    }

    /// Appends the rows not yet in the table to `entry_records_staged`, as they came: a catch-up's
    /// transaction ends with this instead of `flush`.
    func stage(_ db: Database) throws {
        guard written < rows.count else { return }
        try insert(rows[written...], into: "entry_records_staged", db)
    }

    /// Makes `entry_records` complete for a reader: the staged rows merged, then these.
    func prepareForReading(_ db: Database) throws {
        try EntryRecords.mergeStaged(db)
        try flush(db)
    }

    private func insert(_ pending: some Collection<(record: String, entry: Int64)>, into table: String, _ db: Database) throws {
        let insert = RawStatement(try db.cachedStatement(sql: "INSERT OR IGNORE INTO \(table)(record, entry) VALUES (?, ?)"))
        for r in pending {
            try insert.bind(1, r.record)
            try insert.bind(2, r.entry)
            try insert.run(db)
        }
        written = rows.count
    }

    /// Moves every staged row into `entry_records`, in key order, `mergeSlice` staged rows at a
    /// time. SQLite sorts in memory up to the size of the page cache, on top of the cache: sorting
    /// a million staged rows at once took the receiver's peak RSS from 120 to 148 MB; a slice of
    /// 100,000 rows sorts in about 6 MB.
    static func mergeStaged(_ db: Database) throws {
        let merge = try db.cachedStatement(
            sql: """
                INSERT OR IGNORE INTO entry_records(record, entry)
                    SELECT record, entry FROM entry_records_staged WHERE rowid <= ? ORDER BY record, entry
                """)
        let delete = try db.cachedStatement(sql: "DELETE FROM entry_records_staged WHERE rowid <= ?")
        while let first = try Int64.fetchOne(db, sql: "SELECT min(rowid) FROM entry_records_staged") {
            let last = first + Int64(mergeSlice) - 1
            try merge.execute(arguments: [last])
            try delete.execute(arguments: [last])
        }
    }

    static let mergeSlice = 100_000
}
