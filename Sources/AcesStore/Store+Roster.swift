import AcesCore
import Foundation
import GRDB

/// A signed roster document as this node keeps it; verified by the caller (`LiveRoster`, AcesNodeFiles) before it is saved.
public struct StoredRoster: Sendable, Equatable {
    public var version: Int64
    /// The document exactly as received (JSON text).
    public var document: String
    /// The peer it came from (nil: installed locally).
    public var peer: String?

    public init(version: Int64, document: String, peer: String?) {
        self.version = version
        self.document = document
        self.peer = peer
    }
}

/// A roster document this node refused, with the reason.
public struct RosterRefusal: Sendable, Equatable {
    public var version: Int64?
    public var peer: String?
    public var reason: String
    public var at: Date
}

extension Store {
    /// The roster in force: the highest version accepted, if any.
    public func currentRoster() throws -> StoredRoster? { try pool.read(Store.currentRoster(in:)) }

    /// `currentRoster()` from async code.
    public func currentRoster() async throws -> StoredRoster? { try await pool.read(Store.currentRoster(in:)) }

    /// Only the version in force (cheap: a server polls it to notice the CLI's installs).
    public func currentRosterVersion() async throws -> Int64? {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(version) FROM roster") }
    }

    private static func currentRoster(in db: Database) throws -> StoredRoster? {
        try Row.fetchOne(db, sql: "SELECT version, document, peer FROM roster ORDER BY version DESC LIMIT 1").map {
            StoredRoster(version: $0["version"], document: $0["document"], peer: $0["peer"])
        }
    }

    /// Keeps `roster` if its version is higher than the one in force; false (nothing written) otherwise.
    @discardableResult
    public func saveRoster(_ roster: StoredRoster, now: Date = Date()) async throws -> Bool {
        try await pool.write { db in try Store.saveRoster(roster, in: db, now: now) }
    }

    /// `saveRoster` from synchronous code (the CLI).
    @discardableResult
    public func saveRoster(_ roster: StoredRoster, now: Date = Date()) throws -> Bool {
        try pool.write { db in try Store.saveRoster(roster, in: db, now: now) }
    }

    private static func saveRoster(_ roster: StoredRoster, in db: Database, now: Date) throws -> Bool {
        let held = try Int64.fetchOne(db, sql: "SELECT max(version) FROM roster") ?? 0
        guard roster.version > held else { return false }
        try db.execute(
            sql: "INSERT INTO roster(version, document, peer, accepted) VALUES (?, ?, ?, ?)",
            arguments: [roster.version, roster.document, roster.peer, Int64(now.timeIntervalSince1970 * 1000)])
        return true
    }

    /// Records a refused roster document (the last 100 are kept).
    public func refuseRoster(version: Int64?, peer: String?, reason: String, now: Date = Date()) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT INTO roster_refusals(version, peer, reason, at) VALUES (?, ?, ?, ?)",
                arguments: [version, peer, reason, Int64(now.timeIntervalSince1970 * 1000)])
            try db.execute(sql: "DELETE FROM roster_refusals WHERE id <= (SELECT max(id) FROM roster_refusals) - 100")
        }
    }

    /// The refused roster documents, newest first.
    public func rosterRefusals() throws -> [RosterRefusal] { try pool.read(Store.rosterRefusals(in:)) }

    /// `rosterRefusals()` from async code.
    public func rosterRefusals() async throws -> [RosterRefusal] { try await pool.read(Store.rosterRefusals(in:)) }

    private static func rosterRefusals(in db: Database) throws -> [RosterRefusal] {
        try Row.fetchAll(db, sql: "SELECT version, peer, reason, at FROM roster_refusals ORDER BY id DESC").map {
            RosterRefusal(
                version: $0["version"], peer: $0["peer"], reason: $0["reason"],
                at: Date(timeIntervalSince1970: Double($0["at"] as Int64) / 1000))
        }
    }
}
