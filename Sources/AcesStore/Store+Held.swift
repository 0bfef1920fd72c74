import AcesCore
import Foundation
import GRDB

/// An origin whose next entries wait: neither applied nor refused (docs/PROTOCOL.md §2).
public struct HeldOrigin: Sendable, Hashable {
    public let origin: String
    /// The first entry that waits.
    public let seq: Int64
    /// `unvouched` (no valid signature behind it yet) or `unknown_version`.
    public let code: String
    public let reason: String
    public let peer: String?
    public let since: Date
}

extension Store {
    /// Records that `origin`'s entries from `seq` on wait, and why; a row already there for
    /// the same seq and reason keeps its first `since`.
    public func hold(origin: ChapterID, seq: Int64, code: String, reason: String, peer: String?, now: Date = Date()) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO held(origin, seq, code, reason, peer, since) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT(origin) DO UPDATE SET
                        since = CASE WHEN held.seq = excluded.seq AND held.code = excluded.code THEN held.since ELSE excluded.since END,
                        seq = excluded.seq, code = excluded.code, reason = excluded.reason, peer = excluded.peer
                    """,
                arguments: [origin.rawValue, seq, code, reason, peer, Int64(now.timeIntervalSince1970)])
        }
    }

    /// Forgets what waited for `origin` once its head has moved past it.
    public func releaseHeld(origin: ChapterID) async throws {
        // Almost always nothing waits: a read spares every pass a write transaction.
        let waits = try await pool.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM held WHERE origin = ?)", arguments: [origin.rawValue]) ?? false
        }
        guard waits else { return }
        try await pool.write { db in
            try db.execute(
                sql: """
                    DELETE FROM held WHERE origin = ?1
                    AND seq <= (SELECT head_seq FROM origins WHERE name = ?1)
                    """, arguments: [origin.rawValue])
        }
    }

    /// Origins whose entries wait, by origin.
    public func heldOrigins() throws -> [HeldOrigin] {
        try pool.read { db in try Store.heldOrigins(db) }
    }

    /// The same as `heldOrigins()`, from async code.
    public func heldOrigins() async throws -> [HeldOrigin] {
        try await pool.read { db in try Store.heldOrigins(db) }
    }

    static func heldOrigins(_ db: Database) throws -> [HeldOrigin] {
        try Row.fetchAll(db, sql: "SELECT origin, seq, code, reason, peer, since FROM held ORDER BY origin").map {
            HeldOrigin(
                origin: $0["origin"], seq: $0["seq"], code: $0["code"], reason: $0["reason"], peer: $0["peer"],
                since: Date(timeIntervalSince1970: TimeInterval($0["since"] as Int64)))
        }
    }
}
