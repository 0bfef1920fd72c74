import AcesCore
import Foundation
import GRDB

/// The benchmark's floor: the same member changes upserted into a plain SQLite table in one
/// transaction with one prepared statement, no log, no signatures, no merge.
public enum PlainUpsert {
    /// Upserts `changes` (record id → field values) into a fresh file at `path`; returns seconds.
    /// With `log` (one stored entry's bytes per change), each upsert also appends those bytes to
    /// a log table in the same transaction: the least a design that keeps the signed log writes.
    public static func run(path: String, changes: [(String, [String: JSONValue])], log: [[UInt8]]? = nil) throws -> Double {
        let queue = try DatabaseQueue(path: path)
        let fields = RecordKind.member.fields.map(\.name)
        try queue.write { db in
            try db.execute(sql: "PRAGMA journal_mode = WAL")
            try db.execute(
                sql: "CREATE TABLE members (id TEXT PRIMARY KEY, " + fields.map { "\"\($0)\" TEXT" }.joined(separator: ", ") + ")")
            try db.execute(sql: "CREATE TABLE log (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL)")
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try queue.write { db in
            let sql =
                "INSERT INTO members(id, " + fields.map { "\"\($0)\"" }.joined(separator: ", ") + ") VALUES (?"
                + String(repeating: ", ?", count: fields.count) + ") ON CONFLICT(id) DO UPDATE SET "
                + fields.map { "\"\($0)\" = coalesce(excluded.\"\($0)\", \"\($0)\")" }.joined(separator: ", ")
            let statement = try db.makeStatement(sql: sql)
            let append = try db.makeStatement(sql: "INSERT INTO log(seq, entry) VALUES (?, ?)")
            for (i, (id, values)) in changes.enumerated() {
                var args: [DatabaseValue] = [id.databaseValue]
                for f in fields { args.append(values[f]?.databaseValue ?? .null) }
                statement.setUncheckedArguments(StatementArguments(args))
                try statement.execute()
                if let log {
                    append.setUncheckedArguments([i + 1, Data(log[i])])
                    try append.execute()
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
