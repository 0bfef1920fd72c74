import AcesCore
import Foundation
import GRDB

/// Where a frozen origin forked: the seq at which two authentic entries with different hashes
/// were seen, and the peer that brought the rival entry (ids only).
public struct ForkRecord: Sendable, Equatable {
    public let origin: ChapterID
    public let seq: Int64
    public let peer: String?
}

/// What fork evidence fetched from a peer proved.
public enum ForkVerdict: Sendable, Equatable {
    /// Two authentic entries of one `(origin, seq)` with different hashes: the origin is frozen here now.
    case frozen(ForkRecord)
    /// The origin was frozen here already.
    case alreadyFrozen
    /// Not evidence of a fork (not two entries of one seq with different hashes, or not both
    /// authentic: a forgery is quarantined, never believed). Nothing is frozen.
    case refused(EntryError?)
}

extension Store {
    /// The hash of `origin`'s entry `seq` on this replica, if it holds it.
    public func entryHash(of origin: ChapterID, at seq: Int64) throws -> Digest32? {
        try pool.read { db in try Store.entryHash(db, origin, seq) }
    }

    /// `entryHash(of:at:)` from async code.
    public func entryHash(of origin: ChapterID, at seq: Int64) async throws -> Digest32? {
        try await pool.read { db in try Store.entryHash(db, origin, seq) }
    }

    static func entryHash(_ db: Database, _ origin: ChapterID, _ seq: Int64) throws -> Digest32? {
        guard seq >= 1, seq < 1 << 40,
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [origin.rawValue]),
            let hash = try Data.fetchOne(
                db, sql: "SELECT hash FROM entries WHERE rowid = ?", arguments: [Store.rowid(origin: id, seq: seq)])
        else { return nil }
        return Digest32(bytes: [UInt8](hash))
    }

    /// Every frozen origin with the seq where it forked (from the first fork evidence kept).
    public func forks() throws -> [ForkRecord] { try pool.read(Store.forks(in:)) }

    /// `forks()` from async code.
    public func forks() async throws -> [ForkRecord] { try await pool.read(Store.forks(in:)) }

    static func forks(in db: Database) throws -> [ForkRecord] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT q.origin, q.seq, q.peer FROM quarantine q JOIN origins o ON o.name = q.origin
                WHERE o.frozen IS NOT NULL AND q.id = (SELECT min(id) FROM quarantine WHERE origin = q.origin AND code = 'fork')
                ORDER BY q.origin
                """
        ).compactMap { r in ChapterID(r["origin"]).map { ForkRecord(origin: $0, seq: r["seq"], peer: r["peer"]) } }
    }

    /// The two entries of a frozen origin's fork, as the federation sends them (wire lines):
    /// the one held at that seq, if any, and the rival(s) kept as evidence. Empty when `origin`
    /// is not frozen here.
    public func forkEvidence(of origin: ChapterID) async throws -> [[UInt8]] {
        try await pool.read { db in
            guard let fork = try Store.forks(in: db).first(where: { $0.origin == origin }) else { return [] }
            var lines = [[UInt8]]()
            var hashes = Set<Digest32>()
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [origin.rawValue])
            let row = try id.flatMap { id in
                try Row.fetchOne(
                    db, sql: "SELECT rowid, envelope, signature, payloads FROM entries WHERE rowid = ?",
                    arguments: [Store.rowid(origin: id, seq: fork.seq)])
            }
            if let row {
                let held = try Store.entry(from: row)
                lines.append(CanonicalJSON.encode(held.json))
                hashes.insert(held.hash)
            }
            let rivals = try Data.fetchAll(
                db, sql: "SELECT entry FROM quarantine WHERE origin = ? AND seq = ? AND code = 'fork' ORDER BY id",
                arguments: [origin.rawValue, fork.seq])
            for raw in rivals where lines.count < 2 {
                guard let e = try? Entry(wireLine: [UInt8](raw)), hashes.insert(e.hash).inserted else { continue }
                lines.append([UInt8](raw))
            }
            return lines
        }
    }

    /// Freezes `origin` on a peer's evidence of a fork: two entries of one `(origin, seq)` with
    /// different hashes, both authentic (signed by the key valid at that seq, by this replica's
    /// own knowledge of the origin's keys). The entries this node does not hold at that seq are
    /// kept in quarantine as the evidence. A peer's word alone freezes nothing: a forged entry
    /// is quarantined as such and the origin stays as it is.
    public func takeForkEvidence(_ pair: [Entry], origin: ChapterID, keys: KeyRing, peer: String?, now: Date = Date()) async throws
        -> ForkVerdict
    {
        try await pool.write { db in
            guard pair.count == 2, pair.allSatisfy({ $0.envelope.origin == origin }), pair[0].envelope.seq == pair[1].envelope.seq,
                pair[0].hash != pair[1].hash
            else { return .refused(nil) }
            let known = try Row.fetchOne(db, sql: "SELECT id, frozen FROM origins WHERE name = ?", arguments: [origin.rawValue])
            if (known?["frozen"] as String?) != nil { return .alreadyFrozen }
            let seq = pair[0].envelope.seq
            let before = try known.flatMap { try Store.chainKey(db, originID: $0["id"], before: seq) }
            for e in pair {
                guard case .success(let signer) = keys.signer(of: e.envelope, after: before), e.isSigned(by: signer) else {
                    let why = EntryError.badSignature(origin: origin, seq: seq)
                    try Store.quarantine(db, e, why, peer: peer, now: now)
                    return .refused(why)
                }
            }
            let held = try Store.entryHash(db, origin, seq)
            let why = EntryError.fork(origin: origin, seq: seq)
            for e in pair where e.hash != held { try Store.quarantine(db, e, why, peer: peer, now: now) }
            let id = try Applier(db).origin(origin).id
            try db.execute(sql: "UPDATE origins SET frozen = ? WHERE id = ?", arguments: [why.description, id])
            return .frozen(ForkRecord(origin: origin, seq: seq, peer: peer))
        }
    }
}
