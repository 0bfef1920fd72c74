import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import GRDB
import Testing

/// Quarantine evidence, sessions and sign-in links leave the file once the retention policy says
/// they stopped mattering; fork evidence of a frozen origin stays.
@Suite struct RetentionTests {
    let day: TimeInterval = 86_400

    @Test func retentionDeletesOnlyWhatThePolicyLetsGo() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let member = fr.newID()
        try fr.write([.set(.member, id: member, values: TestNode.member(1))])
        // Given sessions and links spent 40 days ago and others spent 10 days ago or still live
        func signedIn(at start: Date) throws -> String {
            let link = try fr.store.invite(member: member, lifetime: 3600, random: SecretToken.random(32), now: start)
            return try #require(try fr.store.signIn(with: link.token, random: SecretToken.random(32), now: start)).session
        }
        let old = try signedIn(at: now.addingTimeInterval(-(40 * day + Store.sessionLifetime)))
        let recent = try signedIn(at: now.addingTimeInterval(-(10 * day + Store.sessionLifetime)))
        let live = try signedIn(at: now.addingTimeInterval(-day))
        _ = try fr.store.invite(member: member, lifetime: 3600, random: [UInt8](repeating: 9, count: 32), now: now)
        // and quarantine rows of 400 and 10 days ago, and fork evidence of 400 days ago of a frozen origin
        let queue = try DatabaseQueue(path: fr.store.path)
        try queue.write { db in
            for (origin, code, age) in [("uk", "bad_signature", 400.0), ("uk", "bad_signature", 10), ("de", "fork", 400)] {
                try db.execute(
                    sql: "INSERT INTO quarantine(origin, seq, code, reason, received_at) VALUES (?, 1, ?, 'test', ?)",
                    arguments: [origin, code, Int64(now.timeIntervalSince1970 - age * day)])
            }
            try db.execute(
                sql: "INSERT INTO origins(name, head_seq, head_hash, head_hlc, frozen) VALUES ('de', 0, zeroblob(32), 0, 'fork')")
        }

        // When the standard policy is applied
        let done = try fr.store.applyRetention(.standard, now: now)

        // Then the old quarantine row and session go, and the links spent more than 30 days ago
        // (the old and the recent sign-in's); the rest stays
        #expect(done == RetentionReport(quarantine: 1, sessions: 1, invites: 2))
        #expect(try fr.store.quarantined().map(\.code).sorted() == ["bad_signature", "fork"])
        let left = try queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM sessions"), try Int.fetchOne(db, sql: "SELECT count(*) FROM invites"))
        }
        #expect(left.0 == 2 && left.1 == 2)
        #expect(try fr.store.sessionMember(live, now: now) == member)
        #expect(try fr.store.sessionMember(recent, now: now) == nil)
        #expect(try fr.store.sessionMember(old, now: now) == nil)
        // and a second pass has nothing left to do
        #expect(try fr.store.applyRetention(.standard, now: now).total == 0)
    }

    @Test func aSessionOpensFromALiveLinkOnceAndExpiresAfterItsLifetime() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let member = fr.newID()
        try fr.write([.set(.member, id: member, values: TestNode.member(1))])
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let link = try fr.store.invite(member: member, lifetime: 3600, random: [UInt8](repeating: 3, count: 32), now: start)
        // An expired link opens nothing
        #expect(try fr.store.signIn(with: link.token, random: SecretToken.random(32), now: start.addingTimeInterval(3601)) == nil)
        let session = try #require(try fr.store.signIn(with: link.token, random: SecretToken.random(32), now: start)).session
        // A link opens one session only
        #expect(try fr.store.signIn(with: link.token, random: SecretToken.random(32), now: start) == nil)
        #expect(try fr.store.sessionMember(session, now: start.addingTimeInterval(Store.sessionLifetime - 1)) == member)
        #expect(try fr.store.sessionMember(session, now: start.addingTimeInterval(Store.sessionLifetime + 1)) == nil)
    }
}
