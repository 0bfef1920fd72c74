import AcesCore
import Foundation
import GRDB

/// An erasure authored on this node.
public struct Erasure: Sendable {
    public let kind: RecordKind
    public let record: String
    /// The erase entry.
    public let version: Version
    public let reason: String
    public let erasedAt: Date
}

extension Store {
    /// Erases a record for good (GDPR Art. 17): a signed erase entry that removes its values
    /// from the state and from every stored entry here and on every node it reaches; the
    /// digests stay, so logs still verify. The reason is kept on this node only. The WAL is
    /// checkpointed so the values leave it too.
    @discardableResult
    public func erase(_ kind: RecordKind, id: String, reason: String, as author: Author, now: Date = Date()) throws -> Entry {
        let entry = try pool.write { db -> Entry in
            guard let state = try Record.fetchState(db, kind: kind, id: id) else { throw StoreError.notFound(kind, id) }
            guard !state.erased else { throw StoreError.alreadyErased(kind, id) }
            guard let e = try authorEntries(db, as: author, count: 1, { _, _ in [.erase(kind, id: id)] }).first else {
                throw StoreError.invalid("nothing to erase")
            }
            try db.execute(
                sql: "INSERT INTO erasures(record, kind, origin, seq, reason, erased_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [id, kind.rawValue, e.envelope.origin.rawValue, e.envelope.seq, reason, Int64(now.timeIntervalSince1970)])
            return e
        }
        do { try purgeErasedTraces() } catch {
            throw StoreError.purgeIncomplete(kind, id, cause: (error as? StoreError)?.description ?? "\(error)")
        }
        return entry
    }

    /// The erasure of a record, as this node knows it: the erase entry, and the reason if it was
    /// authored here. Nil when the record is not erased here.
    public func erasure(of kind: RecordKind, id: String) throws -> (version: Version, reason: String?)? {
        try pool.read { db in
            if let r = try Row.fetchOne(db, sql: "SELECT origin, seq, reason FROM erasures WHERE record = ?", arguments: [id]),
                let o = ChapterID(r["origin"])
            {
                return (Version(origin: o, seq: r["seq"]), r["reason"])
            }
            guard let state = try Record.fetchState(db, kind: kind, id: id), state.erased,
                let removal = state.fields[RecordState.removedIndex]?.heads.max()
            else { return nil }
            return (removal.version, nil)
        }
    }

    /// After an erasure: merges the search index's segments (so the erased member's words leave
    /// the older segments too), then checkpoints and truncates the WAL. With secure_delete on,
    /// the freed pages are zeroed.
    public func purgeErasedTraces() throws {
        try pool.writeWithoutTransaction { db in try Store.purge(db) }
    }

    /// `purgeErasedTraces()` from async code.
    public func purgeErasedTraces() async throws {
        try await pool.writeWithoutTransaction { db in try Store.purge(db) }
    }

    private static func purge(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO member_search(member_search) VALUES ('optimize')")
        _ = try db.checkpoint(.truncate)
    }

    /// Checkpoints the WAL into the main file and truncates it, from async code.
    public func checkpoint() async throws {
        try await pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }
}
