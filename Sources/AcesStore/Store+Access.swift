import AcesCore
import Foundation
import GRDB

/// A sign-in link issued to a member.
public struct Invite: Sendable {
    /// The secret to put in the link; shown once, only its digest is kept.
    public let token: String
    public let member: String
    public let expiresAt: Date
}

/// An admin API token, as listed (the secret itself is never kept).
public struct AdminToken: Sendable {
    public let id: String
    public let label: String
    public let createdAt: Date
    public let revokedAt: Date?
}

/// Node-local access: sign-in links and sessions of members, admin API tokens. Only digests of
/// the secrets are stored; nothing here is synced to other nodes.
extension Store {
    /// How long a session opened with a sign-in link lasts.
    public static let sessionLifetime: TimeInterval = 30 * 24 * 3600

    /// Issues a sign-in link for a member of the directory held here.
    public func invite(member id: String, lifetime: TimeInterval, random: [UInt8], now: Date = Date()) throws -> Invite {
        let token = SecretToken.make(prefix: "", random: random)
        let expires = now.addingTimeInterval(lifetime)
        try pool.write { db in
            guard let r = try Record.fetch(db, kind: .member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
            try db.execute(
                sql: "INSERT INTO invites(digest, member, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [Data(SecretToken.digest(token)), id, Int64(now.timeIntervalSince1970), Int64(expires.timeIntervalSince1970)])
        }
        return Invite(token: token, member: id, expiresAt: expires)
    }

    /// Revokes every sign-in link and session of a member; returns how many were live.
    @discardableResult
    public func revokeAccess(member id: String, now: Date = Date()) throws -> Int {
        try pool.write { db in
            let t = Int64(now.timeIntervalSince1970)
            try db.execute(sql: "UPDATE invites SET revoked_at = ? WHERE member = ? AND revoked_at IS NULL", arguments: [t, id])
            let links = db.changesCount
            try db.execute(sql: "UPDATE sessions SET revoked_at = ? WHERE member = ? AND revoked_at IS NULL", arguments: [t, id])
            return links + db.changesCount
        }
    }

    /// The member a live sign-in link belongs to, or nil (unknown, expired or revoked).
    public func inviteHolder(_ token: String, now: Date = Date()) throws -> String? {
        try pool.read(Store.live(table: "invites", token: token, now: now))
    }

    /// `inviteHolder(_:)` from async code.
    public func inviteHolder(_ token: String, now: Date = Date()) async throws -> String? {
        try await pool.read(Store.live(table: "invites", token: token, now: now))
    }

    /// Opens a session with a live sign-in link: the session's secret and the member, or nil.
    /// The link is spent in the same transaction (marked revoked), so it opens one session only:
    /// of two uses at once, one wins.
    public func signIn(with token: String, random: [UInt8], now: Date = Date()) throws -> (session: String, member: String)? {
        let session = SecretToken.make(prefix: "", random: random)
        return try pool.write(Store.spendLink(token, openingSession: session, now: now)).map { (session, $0) }
    }

    /// `signIn(with:random:)` from async code.
    public func signIn(with token: String, random: [UInt8], now: Date = Date()) async throws -> (session: String, member: String)? {
        let session = SecretToken.make(prefix: "", random: random)
        return try await pool.write(Store.spendLink(token, openingSession: session, now: now)).map { (session, $0) }
    }

    /// Spends a live link and opens `session` for its member, in one transaction; the member, or nil.
    private static func spendLink(_ token: String, openingSession session: String, now: Date) -> @Sendable (Database) throws -> String? {
        let find = live(table: "invites", token: token, now: now)
        return { db in
            guard let member = try find(db) else { return nil }
            let t = Int64(now.timeIntervalSince1970)
            try db.execute(sql: "UPDATE invites SET revoked_at = ? WHERE digest = ?", arguments: [t, Data(SecretToken.digest(token))])
            try db.execute(
                sql: "INSERT INTO sessions(digest, member, created_at, expires_at) VALUES (?, ?, ?, ?)",
                arguments: [
                    Data(SecretToken.digest(session)), member, t,
                    Int64(now.addingTimeInterval(Store.sessionLifetime).timeIntervalSince1970),
                ])
            return member
        }
    }

    /// The member of a live session, or nil.
    public func sessionMember(_ token: String, now: Date = Date()) throws -> String? {
        try pool.read(Store.live(table: "sessions", token: token, now: now))
    }

    /// `sessionMember(_:)` from async code.
    public func sessionMember(_ token: String, now: Date = Date()) async throws -> String? {
        try await pool.read(Store.live(table: "sessions", token: token, now: now))
    }

    /// Ends a session.
    public func signOut(_ token: String, now: Date = Date()) throws { try pool.write(Store.closeSession(token, now: now)) }

    /// `signOut(_:)` from async code.
    public func signOut(_ token: String, now: Date = Date()) async throws { try await pool.write(Store.closeSession(token, now: now)) }

    private static func closeSession(_ token: String, now: Date) -> @Sendable (Database) throws -> Void {
        { db in
            try db.execute(
                sql: "UPDATE sessions SET revoked_at = ? WHERE digest = ? AND revoked_at IS NULL",
                arguments: [Int64(now.timeIntervalSince1970), Data(SecretToken.digest(token))])
        }
    }

    /// The read that finds the member of a live link or session (nil for a token too long to be one).
    private static func live(table: String, token: String, now: Date) -> @Sendable (Database) throws -> String? {
        guard !token.isEmpty, token.utf8.count <= 256 else { return { _ in nil } }
        let digest = SecretToken.digest(token)
        return { db in
            guard
                let row = try Row.fetchOne(
                    db, sql: "SELECT digest, member, expires_at, revoked_at FROM \(table) WHERE digest = ?", arguments: [Data(digest)]),
                SecretToken.matches(token, digest: [UInt8](row["digest"] as Data)),
                (row["revoked_at"] as Int64?) == nil, (row["expires_at"] as Int64) > Int64(now.timeIntervalSince1970)
            else { return nil }
            return row["member"]
        }
    }

    /// Creates an admin API token: its id and the secret (shown once).
    public func createAdminToken(label: String, random: [UInt8], now: Date = Date()) throws -> (id: String, token: String) {
        let id = Hex.encode(random.prefix(4))
        let token = SecretToken.make(prefix: "aces_", random: Array(random.dropFirst(4)))
        try pool.write { db in
            try db.execute(
                sql: "INSERT INTO admin_tokens(id, digest, label, created_at) VALUES (?, ?, ?, ?)",
                arguments: [id, Data(SecretToken.digest(token)), label, Int64(now.timeIntervalSince1970)])
        }
        return (id, token)
    }

    /// Every admin token, newest first.
    public func adminTokens() throws -> [AdminToken] {
        try pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, label, created_at, revoked_at FROM admin_tokens ORDER BY created_at DESC, id").map {
                AdminToken(
                    id: $0["id"], label: $0["label"], createdAt: Date(timeIntervalSince1970: Double($0["created_at"] as Int64)),
                    revokedAt: ($0["revoked_at"] as Int64?).map { Date(timeIntervalSince1970: Double($0)) })
            }
        }
    }

    /// Revokes an admin token; false when no live token has this id.
    @discardableResult
    public func revokeAdminToken(id: String, now: Date = Date()) throws -> Bool {
        try pool.write { db in
            try db.execute(
                sql: "UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Int64(now.timeIntervalSince1970), id])
            return db.changesCount == 1
        }
    }

    /// The id of the live admin token `token` is, or nil. Every live token's digest is checked
    /// in constant time, so the answer's timing says nothing of the secret.
    public func adminTokenID(_ token: String) throws -> String? {
        guard token.utf8.count <= 256 else { return nil }
        return Store.match(token, try pool.read(Store.liveAdminTokens))
    }

    /// `adminTokenID(_:)` from async code.
    public func adminTokenID(_ token: String) async throws -> String? {
        guard token.utf8.count <= 256 else { return nil }
        return Store.match(token, try await pool.read(Store.liveAdminTokens))
    }

    private static func liveAdminTokens(_ db: Database) throws -> [(id: String, digest: [UInt8])] {
        try Row.fetchAll(db, sql: "SELECT id, digest FROM admin_tokens WHERE revoked_at IS NULL").map {
            ($0["id"], [UInt8]($0["digest"] as Data))
        }
    }

    private static func match(_ token: String, _ tokens: [(id: String, digest: [UInt8])]) -> String? {
        var found: String?
        for t in tokens where SecretToken.matches(token, digest: t.digest) { found = t.id }
        return found
    }
}
