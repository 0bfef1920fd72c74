import AcesCore
import Foundation
import GRDB

/// One operation of a stored entry held without its payload: a `set` that arrived with `null`
/// where this node holds no erasure of the record, so a relay withheld its values. It is not
/// applied until the payload arrives from a peer or an erase of the record is applied
/// (PROTOCOL.md §3.2). Ids and versions only, never values.
public struct WithheldOperation: Sendable, Hashable {
    public let origin: ChapterID
    public let seq: Int64
    /// The operation's index in the entry.
    public let operation: Int
    public let kind: RecordKind
    public let record: String
    /// The peer that sent the entry without the payload (nil when applied outside a sync).
    public let peer: String?
    public let since: Date
}

/// A request for entries whose payloads this node holds as withheld: `after` and `limit` as
/// `GET /federation/v1/entries` takes them, and the seqs of the range that are wanted.
public struct WithheldRequest: Sendable {
    public let origin: ChapterID
    public let after: Int64
    public let limit: Int
    public let seqs: Set<Int64>
}

extension Applier {
    /// The versions of the record's operations held without their payload.
    func withheldVersions(kind: RecordKind, id: String) throws -> Set<Version> {
        var out = Set<Version>()
        for r in try Row.fetchAll(
            db, sql: "SELECT origin, seq FROM withheld WHERE record = ? AND kind = ?", arguments: [id, kind.rawValue])
        {
            if let o = ChapterID(r["origin"]) { out.insert(Version(origin: o, seq: r["seq"])) }
        }
        return out
    }

    /// Whether a received operation must wait for its payload: a `set` without one, on a record
    /// this node does not hold as erased (an erased record legitimately has no values).
    func withholds(_ op: LogOperation, payload: Payload?) throws -> Bool {
        guard op.action == .set, payload == nil else { return false }
        return try readRow(op.kind, id: op.id)?.state.erased != true
    }

    /// Records operation `index` of `env` as withheld: the entry is stored, the operation not applied.
    func withhold(_ op: LogOperation, index: Int, of env: Envelope) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO withheld(origin, seq, op, kind, record, peer, since) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [
                env.origin.rawValue, env.seq, index, op.kind.rawValue, op.id, receivedFrom, Int64(receivedAt.timeIntervalSince1970),
            ])
        hasWithheld = true
    }

    /// Once a record is erased, its withheld operations need no payload: each is applied as every
    /// operation on an erased record is, without values, and waits no more.
    func releaseWithheld(kind: RecordKind, id: String) throws {
        guard hasWithheld else { return }
        let rows = try Row.fetchAll(
            db, sql: "SELECT origin, seq, op FROM withheld WHERE record = ? AND kind = ? ORDER BY origin, seq",
            arguments: [id, kind.rawValue])
        for r in rows {
            guard let origin = ChapterID(r["origin"]), let (env, _) = try storedEntry(origin, seq: r["seq"]) else { continue }
            let index: Int = r["op"]
            try db.execute(
                sql: "DELETE FROM withheld WHERE origin = ? AND seq = ? AND op = ?", arguments: [origin.rawValue, env.seq, index])
            guard env.operations.indices.contains(index) else { continue }
            _ = try apply(env.operations[index], payload: nil, stamp: env.stamp, protocolVersion: env.protocolVersion)
        }
    }

    /// The stored envelope of `origin:seq` and its payloads, if held.
    func storedEntry(_ origin: ChapterID, seq: Int64) throws -> (Envelope, [JSONValue])? {
        guard let o = origins[origin],
            let row = try Row.fetchOne(
                db, sql: "SELECT envelope, payloads FROM entries WHERE rowid = ?", arguments: [Store.rowid(origin: o.id, seq: seq)])
        else { return nil }
        let stored = try StoredEntry(envelope: row["envelope"], payloads: row["payloads"])
        do { return (try Envelope(json: stored.envelope), stored.payloads) } catch {
            throw StoreError.notAReplica("stored entry \(origin):\(seq) is damaged: \(error)")
        }
    }
}

extension Store {
    /// The most withheld entries a sync pass asks one peer for, and the most requests it makes:
    /// the oldest first, in runs spanning at most `withheldAskSpan` seqs each.
    public static let withheldAskEntries = 1_000
    public static let withheldAskRequests = 10
    public static let withheldAskSpan: Int64 = 1_000

    /// Operations waiting for a withheld payload, oldest first, at most `limit`.
    public func withheld(limit: Int = 100) throws -> [WithheldOperation] {
        try pool.read { db in try Store.withheld(db, limit: limit) }
    }

    /// `withheld(limit:)` from async code.
    public func withheld(limit: Int = 100) async throws -> [WithheldOperation] {
        try await pool.read { db in try Store.withheld(db, limit: limit) }
    }

    static func withheld(_ db: Database, limit: Int) throws -> [WithheldOperation] {
        try Row.fetchAll(
            db, sql: "SELECT origin, seq, op, kind, record, peer, since FROM withheld ORDER BY since, origin, seq, op LIMIT ?",
            arguments: [limit]
        ).compactMap { r in
            guard let o = ChapterID(r["origin"]), let kind = RecordKind(rawValue: r["kind"]) else { return nil }
            return WithheldOperation(
                origin: o, seq: r["seq"], operation: r["op"], kind: kind, record: r["record"], peer: r["peer"],
                since: Date(timeIntervalSince1970: Double(r["since"] as Int64)))
        }
    }

    /// How many operations wait for a withheld payload, in all and per peer that sent them stripped.
    public func withheldCounts() throws -> (total: Int, byPeer: [String: Int]) {
        try pool.read { db in try Store.withheldCounts(db) }
    }

    /// `withheldCounts()` from async code.
    public func withheldCounts() async throws -> (total: Int, byPeer: [String: Int]) {
        try await pool.read { db in try Store.withheldCounts(db) }
    }

    static func withheldCounts(_ db: Database) throws -> (total: Int, byPeer: [String: Int]) {
        var byPeer = [String: Int]()
        var total = 0
        for r in try Row.fetchAll(db, sql: "SELECT coalesce(peer, ''), count(*) FROM withheld GROUP BY 1") {
            let n: Int = r[1]
            total += n
            let peer: String = r[0]
            if !peer.isEmpty { byPeer[peer] = n }
        }
        return (total, byPeer)
    }

    /// What to ask a peer for: the oldest withheld entries (at most `withheldAskEntries`),
    /// grouped into at most `withheldAskRequests` runs spanning at most `withheldAskSpan` seqs.
    public func withheldRequests() async throws -> [WithheldRequest] {
        let rows = try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT origin, seq, min(since) AS since FROM withheld GROUP BY origin, seq ORDER BY since, origin, seq LIMIT ?",
                arguments: [Store.withheldAskEntries]
            ).compactMap { r in ChapterID(r["origin"]).map { ($0, r["seq"] as Int64) } }
        }
        var byOrigin = [ChapterID: [Int64]]()
        var order = [ChapterID]()
        for (o, seq) in rows {
            if byOrigin[o] == nil { order.append(o) }
            byOrigin[o, default: []].append(seq)
        }
        var out = [WithheldRequest]()
        for o in order {
            var run = [Int64]()
            for seq in byOrigin[o]!.sorted() {
                if let first = run.first, seq - first >= Store.withheldAskSpan {
                    out.append(WithheldRequest(origin: o, after: first - 1, limit: Int(run.last! - first + 1), seqs: Set(run)))
                    run.removeAll()
                }
                run.append(seq)
            }
            if let first = run.first {
                out.append(WithheldRequest(origin: o, after: first - 1, limit: Int(run.last! - first + 1), seqs: Set(run)))
            }
        }
        return Array(out.prefix(Store.withheldAskRequests))
    }

    /// Takes the payloads of entries this node holds as withheld: for each entry held with the
    /// same hash, each withheld operation whose payload it carries (its digest was checked when
    /// the entry was read) is stored and applied, in one transaction. Returns how many were.
    public func resolveWithheld(_ entries: [Entry]) async throws -> Int {
        let (resolved, searchPending) = try await pool.write { db -> (Int, Bool) in
            let applier = try Applier(db, roster: ownershipRoster)
            var resolved = 0
            for e in entries {
                let env = e.envelope
                let indexes = try Int.fetchAll(
                    db, sql: "SELECT op FROM withheld WHERE origin = ? AND seq = ? ORDER BY op", arguments: [env.origin.rawValue, env.seq])
                guard !indexes.isEmpty, let o = applier.origins[env.origin],
                    let held = try Data.fetchOne(
                        db, sql: "SELECT hash FROM entries WHERE rowid = ?", arguments: [Store.rowid(origin: o.id, seq: env.seq)]),
                    [UInt8](held) == e.hash.bytes, let (_, stored) = try applier.storedEntry(env.origin, seq: env.seq)
                else { continue }
                var payloads = stored
                for i in indexes where e.payloads.indices.contains(i) && payloads.indices.contains(i) {
                    guard let payload = e.payloads[i] else { continue }
                    try db.execute(
                        sql: "DELETE FROM withheld WHERE origin = ? AND seq = ? AND op = ?", arguments: [env.origin.rawValue, env.seq, i])
                    if try applier.apply(env.operations[i], payload: payload, stamp: env.stamp, protocolVersion: env.protocolVersion) {
                        payloads[i] = payload.json
                    }
                    resolved += 1
                }
                if payloads != stored {
                    try db.execute(
                        sql: "UPDATE entries SET payloads = ? WHERE rowid = ?",
                        arguments: [Data(CanonicalJSON.encode(.array(payloads))), Store.rowid(origin: o.id, seq: env.seq)])
                }
            }
            try applier.finish()
            return (resolved, applier.searchPending)
        }
        if searchPending { _ = try await indexPendingSearch() }
        return resolved
    }
}

extension Store {
    /// For `verifyLog`: a stored `set` without its payload is sound only where the record is
    /// erased here, or where the operation is recorded as withheld (then it is listed in
    /// `waiting`, and was never applied). Anything else is a value missing from the state.
    static func missingPayloadProblem(_ db: Database, _ r: Row, origin: ChapterID, seq: Int64, waiting: inout [LogProblem]) throws
        -> String?
    {
        // Only a payloads array with a null in it can hold a missing payload.
        guard [UInt8](r["payloads"] as Data).firstRange(of: Array("null".utf8)) != nil else { return nil }
        let stored = try StoredEntry(envelope: r["envelope"], payloads: r["payloads"])
        guard let ops = stored.envelope["ops"]?.arrayValue else { return nil }
        for (i, op) in ops.enumerated() where op["act"]?.stringValue == "set" && stored.payloads.indices.contains(i) {
            guard case .null = stored.payloads[i], let kindText = op["kind"]?.stringValue, let kind = RecordKind(rawValue: kindText),
                let id = op["id"]?.stringValue
            else { continue }
            if let row = try Row.fetchOne(
                db, sql: "SELECT peer FROM withheld WHERE origin = ? AND seq = ? AND op = ?", arguments: [origin.rawValue, seq, i])
            {
                let from = (row["peer"] as String?).map { " (sent without it by \($0))" } ?? ""
                waiting.append(LogProblem(origin: origin, seq: seq, reason: "operation \(i) waits for its payload\(from)"))
                continue
            }
            if try Record.fetchState(db, kind: kind, id: id)?.erased == true { continue }
            return "operation \(i) is a set without its payload, and \(kind.rawValue) \(id) is neither erased nor waiting for it here"
        }
        return nil
    }
}
