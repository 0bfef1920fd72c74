import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// A stolen key after `aces keys rotate`: whoever holds the old key file can sign nothing more
/// for the chapter, on any node, even one whose roster file still lists the old key.
extension LyingPeerTests {
    @Test func aRetiredKeySignsNothingAnyNodeAccepts() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"], peers: ["fr": ["uk"], "uk": ["fr", "de"], "de": ["uk"]])
        defer { fed.shutdownLeftovers() }
        let fr = ChapterID("fr")!
        let member = try fed.addMember(on: "fr", 1)
        let stolen = try fed.node("fr").signingKey()
        let roster = try String(contentsOfFile: fed.dir.file("fed/chapters/fr.toml"), encoding: .utf8)
        let (_, rotation) = try fed.node("fr").rotateKey()
        #expect(rotation.retired == stolen.id && rotation.announcedAt == Version(origin: fr, seq: 2))
        try fed.update(on: "fr", id: member, ["city": "Nice"])
        // uk and de never get the updated roster file: the log alone vouches for the new key.
        try roster.write(toFile: fed.dir.file("fed/chapters/fr.toml"), atomically: true, encoding: .utf8)

        try await fed.start("fr", "uk", "de")
        #expect(try await fed.converge(["fr", "uk", "de"]))
        await fed.stopAll()
        for c in ["uk", "de"] {
            let store = try fed.store(c)
            #expect(try await store.heads().first { $0.origin == fr }?.seq == 3)
            #expect(try store.quarantined().isEmpty)
            #expect(try store.verifyLog(keys: fed.node(c).keyRing()).isValid)
            #expect(try store.chainKey(of: fr)?.announcement.keyID == rotation.current)
        }

        // The thief signs, with the old key, both the next entry and a rival for the last one.
        let head = try #require(try await fed.store("de").heads().first { $0.origin == fr })
        let p = Payload(salt: [UInt8](repeating: 3, count: 16), values: ["city": "Stolen"])
        let op = LogOperation(kind: .member, id: member, action: .set, bases: ["city": []], digest: p.digest)
        let now = HLC(millis: Int64(Date().timeIntervalSince1970 * 1000), counter: 0)
        let next = Entry.sign(
            Envelope(origin: fr, seq: head.seq + 1, prev: head.hash, hlc: now, keyID: stolen.id, operations: [op]), payloads: [p],
            with: stolen.key)
        let third = try #require(try fed.store("de").entries(of: fr, after: 2, limit: 1).first)
        let rival = Entry.sign(
            Envelope(origin: fr, seq: 3, prev: third.envelope.prev, hlc: now, keyID: stolen.id, operations: [op]), payloads: [p],
            with: stolen.key)
        let uk = ChapterID("uk")!
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
            try await withLyingPeer(fed, seq: head.seq + 1, body: joined([CanonicalJSON.encode(next.json)])) {
                let r = try await syncer.pull(from: uk)
                #expect(r.refused[fr]?.code == "retired_key")
                #expect(r.refused[fr]?.description.contains("fr:2 replaced") == true)
            }
            // Not a fork: an entry the old key signs after its retirement is no evidence of anything.
            let refused = try await store.apply([rival], origin: fr, keys: fed.node("de").keyRing())
            #expect(refused.refusal?.code == "bad_signature")
            #expect(try await store.heads().first { $0.origin == fr }?.frozen == nil)
            #expect(try await store.record(.member, id: member)?.values["city"] == "Nice")
            #expect(try await store.heads().first { $0.origin == fr }?.seq == 3)
        }
    }
}
