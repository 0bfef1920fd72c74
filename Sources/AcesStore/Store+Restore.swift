import AcesCore
import Foundation
import GRDB

/// A restored node must not author until it has seen its own latest entries: a backup (or an
/// empty disk) may be behind what its peers already hold of its log, and writing from there
/// would fork it. The lock is kept in `meta` and lifted by sync.
public struct RestoreLock: Sendable, Equatable {
    /// How many peers must confirm.
    public let quorum: Int
    /// The peers that did: they held no entry of this node's origin beyond ours after a pass.
    public let confirmed: [String]
}

extension Store {
    static func restoreLock(_ db: Database) throws -> RestoreLock? {
        guard let q = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'restore_quorum'"), let quorum = Int(q)
        else { return nil }
        let list = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'restore_confirmed'") ?? "[]"
        let confirmed = (try? JSONParser.parse(list))?.arrayValue?.compactMap(\.stringValue) ?? []
        return RestoreLock(quorum: quorum, confirmed: confirmed)
    }

    /// The restore lock, if authoring is held back.
    public func restoreLock() throws -> RestoreLock? { try pool.read { db in try Store.restoreLock(db) } }

    /// `restoreLock()` from async code.
    public func restoreLock() async throws -> RestoreLock? { try await pool.read { db in try Store.restoreLock(db) } }

    /// Holds authoring back until `quorum` peers confirm this node's own head.
    public func lockUntilOwnHeadConfirmed(quorum: Int) throws {
        precondition(quorum >= 1, "a restore lock needs at least one peer")
        try pool.write { db in try Store.lock(db, quorum: quorum) }
    }

    /// `lockUntilOwnHeadConfirmed(quorum:)` from async code.
    public func lockUntilOwnHeadConfirmed(quorum: Int) async throws {
        precondition(quorum >= 1, "a restore lock needs at least one peer")
        try await pool.write { db in try Store.lock(db, quorum: quorum) }
    }

    private static func lock(_ db: Database, quorum: Int) throws {
        try db.execute(
            sql: """
                INSERT OR REPLACE INTO meta(key, value) VALUES ('restore_quorum', ?);
                INSERT OR REPLACE INTO meta(key, value) VALUES ('restore_confirmed', '[]');
                """, arguments: [String(quorum)])
    }

    /// Records that `peer` holds nothing of our origin beyond our head; lifts the lock at the
    /// quorum. Returns whether the node may author now.
    @discardableResult
    public func confirmOwnHead(by peer: String) async throws -> Bool {
        try await pool.write { db in
            guard let lock = try Store.restoreLock(db) else { return true }
            var confirmed = lock.confirmed
            if !confirmed.contains(peer) { confirmed.append(peer) }
            if confirmed.count >= lock.quorum {
                try db.execute(sql: "DELETE FROM meta WHERE key IN ('restore_quorum', 'restore_confirmed')")
                return true
            }
            try db.execute(
                sql: "UPDATE meta SET value = ? WHERE key = 'restore_confirmed'",
                arguments: [String(decoding: CanonicalJSON.encode(.array(confirmed.map { .string($0) })), as: UTF8.self)])
            return false
        }
    }

    /// A consistent copy of the whole replica at `path` (`VACUUM INTO`), safe while the node
    /// serves; refuses to overwrite. The copy is made readable by its owner only.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError.invalid("\(path) exists already; choose a new file name")
        }
        // Written beside the target under another name, then linked into place (which refuses to
        // overwrite): a failed copy (disk full, file size limit, folder removed) leaves no file
        // that would block the retry.
        let partial = path + ".partial-\(getpid())"
        defer { unlink(partial) }
        do {
            try pool.writeWithoutTransaction { db in try db.execute(sql: "VACUUM INTO ?", arguments: [partial]) }
        } catch let e as DatabaseError {
            throw StoreError.invalid(
                "cannot write the backup \(path): \((e.message ?? "SQLite error \(e.resultCode.rawValue)").replacingOccurrences(of: partial, with: path)); check that the folder exists, is writable and has free space, then try again"
            )
        }
        guard chmod(partial, 0o600) == 0, link(partial, path) == 0 else {
            let reason = String(cString: strerror(errno))
            throw StoreError.invalid("cannot create the backup \(path): \(reason); choose a new file name in a writable folder")
        }
    }
}
