import AcesCore
import Foundation
import GRDB

/// What a node knows of one peer's sync, shown by `aces peers`.
public struct PeerStatus: Sendable, Equatable {
    public var chapter: String
    public var lastAttempt: Date?
    public var lastSuccess: Date?
    public var lastError: String?
    public var failures: Int
    /// The peer's clock minus ours, in milliseconds, measured at the last exchange.
    public var skewMillis: Int64?
    /// Per origin, how many entries the peer held that we did not, after the last pass.
    public var lag: [String: Int64]
    /// Entries received from this peer in the last pass.
    public var received: Int
    /// The peer's heads (origin → seq) at the last pass.
    public var heads: [String: Int64] = [:]
    /// The protocol versions the peer said it reads at the last pass (empty: not known yet).
    public var versions: [Int] = []
    /// The signed roster version the peer said it holds at the last pass (nil: not known, or none).
    public var rosterVersion: Int64?

    public init(
        chapter: String, lastAttempt: Date? = nil, lastSuccess: Date? = nil, lastError: String? = nil, failures: Int = 0,
        skewMillis: Int64? = nil, lag: [String: Int64] = [:], received: Int = 0, heads: [String: Int64] = [:]
    ) {
        self.heads = heads
        self.chapter = chapter
        self.lastAttempt = lastAttempt
        self.lastSuccess = lastSuccess
        self.lastError = lastError
        self.failures = failures
        self.skewMillis = skewMillis
        self.lag = lag
        self.received = received
    }
}

/// One stored entry as the federation sends it: a line of JSON built from the stored bytes
/// without parsing them (`{"envelope":…,"payloads":…,"signature":"…"}`, keys in canonical order).
public struct WireChunk: Sendable {
    /// Newline-terminated lines.
    public var bytes: [UInt8]
    public var count: Int
    public var lastSeq: Int64
}

extension Store {
    /// Every origin held, with its head.
    public func heads() async throws -> [OriginHead] {
        try await pool.read { db in try Store.heads(db) }
    }

    /// Up to `limit` entries of `origin` after `seq`, as wire lines.
    public func wireEntries(of origin: ChapterID, after seq: Int64, limit: Int) async throws -> WireChunk {
        try await pool.read { db in
            var chunk = WireChunk(bytes: [], count: 0, lastSeq: seq)
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [origin.rawValue]) else {
                return chunk
            }
            let rows = try Row.fetchCursor(
                db, sql: "SELECT rowid, envelope, signature, payloads FROM entries WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
                arguments: [Store.rowid(origin: id, seq: seq), Store.rowid(origin: id, seq: (1 << 40) - 1), limit])
            chunk.bytes.reserveCapacity(limit * 700)
            while let r = try rows.next() {
                Store.appendWireLine(envelope: r["envelope"], payloads: r["payloads"], signature: r["signature"], to: &chunk.bytes)
                chunk.count += 1
                chunk.lastSeq = (r["rowid"] as Int64) & ((1 << 40) - 1)
            }
            return chunk
        }
    }

    /// Records the outcome of a sync pass with a peer.
    public func record(_ s: PeerStatus) async throws {
        try await pool.write { db in
            let lag = CanonicalJSON.encode(.object(s.lag.mapValues { .number(Double($0)) }))
            try db.execute(
                sql: """
                    INSERT INTO peers(chapter, last_attempt, last_success, last_error, failures, skew_ms, lag, received, heads, versions, roster)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(chapter) DO UPDATE SET last_attempt = excluded.last_attempt, last_success = excluded.last_success,
                        last_error = excluded.last_error, failures = excluded.failures, skew_ms = excluded.skew_ms, lag = excluded.lag,
                        received = excluded.received, heads = excluded.heads, versions = excluded.versions,
                        roster = excluded.roster
                    """,
                arguments: [
                    s.chapter, s.lastAttempt.map { Int64($0.timeIntervalSince1970 * 1000) },
                    s.lastSuccess.map { Int64($0.timeIntervalSince1970 * 1000) }, s.lastError, s.failures, s.skewMillis,
                    String(decoding: lag, as: UTF8.self), s.received,
                    String(decoding: CanonicalJSON.encode(.object(s.heads.mapValues { .number(Double($0)) })), as: UTF8.self),
                    s.versions.map(String.init).joined(separator: ","), s.rosterVersion,
                ])
        }
    }

    /// Every peer's last known sync status.
    public func peerStatuses() throws -> [PeerStatus] { try pool.read(Store.peerStatuses(in:)) }

    /// `peerStatuses()` from async code.
    public func peerStatuses() async throws -> [PeerStatus] { try await pool.read(Store.peerStatuses(in:)) }

    private static func peerStatuses(in db: Database) throws -> [PeerStatus] {
        try Row.fetchAll(db, sql: "SELECT * FROM peers ORDER BY chapter").map { r in
            let lagText: String = r["lag"] ?? "{}"
            let lag = (try? JSONParser.parse(lagText))?.objectValue?.compactMapValues { $0.intValue.map(Int64.init) } ?? [:]
            let headsText: String = r["heads"] ?? "{}"
            let heads = (try? JSONParser.parse(headsText))?.objectValue?.compactMapValues { $0.intValue.map(Int64.init) } ?? [:]
            func date(_ col: String) -> Date? { (r[col] as Int64?).map { Date(timeIntervalSince1970: Double($0) / 1000) } }
            var status = PeerStatus(
                chapter: r["chapter"], lastAttempt: date("last_attempt"), lastSuccess: date("last_success"), lastError: r["last_error"],
                failures: r["failures"], skewMillis: r["skew_ms"], lag: lag, received: r["received"], heads: heads)
            status.versions = ((r["versions"] as String?) ?? "").split(separator: ",").compactMap { Int($0) }
            status.rosterVersion = r["roster"]
            return status
        }
    }

    /// A cheap number that grows whenever any connection, of any process, adds entries to the
    /// file (the sum of every origin's head): a server notices the CLI's writes by it.
    public func changeCounter() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT coalesce(sum(head_seq), 0) FROM origins") ?? 0 }
    }
}

extension Store {
    /// Keeps a received line that could not even be read as an entry, with the reason.
    public func quarantine(origin: ChapterID, seq: Int64, reason: EntryError, peer: String?, raw: [UInt8], now: Date = Date()) async throws
    {
        try await pool.write { db in
            try Store.quarantine(db, origin: origin, seq: seq, reason: reason, peer: peer, bytes: Array(raw.prefix(1 << 16)), now: now)
        }
    }

    /// Keeps `bytes` (an entry, or what was received in its place) in quarantine with the reason.
    static func quarantine(
        _ db: Database, origin: ChapterID, seq: Int64, reason: EntryError, peer: String?, bytes: [UInt8], now: Date
    ) throws {
        try db.execute(
            sql: "INSERT INTO quarantine(origin, seq, code, reason, peer, entry, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [origin.rawValue, seq, reason.code, reason.description, peer, Data(bytes), Int64(now.timeIntervalSince1970)])
    }

    /// Keeps entry `e` in quarantine with the reason (a refusal, or fork evidence).
    static func quarantine(_ db: Database, _ e: Entry, _ why: EntryError, peer: String?, now: Date) throws {
        try quarantine(
            db, origin: e.envelope.origin, seq: e.envelope.seq, reason: why, peer: peer, bytes: CanonicalJSON.encode(e.json), now: now)
    }
}
