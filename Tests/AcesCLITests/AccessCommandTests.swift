import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// `aces member invite` and `aces admin token`, as a chapter admin types them.
@Suite struct AccessCommandTests {
    @Test func invitesAndAdminTokensFromTheCommandLine() async throws {
        let dir = TempDir()
        let data = dir.file("fr")
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
        func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args + ["--data", data]) }
        let id = try await aces("member", "add", "--email", "zoe@example.fr", "--name", "Zoë").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)

        // Without a public URL the link would point nowhere.
        let noURL = try await aces("member", "invite", id)
        #expect(noURL.status != 0 && noURL.stderr.contains("[web] url"))
        let config = try String(contentsOfFile: data + "/aces.toml", encoding: .utf8)
        try (config + "\n[web]\nlisten = '127.0.0.1:7999'\nurl = 'https://aces.example.fr'\n").write(
            toFile: data + "/aces.toml", atomically: true, encoding: .utf8)

        let invite = try await aces("member", "invite", id, "--days", "3")
        #expect(invite.status == 0 && invite.stdout.hasPrefix("https://aces.example.fr/signin?token="), "\(invite.stderr)")
        #expect(invite.stderr.contains("for one sign-in"), "the admin learns a link opens one session")
        let token = String(invite.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "=").last ?? "")
        // Read the file before this process opens the database: closing any other descriptor of
        // it would drop SQLite's POSIX locks in this process (and with them, its view of the WAL).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: data + "/aces.sqlite"))
        #expect(bytes.range(of: Data(token.utf8)) == nil, "only a digest of the link is kept")
        let store = try Store.open(at: data + "/aces.sqlite")
        #expect(try await store.inviteHolder(token) == id)
        #expect(try await aces("member", "invite", id, "--revoke").stdout.contains("Revoked 1"))
        #expect(try await store.inviteHolder(token) == nil)
        for (args, message) in [
            (["member", "invite", id, "--days", "0"], "--days must be from 1 to 365"),
            (["member", "invite", "01234567-89ab-7def-8123-456789abcdef"], "no member with id"),
            (["member", "invite", "nobody"], "is not a member id"),
        ] {
            let r = try await AcesProcess.runAsync(args + ["--data", data])
            #expect(r.status != 0 && r.stderr.contains(message), "\(args): \(r.stderr)")
        }

        let created = try await aces("admin", "token", "create", "--label", "membership sync")
        #expect(created.status == 0 && created.stdout.hasPrefix("aces_"))
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let tokenID = try #require(try await store.adminTokenID(secret))
        let list = try await aces("admin", "token", "list")
        #expect(list.stdout.contains(tokenID) && list.stdout.contains("membership sync") && !list.stdout.contains(secret))
        let revoked = try await aces("admin", "token", "revoke", tokenID)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try await store.adminTokenID(secret) == nil, "a revoked token stops working at once")
        #expect(try await aces("admin", "token", "revoke", tokenID).stderr.contains("no live admin token"))
        #expect(try await aces("admin", "token", "create", "--label", "").stderr.contains("--label must be"))
    }
}
