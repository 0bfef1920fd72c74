import AcesCore
import AcesFederation
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import Testing

/// A chapter's log that forks (a node restored from a backup signs again at seqs the federation
/// holds) is found wherever the two histories meet, and the origin is frozen on every node that
/// sees the evidence, the restored node included. A restored node does not author before a peer
/// showed it its own head, unless its operator says so; a peer's word alone freezes nothing.
@Suite(.serialized) struct ForkTests {
    func head(_ store: Store, _ origin: String) async throws -> OriginHead? {
        try await store.heads().first { $0.origin.rawValue == origin }
    }

    @Test func aRestoredNodeThatSignsAgainForksTheLogAndEveryNodeFreezesIt() async throws {
        // de never talks to fr: it learns of the fork only from uk's evidence.
        let fed = try RunningFederation(["fr", "uk", "de"], interval: 0.2, peers: ["fr": ["uk"], "uk": ["fr", "de"], "de": ["uk"]])
        defer { fed.shutdownLeftovers() }
        try fed.reconfigure("fr") { $0.sync?.timeoutSeconds = 20 }
        try await fed.start("fr", "uk", "de")
        for i in 0..<2 { try fed.addMember(on: "fr", i) }
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let backup = fed.dir.file("fr-backup.sqlite")
        try fed.store("fr").backup(to: backup)
        for i in 2..<4 { try fed.addMember(on: "fr", i) }  // fr:3 and fr:4, held by uk and de
        #expect(try await fed.converge(["fr", "uk", "de"]))
        await fed.stopAll()
        fed.removeReplica("fr")

        // uk is down: nobody can show fr its own later entries, and the operator overrides the lock.
        let restored = try await AcesProcess.runAsync([
            "restore", "--data", fed.node("fr").path, "--from", backup, "--author-without-peers",
        ])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stderr.contains("--author-without-peers"), "\(restored.stderr)")
        let written = try await AcesProcess.runAsync([
            "member", "add", "--data", fed.node("fr").path, "--email", "again@example.org", "--name", "Again",
        ])
        #expect(written.status == 0, "\(written.stderr)")  // a different fr:3 than the one uk and de hold
        let rival = try #require(try await head(fed.store("fr"), "fr"))
        #expect(rival.seq == 3)

        try await fed.start("fr", "uk", "de")
        let stores = try ["fr", "uk", "de"].map { try fed.store($0) }
        var frozen = false
        for _ in 0..<600 where !frozen {
            try await Task.sleep(for: .milliseconds(100))
            frozen = true
            for s in stores where try await head(s, "fr")?.frozen == nil { frozen = false }
        }
        #expect(frozen, "fr is frozen on fr, on uk and on de")
        for s in stores { #expect(try await s.forks().map(\.seq) == [3], "the fork is at fr:3") }

        // Every place an operator looks says so.
        let status = try await AcesProcess.runAsync(["status", "--data", fed.node("uk").path])
        #expect(status.stdout.contains("ALARM    origin 'fr' is frozen after a fork"), "\(status.stdout)")
        let restoredStatus = try await AcesProcess.runAsync(["status", "--data", fed.node("fr").path, "--json"])
        let json = try JSONParser.parse(Array(restoredStatus.stdout.utf8))
        #expect(json["frozen"]?.arrayValue?.compactMap(\.stringValue) == ["fr"], "\(restoredStatus.stdout)")
        #expect(json["forks"]?.arrayValue?.first?["seq"]?.intValue == 3, "\(restoredStatus.stdout)")
        let peers = try await AcesProcess.runAsync(["peers", "--data", fed.node("de").path])
        #expect(peers.stdout.contains("origin 'fr' is frozen after a fork at fr:3 (rival entry from uk)"), "\(peers.stdout)")
        for c in ["fr", "uk"] {
            let (code, body) = try await httpGet("http://127.0.0.1:\(fed.server(c)!.port("web")!)/readyz")
            #expect(code == 503 && body.contains("\"forks\":\"origin frozen after a fork: fr (fork at fr:3)\""), "\(c): \(body)")
        }
        let web = "http://127.0.0.1:\(fed.server("de")!.port("web")!)"
        let token = try fed.store("de").createAdminToken(label: "prometheus", random: SecretToken.random(36)).token
        let (_, metrics) = try await httpGet(web + "/metrics", token: token)
        #expect(metrics.split(separator: "\n").contains { $0.hasPrefix("aces_origin_frozen{origin=\"fr\"} 1") }, "\(metrics)")
        let (_, dashboard) = try await httpGet(web + "/federation")
        #expect(dashboard.contains("<span class=\"badge cancelled\">fr</span>"))

        // The restored node authors nothing more, fr's heads stop moving everywhere, and the
        // other chapters' entries still flow.
        let refused = try await AcesProcess.runAsync([
            "member", "add", "--data", fed.node("fr").path, "--email", "more@example.org", "--name", "More",
        ])
        #expect(refused.status != 0 && refused.stderr.contains("frozen after a fork"), "\(refused.stderr)")
        var frHeads = [Int64]()
        for s in stores { frHeads.append(try await head(s, "fr")?.seq ?? 0) }
        #expect(frHeads == [3, 4, 4])
        try fed.addMember(on: "uk", 20)
        var flowed = false
        for _ in 0..<300 where !flowed {
            try await Task.sleep(for: .milliseconds(100))
            let onFR = try await head(stores[0], "uk")?.seq, onDE = try await head(stores[2], "uk")?.seq
            flowed = onFR == 1 && onDE == 1
        }
        #expect(flowed, "uk's entries reach fr and de")
        var after = [Int64]()
        for s in stores { after.append(try await head(s, "fr")?.seq ?? 0) }
        #expect(after == frHeads)
        await fed.stopAll()
    }

    @Test func aRestoredNodeWithoutReachablePeersDoesNotAuthorUntilOneShowsItsHead() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 0.2)
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk")
        for i in 0..<2 { try fed.addMember(on: "fr", i) }
        #expect(try await fed.converge(["fr", "uk"]))
        let backup = fed.dir.file("fr-backup.sqlite")
        try fed.store("fr").backup(to: backup)
        for i in 2..<4 { try fed.addMember(on: "fr", i) }
        #expect(try await fed.converge(["fr", "uk"]))
        await fed.stopAll()
        fed.removeReplica("fr")

        // Its configuration names no peer: nobody can show it what it signed after the backup.
        try fed.reconfigure("fr") { $0.sync?.peers = [] }
        let restored = try await AcesProcess.runAsync(["restore", "--data", fed.node("fr").path, "--from", backup])
        #expect(restored.status == 0 && restored.stdout.contains("Authoring stays locked"), "\(restored.stdout) \(restored.stderr)")
        let refused = try await AcesProcess.runAsync([
            "member", "add", "--data", fed.node("fr").path, "--email", "x@example.org", "--name", "X",
        ])
        #expect(refused.status != 0, "\(refused.stdout)")
        #expect(refused.stderr.contains("has not yet seen its own latest entries"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one sentence: \(refused.stderr)")
        #expect(try await head(fed.store("fr"), "fr")?.seq == 2)

        // Given a peer, it catches up on its own log first, then authors after it: no fork.
        try fed.reconfigure("fr") { $0.sync?.peers = ["uk"] }
        try await fed.start("uk")
        #expect(try await fed.syncUntilRestoreConfirmed("fr"))
        #expect(try await head(fed.store("fr"), "fr")?.seq == 4)
        let added = try await AcesProcess.runAsync([
            "member", "add", "--data", fed.node("fr").path, "--email", "x@example.org", "--name", "X",
        ])
        #expect(added.status == 0, "\(added.stderr)")
        try await fed.start("fr")
        #expect(try await fed.converge(["fr", "uk"]))
        #expect(try await fed.store("uk").heads().allSatisfy { $0.frozen == nil })
        await fed.stopAll()
    }

    /// A peer (uk's certificate) that claims another fr:3 and shows a forgery, or claims fr is
    /// frozen and shows a forgery as the rival: the forgery is quarantined, nothing is frozen.
    @Test func aLyingPeerCannotFreezeAnOriginWithAForgedEntry() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1)
        try fed.update(on: "fr", id: id, ["city": "Lyon"])
        try fed.update(on: "fr", id: id, ["city": "Nice"])
        let fr = ChapterID("fr")!, uk = ChapterID("uk")!
        let honest = try fed.store("fr").entries(of: fr, after: 0, limit: 3)
        // Signed by a key of the attacker's, under fr's key id, at a seq de holds.
        let p = Payload(salt: [UInt8](repeating: 5, count: 16), values: ["city": "Forged"])
        let forged = Entry.sign(
            Envelope(
                origin: fr, seq: 3, prev: honest[1].hash, hlc: honest[2].envelope.hlc, keyID: honest[2].envelope.keyID,
                operations: [LogOperation(kind: .member, id: id, action: .set, bases: ["city": []], digest: p.digest)]),
            payloads: [p], with: SigningKey())
        let forgedLine = CanonicalJSON.encode(forged.json)
        let pair = CanonicalJSON.encode(honest[2].json) + [0x0a] + forgedLine + [0x0a]

        for frozenClaim in [false, true] {
            let router = Router(context: FederationContext.self)
            router.get("/federation/v1/heads") { _, _ -> Response in
                let heads = FederationAPI.Heads(
                    chapter: uk, time: Int64(Date().timeIntervalSince1970 * 1000),
                    origins: [.init(origin: fr, seq: 3, hash: forged.hash, forkSeq: frozenClaim ? 3 : nil)])
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(heads.json))))
            }
            router.get("/federation/v1/entries") { _, _ -> Response in
                Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: forgedLine + [0x0a])))
            }
            router.get("/federation/v1/forks") { _, _ -> Response in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: pair)))
            }
            try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
                if try await head(store, "fr") == nil { _ = try await store.apply(honest, origin: fr, keys: fed.node("de").keyRing()) }
                let quarantined = try await store.quarantinedCount()
                try await fed.withFakePeer(as: "uk", router) {
                    let r = try await syncer.pull(from: uk)
                    #expect(r.refused[fr]?.code == "bad_signature", "claimed frozen: \(frozenClaim)")
                }
                #expect(try await head(store, "fr")?.frozen == nil)
                #expect(try await store.quarantinedCount() == quarantined + 1, "the forgery is kept in quarantine")
                #expect(try await store.forks().isEmpty)
            }
        }
        await fed.stopAll()
    }
}

extension Store {
    fileprivate func quarantinedCount() async throws -> Int { try await operationalCounts().quarantined }
}
