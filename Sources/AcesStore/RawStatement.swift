import AcesCore
import Foundation
import GRDB
import GRDBSQLite

/// Binds and steps a cached GRDB statement through SQLite's C API, for the few statements run
/// once per applied operation: GRDB's general argument and row types cost more than the
/// statements themselves there. Everything else uses GRDB's API.
struct RawStatement {
    let statement: Statement
    var handle: SQLiteStatement { statement.sqliteStatement }
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        self.statement = statement
        sqlite3_reset(statement.sqliteStatement)
        sqlite3_clear_bindings(statement.sqliteStatement)
    }

    /// Fails with the SQLite code when a bind did not succeed (a wrong index, a value too big).
    private func check(_ code: Int32) throws {
        guard code == SQLITE_OK else {
            throw StoreError.fromSQLite(code, String(cString: sqlite3_errstr(code)))
        }
    }

    func bind(_ i: Int32, _ v: Int64) throws { try check(sqlite3_bind_int64(handle, i, v)) }
    func bind(_ i: Int32, _ v: String) throws { try check(sqlite3_bind_text(handle, i, v, -1, RawStatement.transient)) }
    func bind(_ i: Int32, _ v: [UInt8]) throws {
        try check(v.withUnsafeBytes { sqlite3_bind_blob(handle, i, $0.baseAddress, Int32($0.count), RawStatement.transient) })
    }
    func bindNull(_ i: Int32) throws { try check(sqlite3_bind_null(handle, i)) }
    func bind(_ i: Int32, _ v: String?) throws { if let v { try bind(i, v) } else { try bindNull(i) } }

    /// Binds a field value the way `JSONValue.databaseValue` stores it.
    func bind(_ i: Int32, _ v: JSONValue) throws {
        switch v {
        case .null: try bindNull(i)
        case .bool(let b): try bind(i, Int64(b ? 1 : 0))
        case .string(let s): try bind(i, s)
        case .number(let d):
            if d == d.rounded() && abs(d) < 9.0e15 { try bind(i, Int64(d)) } else { try check(sqlite3_bind_double(handle, i, d)) }
        case .array, .object: try bind(i, String(decoding: CanonicalJSON.encode(v), as: UTF8.self))
        }
    }

    /// Steps once; true when a row is available. A failure keeps SQLite's code (`.busy` when
    /// the database is locked): only a damaged file is `.notAReplica`.
    func step(_ db: Database) throws -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code:
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            if code & 0xFF == SQLITE_CORRUPT || code & 0xFF == SQLITE_NOTADB {
                throw StoreError.notAReplica("SQLite error \(code): \(message)")
            }
            throw StoreError.fromSQLite(code, message)
        }
    }

    /// Runs a statement that returns no row.
    func run(_ db: Database) throws {
        _ = try step(db)
        sqlite3_reset(handle)
    }

    func int64(_ col: Int32) -> Int64 { sqlite3_column_int64(handle, col) }
    func isNull(_ col: Int32) -> Bool { sqlite3_column_type(handle, col) == SQLITE_NULL }
    func bytes(_ col: Int32) -> [UInt8] {
        let n = Int(sqlite3_column_bytes(handle, col))
        guard n > 0, let p = sqlite3_column_blob(handle, col) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
    }
    func text(_ col: Int32) -> String? {
        guard !isNull(col), let p = sqlite3_column_text(handle, col) else { return nil }
        return String(cString: p)
    }
}
