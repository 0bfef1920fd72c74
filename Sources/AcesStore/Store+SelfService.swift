import AcesCore
import Foundation
import GRDB

/// One change to a record, as its log shows it.
public struct RecordChange: Sendable, Hashable {
    /// The entry (`origin:seq`): the chapter that signed it and its place in that chapter's log.
    public let version: Version
    /// When, by the entry's hybrid logical clock (milliseconds since 1970).
    public let millis: Int64
    /// Who made it: the member themself (`"by": "member"`) or the chapter's admins.
    public let byMember: Bool
    /// `set`, `delete` or `erase`.
    public let action: String
    /// The fields it wrote (for a `set`); `_removed` stands for a removal or a return.
    public let fields: [String]
    /// The values it wrote, when still held (nil once erased or withheld).
    public let values: [String: JSONValue]?

    public var json: JSONValue {
        [
            "entry": .string(version.description), "chapter": .string(version.origin.rawValue),
            "at": .string(Instant.format(Date(timeIntervalSince1970: Double(millis) / 1000))),
            "by": .string(byMember ? "member" : "admin"), "action": .string(action), "fields": .array(fields.map { .string($0) }),
            "values": values.map { .object($0) } ?? .null,
        ]
    }
}

/// A sign-in link or a session of a member, as listed (never the secret).
public struct AccessGrant: Sendable, Hashable {
    /// `link` or `session`.
    public let kind: String
    public let createdAt: Date
    public let expiresAt: Date
    /// When it was used (a link), ended or revoked; nil while live.
    public let revokedAt: Date?

    public func json(now: Date = Date()) -> JSONValue {
        func t(_ d: Date) -> JSONValue { .string(Instant.format(d)) }
        let live = revokedAt == nil && expiresAt > now
        return [
            "kind": .string(kind), "created": t(createdAt), "expires": t(expiresAt), "ended": revokedAt.map(t) ?? .null,
            "live": .bool(live),
        ]
    }
}

/// An erasure a member asked for from their profile.
public struct ErasureRequest: Sendable, Hashable {
    public let member: String
    public let requestedAt: Date
    /// Set when the chapter's admins declined it.
    public let declinedAt: Date?
    /// Set once the member is erased (here or by an erase entry from another node).
    public let erased: Bool

    /// `pending`, `declined` or `erased`.
    public var state: String { erased ? "erased" : declinedAt != nil ? "declined" : "pending" }

    public var json: JSONValue {
        [
            "member": .string(member), "requested": .string(Instant.format(requestedAt)), "state": .string(state),
            "declined": declinedAt.map { .string(Instant.format($0)) } ?? .null,
        ]
    }
}

/// What a signed-in member may see of their own data, and the erasures they asked for.
extension Store {
    /// Every change to a record held in this node's log, oldest first, found through the
    /// `entry_records` index (and the rows an unfinished catch-up staged, see `EntryRecords`).
    public func history(_ kind: RecordKind, id: String) async throws -> [RecordChange] {
        try await pool.read { db in try Store.history(db, kind: kind, id: id) }
    }

    /// `history(_:id:)` from synchronous code (the CLI).
    public func history(_ kind: RecordKind, id: String) throws -> [RecordChange] {
        try pool.read { db in try Store.history(db, kind: kind, id: id) }
    }

    static func history(_ db: Database, kind: RecordKind, id: String) throws -> [RecordChange] {
        guard RecordID.isValid(id) else { return [] }
        let rows = try Row.fetchCursor(
            db,
            sql: """
                SELECT rowid, envelope, signature, payloads FROM entries
                WHERE rowid IN (
                    SELECT entry FROM entry_records WHERE record = ?1
                    UNION SELECT entry FROM entry_records_staged WHERE record = ?1)
                ORDER BY hlc, rowid
                """, arguments: [id])
        var out = [RecordChange]()
        while let r = try rows.next() {
            guard let e = try? Store.entry(from: r) else { continue }
            for (i, op) in e.envelope.operations.enumerated() where op.kind == kind && op.id == id {
                out.append(
                    RecordChange(
                        version: e.envelope.version, millis: e.envelope.hlc.millis, byMember: e.envelope.byMember,
                        action: op.action.rawValue, fields: op.bases.keys.sorted(),
                        values: i < e.payloads.count ? e.payloads[i]?.values : nil))
            }
        }
        return out
    }

    /// A member's sign-in links and sessions on this node, newest first.
    public func access(of member: String) async throws -> [AccessGrant] {
        try await pool.read { db in
            var out = [AccessGrant]()
            for (table, kind) in [("sessions", "session"), ("invites", "link")] {
                for r in try Row.fetchAll(
                    db, sql: "SELECT created_at, expires_at, revoked_at FROM \(table) WHERE member = ?", arguments: [member])
                {
                    func d(_ t: Int64) -> Date { Date(timeIntervalSince1970: Double(t)) }
                    out.append(
                        AccessGrant(
                            kind: kind, createdAt: d(r["created_at"]), expiresAt: d(r["expires_at"]),
                            revokedAt: (r["revoked_at"] as Int64?).map(d)))
                }
            }
            return out.sorted { $0.createdAt > $1.createdAt }
        }
    }

    /// Records that a member asked to be erased, for the chapter's admins to review. Asking
    /// again after a decline asks anew.
    public func requestErasure(of member: String, now: Date = Date()) throws {
        try pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO erasure_requests(member, requested_at) VALUES (?, ?)
                    ON CONFLICT(member) DO UPDATE SET requested_at = excluded.requested_at, declined_at = NULL
                    """, arguments: [member, Int64(now.timeIntervalSince1970)])
        }
    }

    /// Declines a pending erasure request; false when there is none for this member.
    @discardableResult
    public func declineErasure(of member: String, now: Date = Date()) throws -> Bool {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE erasure_requests SET declined_at = ? WHERE member = ? AND declined_at IS NULL",
                arguments: [Int64(now.timeIntervalSince1970), member])
            return db.changesCount == 1
        }
    }

    /// The erasure requests held here, newest first; `pendingOnly` leaves out declined and done ones.
    public func erasureRequests(pendingOnly: Bool = false) throws -> [ErasureRequest] {
        try pool.read { db in try Store.erasureRequests(db, member: nil, pendingOnly: pendingOnly) }
    }

    /// `erasureRequests(pendingOnly:)` from async code.
    public func erasureRequests(pendingOnly: Bool = false) async throws -> [ErasureRequest] {
        try await pool.read { db in try Store.erasureRequests(db, member: nil, pendingOnly: pendingOnly) }
    }

    /// The erasure request of one member, or nil.
    public func erasureRequest(of member: String) async throws -> ErasureRequest? {
        try await pool.read { db in try Store.erasureRequests(db, member: member, pendingOnly: false).first }
    }

    static func erasureRequests(_ db: Database, member: String?, pendingOnly: Bool) throws -> [ErasureRequest] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.member, r.requested_at, r.declined_at, e.record IS NOT NULL OR m.state IS NULL AS erased
                FROM erasure_requests r LEFT JOIN erasures e ON e.record = r.member LEFT JOIN members m ON m.id = r.member
                WHERE (? IS NULL OR r.member = ?) ORDER BY r.requested_at DESC, r.member
                """, arguments: [member, member])
        return try rows.compactMap { r -> ErasureRequest? in
            let id: String = r["member"]
            let held = try Record.fetchState(db, kind: .member, id: id)
            let erased = (r["erased"] as Bool) || (held?.erased ?? true)
            let req = ErasureRequest(
                member: id, requestedAt: Date(timeIntervalSince1970: Double(r["requested_at"] as Int64)),
                declinedAt: (r["declined_at"] as Int64?).map { Date(timeIntervalSince1970: Double($0)) }, erased: erased)
            return pendingOnly && req.state != "pending" ? nil : req
        }
    }
}
