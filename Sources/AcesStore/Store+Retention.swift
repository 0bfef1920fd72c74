import AcesCore
import Foundation
import GRDB

/// How long node-local evidence and access rows are kept once they stopped mattering
/// (`[retention]` in aces.toml; see docs/OPERATIONS.md).
public struct RetentionPolicy: Sendable, Equatable {
    /// Days a refused entry is kept in quarantine after it arrived. Fork evidence of an origin
    /// that is still frozen is kept whatever its age: it is what the freeze rests on.
    public var quarantineDays: Int
    /// Days a session is kept after it expired or was revoked.
    public var sessionDays: Int
    /// Days a sign-in link is kept after it expired, was used or was revoked.
    public var inviteDays: Int

    /// A year of quarantine (time to notice and raise a misbehaving peer with its chapter);
    /// 30 days of spent sessions and links (time to answer "who signed in as me?").
    public static let standard = RetentionPolicy(quarantineDays: 365, sessionDays: 30, inviteDays: 30)

    public init(quarantineDays: Int, sessionDays: Int, inviteDays: Int) {
        self.quarantineDays = quarantineDays
        self.sessionDays = sessionDays
        self.inviteDays = inviteDays
    }
}

/// What one retention pass deleted.
public struct RetentionReport: Sendable, Equatable {
    public var quarantine = 0
    public var sessions = 0
    public var invites = 0
    public var total: Int { quarantine + sessions + invites }

    public init(quarantine: Int = 0, sessions: Int = 0, invites: Int = 0) {
        self.quarantine = quarantine
        self.sessions = sessions
        self.invites = invites
    }
}

extension Store {
    /// Deletes quarantine rows, sessions and sign-in links older than the policy allows.
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Date = Date()) throws -> RetentionReport {
        try pool.write { db in try Store.applyRetention(db, policy, now: now) }
    }

    /// `applyRetention(_:now:)` from async code.
    @discardableResult
    public func applyRetention(_ policy: RetentionPolicy, now: Date = Date()) async throws -> RetentionReport {
        try await pool.write { db in try Store.applyRetention(db, policy, now: now) }
    }

    private static func applyRetention(_ db: Database, _ policy: RetentionPolicy, now: Date) throws -> RetentionReport {
        let t = Int64(now.timeIntervalSince1970)
        func cutoff(_ days: Int) -> Int64 { t - Int64(days) * 86_400 }
        var report = RetentionReport()
        try db.execute(
            sql: """
                DELETE FROM quarantine WHERE received_at < ?
                AND NOT (code = 'fork' AND origin IN (SELECT name FROM origins WHERE frozen IS NOT NULL))
                """,
            arguments: [cutoff(policy.quarantineDays)])
        report.quarantine = db.changesCount
        try db.execute(
            sql: "DELETE FROM sessions WHERE min(expires_at, coalesce(revoked_at, expires_at)) < ?",
            arguments: [cutoff(policy.sessionDays)])
        report.sessions = db.changesCount
        try db.execute(
            sql: "DELETE FROM invites WHERE min(expires_at, coalesce(revoked_at, expires_at)) < ?",
            arguments: [cutoff(policy.inviteDays)])
        report.invites = db.changesCount
        return report
    }
}
