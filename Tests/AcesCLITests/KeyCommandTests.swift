import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// `aces keys rotate` on a real node, through the real executable.
@Suite struct KeyCommandTests {
    let dir = TempDir()
    var fed: String { dir.file("fed") }

    func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args) }

    func createFederation() async throws {
        let port = String(freeBasePort(4))
        #expect(try await aces("federation", "create", "--dir", fed, "--chapters", "fr,uk", "--base-port", port).status == 0)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue & 0o777
    }

    @Test func rotateAnnouncesTheNewKeyRetiresTheOldAndUpdatesEveryFile() async throws {
        try await createFederation()
        let fr = fed + "/fr"
        #expect(try await aces("member", "add", "--data", fr, "--email", "a@example.org", "--name", "Zoë A").status == 0)
        let before = try NodeDirectory.open(fr).config.keys
        let oldID = try #require(before.last?.id)
        let oldFile = fr + "/" + (before.last?.file ?? "")
        let oldRoster = try String(contentsOfFile: fed + "/chapters/fr.toml", encoding: .utf8)

        let r = try await aces("keys", "rotate", "--data", fr)
        #expect(r.status == 0, "\(r.stderr)")
        let after = try NodeDirectory.open(fr).config.keys
        let newKey = try #require(after.last)
        #expect(after.count == 2 && after[0].id == oldID && newKey.id != oldID)
        #expect(r.stdout.contains("Entry fr:2, signed with \(oldID), names \(newKey.id)"), "\(r.stdout)")
        // The old private key is gone; the new one is owner-only; the old key's validity ends at the announcement.
        #expect(!FileManager.default.fileExists(atPath: oldFile))
        #expect(after[0].file == nil && after[0].validUntil == newKey.validFrom + 1)
        #expect(try mode(fr + "/" + newKey.file!) == 0o600)
        let roster = try Roster.load(from: fed + "/chapters").profile(ChapterID("fr")!)
        #expect(roster?.keys.map(\.id) == [oldID, newKey.id])
        #expect(roster?.keys.first?.validUntil != nil)

        // The log shows the announcement; later writes are signed by the new key; the log verifies.
        let log = try await aces("log", "show", "--data", fr).stdout
        #expect(log.contains("next key \(newKey.id): \(oldID) signs nothing after this entry"), "\(log)")
        #expect(try await aces("member", "add", "--data", fr, "--email", "b@example.org", "--name", "Zoë B").status == 0)
        let third = try #require(try NodeDirectory.open(fr).openStore().entries(of: ChapterID("fr")!, after: 2, limit: 1).first)
        #expect(third.envelope.keyID == newKey.id)
        #expect(try await aces("log", "verify", "--data", fr).status == 0)
        let listed = try await aces("keys", "list", "--data", fr).stdout
        #expect(listed.contains("\(newKey.id)") && listed.contains("signs now") && listed.contains("retired"), "\(listed)")

        // uk syncs from fr with the roster as it was before the rotation: the log itself vouches for the new key.
        try oldRoster.write(toFile: fed + "/chapters/fr.toml", atomically: true, encoding: .utf8)
        let serve = try AcesProcess.start(["serve", "--data", fr])
        defer { serve.stop() }
        var synced = false
        // Until the server listens: each try waits for its child off the concurrency pool.
        for _ in 0..<100 where !synced {
            synced = try await AcesProcess.runAsync(["sync", "--data", fed + "/uk"]).status == 0
            if !synced { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(synced)
        let uk = try NodeDirectory.open(fed + "/uk")
        #expect(try await uk.openStore().heads().first { $0.origin.rawValue == "fr" }?.seq == 3)
        #expect(try uk.openStore().quarantined().isEmpty)
        #expect(try await aces("log", "verify", "--data", fed + "/uk").status == 0)

        // The independent verifier agrees, from the old roster and the chain alone.
        if Python.available {
            let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let exported = try await aces("log", "export", "--data", fed + "/uk").stdout
            let py = try Python.run(
                [root.appendingPathComponent("docs/verify_log.py").path, fed + "/chapters"], input: Data(exported.utf8))
            #expect(py.status == 0 && py.out.contains("ok: 3 entries"), "\(py.out)")
        }
    }

    @Test func anInterruptedRotationIsFinishedByRunningItAgain() async throws {
        try await createFederation()
        let fr = fed + "/fr"
        let node = try NodeDirectory.open(fr)
        // A crash after the announcement was committed, before aces.toml listed the new key.
        let next = SigningKey()
        let nextID = next.publicKey.keyID(chapter: node.chapter)
        #expect(
            FileManager.default.createFile(
                atPath: fr + "/keys/\(nextID).key", contents: Data((Base64URL.encode(next.seed) + "\n").utf8),
                attributes: [.posixPermissions: 0o600]))
        try node.openStore().announceKey(next.publicKey, as: node.author())

        let refused = try await aces("member", "add", "--data", fr, "--email", "a@example.org", "--name", "A")
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("run 'aces keys rotate' to finish the interrupted rotation"), "\(refused.stderr)")
        #expect(try await node.openStore().heads().first?.seq == 1)

        let r = try await aces("keys", "rotate", "--data", fr)
        #expect(r.status == 0 && r.stdout.contains("Finished the rotation that fr:1 started"), "\(r.stdout)\(r.stderr)")
        #expect(try NodeDirectory.open(fr).config.keys.last?.id == nextID)
        #expect(try await aces("member", "add", "--data", fr, "--email", "a@example.org", "--name", "A").status == 0)
        #expect(try await aces("log", "verify", "--data", fr).status == 0)
        // And rotating again works as usual.
        #expect(try await aces("keys", "rotate", "--data", fr).status == 0)
        #expect(try await aces("log", "verify", "--data", fr).status == 0)
        #expect(try NodeDirectory.open(fr).config.keys.count == 3)
    }

    @Test func aNodeWithAKeyOthersCanReadDoesNotStart() async throws {
        try await createFederation()
        let fr = fed + "/fr"
        let key = fr + "/" + (try NodeDirectory.open(fr).config.keys.last?.file ?? "")
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: key)
        let r = try await aces("serve", "--data", fr)
        #expect(r.status != 0)
        #expect(r.stderr.contains("readable by group or others (mode 640)"), "\(r.stderr)")
        #expect(try await aces("keys", "rotate", "--data", fr).status != 0)
    }
}
