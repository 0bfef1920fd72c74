import AcesCore
import AcesFederation
import AcesStore
import AcesTestSupport
import Foundation
import Hummingbird
import NIOCore
import Testing

/// A peer holding a real federation certificate (uk's) that answers with crafted streams:
/// replays, reordered and truncated batches, entries claiming another origin or signed outside
/// their key's validity. Each is refused or skipped for its reason and nothing of it applied.
@Suite(.serialized) struct LyingPeerTests {
    /// Serves `lines` (joined by newlines) for any entries request, and heads claiming fr at `seq`.
    func withLyingPeer(_ fed: RunningFederation, seq: Int64, body: [UInt8], _ run: () async throws -> Void) async throws {
        let router = Router(context: FederationContext.self)
        router.get("/federation/v1/heads") { _, _ -> Response in
            let heads = FederationAPI.Heads(
                chapter: ChapterID("uk")!, time: Int64(Date().timeIntervalSince1970 * 1000),
                origins: [.init(origin: ChapterID("fr")!, seq: seq, hash: .zero)])
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(heads.json))))
        }
        router.get("/federation/v1/entries") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        try await fed.withFakePeer(as: "uk", router, run)
    }

    func lines(_ store: Store, _ origin: ChapterID) async throws -> [[UInt8]] {
        let chunk = try await store.wireEntries(of: origin, after: 0, limit: 100)
        return chunk.bytes.split(separator: 0x0a).map(Array.init)
    }

    func joined(_ ls: [[UInt8]]) -> [UInt8] { ls.flatMap { $0 + [0x0a] } }

    @Test func replayedReorderedTruncatedAndForgedStreamsAreRefused() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1)
        try fed.update(on: "fr", id: id, ["city": "Lyon"])
        try fed.update(on: "fr", id: id, ["city": "Nice"])
        let fr = ChapterID("fr")!
        let honest = try await lines(fed.store("fr"), fr)
        let uk = ChapterID("uk")!
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in

            // Reordered: 2 before 1.
            try await withLyingPeer(fed, seq: 3, body: joined([honest[1], honest[0], honest[2]])) {
                let r = try await syncer.pull(from: uk)
                #expect(r.refused[fr]?.code == "gap")
                #expect((try await store.heads().first { $0.origin == fr }?.seq ?? 0) == 0)
            }
            // Truncated: the stream ends in the middle of entry 2.
            try await withLyingPeer(fed, seq: 3, body: joined([honest[0]]) + Array(honest[1].prefix(honest[1].count / 2))) {
                await #expect(throws: SyncError.self) { _ = try await syncer.pull(from: uk) }
                let status = try await store.peerStatuses().first
                #expect(status?.lastError?.contains("garbage") == true)
            }
            // Replayed: after de holds 1 and 2, the peer sends 1, 2, 3 again: 1 and 2 are skipped, 3 applied once.
            let firstTwo = try fed.store("fr").entries(of: fr, after: 0, limit: 2)
            _ = try await store.apply(firstTwo, origin: fr, keys: fed.node("de").keyRing())
            try await withLyingPeer(fed, seq: 3, body: joined(honest)) {
                let r = try await syncer.pull(from: uk)
                #expect(r.applied[fr] == 1 && r.refused.isEmpty)
                #expect(try await store.heads().first { $0.origin == fr }?.seq == 3)
            }
            // An entry signed by uk's key that claims to come from fr.
            let ukKey = try fed.node("uk").signingKey()
            let frHead = try #require(try await store.heads().first { $0.origin == fr })
            let p = Payload(salt: [UInt8](repeating: 5, count: 16), values: ["city": "Forged"])
            let forged = Entry.sign(
                Envelope(
                    origin: fr, seq: 4, prev: frHead.hash, hlc: HLC(millis: Int64(Date().timeIntervalSince1970 * 1000), counter: 0),
                    keyID: ukKey.id,
                    operations: [LogOperation(kind: .member, id: id, action: .set, bases: ["city": []], digest: p.digest)]),
                payloads: [p], with: ukKey.key)
            try await withLyingPeer(fed, seq: 4, body: joined([CanonicalJSON.encode(forged.json)])) {
                let r = try await syncer.pull(from: uk)
                #expect(r.refused[fr]?.code == "unknown_key")
            }
            // An entry signed by fr's own key, stamped before the key's validity.
            let frKey = try fed.node("fr").signingKey()
            let early = Entry.sign(
                Envelope(
                    origin: fr, seq: 4, prev: frHead.hash, hlc: HLC(millis: 1_000, counter: 0), keyID: frKey.id,
                    operations: [LogOperation(kind: .member, id: id, action: .set, bases: ["city": []], digest: p.digest)]),
                payloads: [p], with: frKey.key)
            try await withLyingPeer(fed, seq: 4, body: joined([CanonicalJSON.encode(early.json)])) {
                let r = try await syncer.pull(from: uk)
                #expect(r.refused[fr]?.code == "unknown_key")
            }
            #expect(try await store.record(.member, id: id)?.values["city"] == "Nice")
            #expect(try store.verifyLog(keys: fed.node("de").keyRing()).isValid)
        }
        await fed.stopAll()
    }

    /// An entry of a protocol version this node does not read yet waits: not applied, not
    /// refused, and `aces status` says so; what came before it is applied.
    @Test func anEntryOfALaterProtocolVersionWaitsForAnUpgrade() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1)
        try fed.update(on: "fr", id: id, ["city": "Lyon"])
        let fr = ChapterID("fr")!
        let honest = try await lines(fed.store("fr"), fr)
        let head = try #require(try await fed.store("fr").heads().first { $0.origin == fr })
        let frKey = try fed.node("fr").signingKey()
        let p = Payload(salt: [UInt8](repeating: 9, count: 16), values: ["city": "Nantes"])
        let future = Entry.sign(
            Envelope(
                origin: fr, seq: 3, prev: head.hash, hlc: HLC(millis: Int64(Date().timeIntervalSince1970 * 1000), counter: 0),
                keyID: frKey.id, operations: [LogOperation(kind: .member, id: id, action: .set, bases: ["city": []], digest: p.digest)],
                protocolVersion: Envelope.readableVersions.upperBound + 1),
            payloads: [p], with: frKey.key)
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
            try await withLyingPeer(fed, seq: 3, body: joined(honest + [CanonicalJSON.encode(future.json)])) {
                let r = try await syncer.pull(from: ChapterID("uk")!)
                #expect(r.applied[fr] == 2 && r.refused.isEmpty)
                #expect(r.held[fr]?.code == "unknown_version" && r.held[fr]?.seq == 3)
            }
            #expect(try store.quarantined().isEmpty, "a later version is not a fault")
            #expect(try await store.heads().first { $0.origin == fr }?.seq == 2)
            #expect(try await store.record(.member, id: id)?.values["city"] == "Lyon")
            #expect(try await store.peerStatuses().first?.versions == Array(Envelope.readableVersions))
        }
        let status = try await AcesProcess.runAsync(["status", "--data", fed.node("de").path])
        #expect(status.stdout.contains("WAITING  origin 'fr' from fr:3"), "\(status.stdout)")
        #expect(status.stdout.contains("protocol version \(Envelope.readableVersions.upperBound + 1)"))
        await fed.stopAll()
    }
}
