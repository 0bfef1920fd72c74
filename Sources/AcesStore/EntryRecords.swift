import GRDB

/// The `entry_records` rows (which stored entries operate on which record) of entries being
/// appended, kept until something reads the table or the transaction ends, then inserted in key
/// order. Written as entries arrived, each row landed on a random page of the table's B-tree
/// (record ids are random); in key order consecutive rows share pages. In a C program doing the
/// applier's statements, the rows of 100,000 entries cost about 0.5 CPU seconds written as they
/// came and 0.1 s written sorted, 25,000 per transaction.
///
/// A class: during a catch-up (`CatchUpSession`) the batches of one transaction share it, so
/// the rows of the whole transaction are sorted together (`deferred`).
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
        let insert = RawStatement(try db.cachedStatement(sql: "INSERT OR IGNORE INTO entry_records(record, entry) VALUES (?, ?)"))
        for r in pending {
            try insert.bind(1, r.record)
            try insert.bind(2, r.entry)
            try insert.run(db)
        }
        written = rows.count
    }
}
