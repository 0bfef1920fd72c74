import AcesCore
import Foundation
import GRDB

/// Where an origin's log stands on this replica.
public struct OriginHead: Sendable, Hashable {
    public let origin: ChapterID
    public let seq: Int64
    public let hash: Digest32
    public let hlc: HLC
    /// Why the origin is frozen (after a fork), if it is.
    public let frozen: String?
}

/// A stored entry as read back: the entry, or why its stored bytes cannot be read as one.
public enum HeldEntry: Sendable {
    case intact(Entry)
    case damaged(LogProblem)
}

/// What applying a run of received entries did.
public struct ApplyReport: Sendable {
    /// Entries appended and applied.
    public var applied = 0
    /// Entries already held (same hash), skipped.
    public var duplicates = 0
    /// Why the first refused entry was refused; nothing after it was applied.
    public var refusal: EntryError?
    /// Whether an applied entry erased a record (the caller checkpoints the WAL so the erased
    /// values leave it too).
    public var erased = false
    /// Whether members were left for `Store.indexPendingSearch()` (a large batch).
    public var searchPending = false
    /// Entries after the applied ones that no valid signature vouches for yet: neither applied
    /// nor refused, they wait for a later entry of the origin (the caller hands them back with
    /// the next run, so the verdict does not depend on how the entries were split).
    public var held: [Entry] = []
}

extension Store {
    /// Every origin held, with its head.
    public func heads() throws -> [OriginHead] {
        try pool.read { db in try Store.heads(db) }
    }

    static func heads(_ db: Database) throws -> [OriginHead] {
        try Row.fetchAll(db, sql: "SELECT name, head_seq, head_hash, head_hlc, frozen FROM origins ORDER BY name").compactMap { r in
            guard let o = ChapterID(r["name"]), let h = Digest32(bytes: [UInt8](r["head_hash"] as Data)) else { return nil }
            return OriginHead(origin: o, seq: r["head_seq"], hash: h, hlc: HLC(packed: r["head_hlc"]), frozen: r["frozen"])
        }
    }

    /// Entries of `origin` after `seq`, in order, at most `limit` of them. Throws at the first
    /// stored entry that cannot be read, naming it `origin:seq`.
    public func entries(of origin: ChapterID, after seq: Int64, limit: Int) throws -> [Entry] {
        try storedEntries(of: origin, after: seq, limit: limit).map { stored in
            switch stored {
            case .intact(let e): return e
            case .damaged(let p): throw StoreError.notAReplica("stored entry \(p.origin):\(p.seq) is damaged: \(p.reason)")
            }
        }
    }

    /// Entries of `origin` after `seq`, in order, at most `limit` of them, each read back or
    /// named as damaged (`aces log show` shows the others).
    public func storedEntries(of origin: ChapterID, after seq: Int64, limit: Int) throws -> [HeldEntry] {
        try pool.read { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [origin.rawValue]) else {
                return []
            }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT rowid, envelope, signature, payloads FROM entries WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                arguments: [Store.rowid(origin: id, seq: seq), Store.rowid(origin: id, seq: (1 << 40) - 1), limit])
            var out = [HeldEntry]()
            while let r = try rows.next() {
                do { out.append(.intact(try Store.entry(from: r))) } catch {
                    let seq = (r["rowid"] as Int64) & ((1 << 40) - 1)
                    out.append(.damaged(LogProblem(origin: origin, seq: seq, reason: "\(error)")))
                }
            }
            return out
        }
    }

    static func entry(from r: Row) throws -> Entry {
        guard let envData = Data.fromDatabaseValue(r["envelope"] as DatabaseValue),
            let payloadsData = Data.fromDatabaseValue(r["payloads"] as DatabaseValue),
            let sigData = Data.fromDatabaseValue(r["signature"] as DatabaseValue)
        else { throw EntryError.malformed("a part of the stored entry is missing") }
        let envBytes = [UInt8](envData)
        let env = try Envelope(json: try JSONParser.parse(envBytes))
        guard case .array(let p) = try JSONParser.parse([UInt8](payloadsData)) else {
            throw EntryError.malformed("payloads must be a JSON array")
        }
        return try Entry(envelope: env, envelopeBytes: envBytes, signature: [UInt8](sigData), payloadsJSON: p)
    }

    /// Verifies and applies received entries of one origin, in one transaction. Entries
    /// already held are skipped; a different entry at a held seq is a fork (both kept, the
    /// origin frozen); the first refused entry is quarantined with its reason and nothing
    /// after it is applied.
    public func apply(_ run: [Entry], origin: ChapterID, keys: KeyRing, peer: String? = nil, now: Date = Date()) throws -> ApplyReport {
        try pool.write { db in try Store.apply(db, run, origin: origin, keys: keys, peer: peer, now: now) }
    }

    /// The same as `apply`, from async code, without blocking a cooperative thread.
    public func apply(_ run: [Entry], origin: ChapterID, keys: KeyRing, peer: String? = nil, now: Date = Date()) async throws -> ApplyReport
    {
        try await pool.write { db in try Store.apply(db, run, origin: origin, keys: keys, peer: peer, now: now) }
    }

    /// `records`: the `entry_records` rows of a catch-up's transaction, written before it
    /// commits (`CatchUpSession`); nil writes this run's rows before returning.
    static func apply(
        _ db: Database, _ run: [Entry], origin: ChapterID, keys: KeyRing, peer: String?, now: Date, records: EntryRecords? = nil
    ) throws -> ApplyReport {
        var applier = try Applier(db, roster: OwnershipRoster(keys))
        applier.receivedFrom = peer
        applier.receivedAt = now
        let mark = records?.mark
        if let records { applier.entryRecords = records }
        let o = try applier.origin(origin)
        var report = ApplyReport()
        func quarantine(_ e: Entry, _ why: EntryError) throws { try Store.quarantine(db, e, why, peer: peer, now: now) }
        if o.frozen != nil {
            report.refusal = .frozenOrigin(origin)
            return report
        }
        var fresh = [Entry]()
        for e in run {
            if e.envelope.origin == origin && e.envelope.seq <= o.headSeq && fresh.isEmpty {
                let held = try Data.fetchOne(
                    db, sql: "SELECT hash FROM entries WHERE rowid = ?", arguments: [Store.rowid(origin: o.id, seq: e.envelope.seq)])
                if let held, [UInt8](held) == e.hash.bytes {
                    report.duplicates += 1
                    continue
                }
                // Only an authentic entry is evidence of a fork; a forgery is just refused.
                let before = try Store.chainKey(db, originID: o.id, before: e.envelope.seq)
                if case .success(let signer) = keys.signer(of: e.envelope, after: before), e.isSigned(by: signer) {
                    let why = EntryError.fork(origin: origin, seq: e.envelope.seq)
                    try quarantine(e, why)
                    try db.execute(sql: "UPDATE origins SET frozen = ? WHERE id = ?", arguments: [why.description, o.id])
                    report.refusal = why
                } else {
                    let why = EntryError.badSignature(origin: origin, seq: e.envelope.seq)
                    try quarantine(e, why)
                    report.refusal = why
                }
                return report
            }
            fresh.append(e)
        }
        var verifier = ChainVerifier(
            origin: origin, headSeq: o.headSeq, headHash: o.headHash,
            chainKey: try Store.chainKey(db, originID: o.id, before: o.headSeq + 1), keys: keys)
        let verdict = verifier.verify(fresh)
        var accepted = verdict.accepted
        var refusal = verdict.refusal.flatMap { why in verdict.refusedIndex.map { (index: $0, why: why) } }
        var index = 0
        do {
            try db.inSavepoint {
                for (i, e) in fresh.prefix(accepted).enumerated() {
                    index = i
                    try applier.append(e)
                }
                return .commit
            }
        } catch StoreError.tooManyHeads(let kind, let id, _) {
            // The entry would make a field keep more versions than a state can hold: it is refused
            // whole, and the run is applied again up to it, on a fresh view of the rolled back state.
            applier = try Applier(db, roster: OwnershipRoster(keys))
            applier.receivedFrom = peer
            applier.receivedAt = now
            if let records, let mark {
                records.rewind(to: mark)
                applier.entryRecords = records
            }
            for e in fresh.prefix(index) { try applier.append(e) }
            let e = fresh[index].envelope
            accepted = index
            refusal = (
                index,
                EntryError.malformed(
                    "entry \(e.origin):\(e.seq) would give \(kind.rawValue) \(id) more than \(RecordState.maxHeads) concurrent versions of a field (PROTOCOL.md §3)"
                )
            )
        }
        try applier.finish()
        report.applied = accepted
        if accepted == verdict.accepted { report.held = Array(fresh[verdict.accepted..<(verdict.accepted + verdict.held)]) }
        report.erased = applier.erasedAny
        report.searchPending = applier.searchPending
        if let refusal {
            try quarantine(fresh[refusal.index], refusal.why)
            report.refusal = refusal.why
        }
        return report
    }

    /// Refused entries, newest first.
    public func quarantined(limit: Int = 100) throws -> [(origin: String, seq: Int64, code: String, reason: String, peer: String?)] {
        try pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT origin, seq, code, reason, peer FROM quarantine ORDER BY id DESC LIMIT ?", arguments: [limit]
            ).map { ($0["origin"], $0["seq"], $0["code"], $0["reason"], $0["peer"]) }
        }
    }
}
