import AcesCore
import AcesFederation
import AcesStore
import AcesTestSupport
import Foundation
import Hummingbird
import NIOCore
import Testing

/// A relay with a real federation certificate (uk's) serves fr's signed entries with their
/// payloads replaced by null. The receiver stores the chain but applies none of the stripped
/// writes until a peer sends the payloads, or until an erase of the record proves the null.
@Suite(.serialized) struct WithheldPayloadTests {
    let fr = ChapterID("fr")!
    let uk = ChapterID("uk")!

    /// A relay answering heads with fr at `seq` and any entries request with `body`.
    func relay(_ body: [UInt8], seq: Int64) -> Router<FederationContext> {
        let heads = CanonicalJSON.encode(
            FederationAPI.Heads(
                chapter: uk, time: Int64(Date().timeIntervalSince1970 * 1000), origins: [.init(origin: fr, seq: seq, hash: .zero)]
            )
            .json)
        let router = Router(context: FederationContext.self)
        router.get("/federation/v1/heads") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: heads))) }
        router.get("/federation/v1/entries") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
        return router
    }

    /// The entries as wire lines, every payload replaced by null (the signatures still verify).
    func stripped(_ entries: [Entry]) -> [UInt8] {
        entries.flatMap { e -> [UInt8] in
            var s = e
            s.payloads = s.payloads.map { _ in nil }
            s.payloadBytes = nil
            return CanonicalJSON.encode(s.json) + [0x0a]
        }
    }

    @Test func strippedPayloadsAreNotAppliedUntilAnHonestPeerSendsThem() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1, city: "Lyon")
        try fed.update(on: "fr", id: id, ["city": "Marseille"])
        let honest = try fed.store("fr")
        let entries = try honest.entries(of: fr, after: 0, limit: 10)
        try await fed.withSyncer(for: "de", peers: ["uk", "fr"]) { syncer, store in
            try await fed.withFakePeer(as: "uk", relay(stripped(entries), seq: 2)) {
                let r = try await syncer.pull(from: uk)
                #expect(r.applied[fr] == 2 && r.refused.isEmpty && r.released == 0)
            }
            // de holds fr's chain as far as fr does, and nothing of what the stripped entries wrote.
            #expect(try await store.heads().first { $0.origin == fr }?.hash == honest.heads().first { $0.origin == fr }?.hash)
            #expect(try await store.record(.member, id: id) == nil, "a withheld write is not applied, not even as nulls")
            let waiting = try await store.withheld()
            #expect(waiting.map { "\($0.origin):\($0.seq)" } == ["fr:1", "fr:2"])
            #expect(waiting.allSatisfy { $0.peer == "uk" && $0.record == id && $0.kind == .member })
            #expect(try await store.withheldCounts().byPeer == ["uk": 2])
            #expect(try await store.stateDigest() != honest.stateDigest())
            let during = try store.verifyLog(keys: fed.node("de").keyRing())
            #expect(during.isValid && during.waiting.count == 2, "\(during.problems)")
            // What the operator sees: how many wait, and who sent them stripped; ids only, never values.
            let data = fed.node("de").path
            let status = try await AcesProcess.runAsync(["status", "--json", "--data", data])
            let json = try JSONParser.parse(Array(status.stdout.utf8))
            #expect(json["withheld"]?["operations"] == 2 && json["withheld"]?["by_peer"]?["uk"] == 2, "\(status.stdout)")
            #expect(json["withheld"]?["oldest"]?.arrayValue?.first?["id"]?.stringValue == id)
            let text = try await AcesProcess.runAsync(["status", "--data", data])
            #expect(text.stdout.contains("WAITING  2 operation(s) received without their payload"), "\(text.stdout)")
            let peers = try await AcesProcess.runAsync(["peers", "--data", data])
            #expect(
                peers.stdout.contains("uk sent 2 operation(s) without their payload, waiting for another peer to send it: fr:1, fr:2"),
                "\(peers.stdout)")
            let verify = try await AcesProcess.runAsync(["log", "verify", "--data", data])
            #expect(
                verify.status == 0
                    && verify.stdout.contains("waiting: entry fr:1: operation 0 waits for its payload (sent without it by uk)"),
                "\(verify.stdout)")
            for out in [status.stdout, text.stdout, peers.stdout, verify.stdout] {
                #expect(!out.contains("Lyon") && !out.contains("Marseille"))
            }

            // The honest origin holds the payloads: the next pass with it fetches and applies them.
            try await fed.start("fr")
            let r = try await syncer.pull(from: fr)
            #expect(r.released == 2 && r.total == 0)
            #expect(try await store.withheld().isEmpty)
            #expect(try await store.record(.member, id: id)?.values["city"] == "Marseille")
            #expect(try await store.stateDigest() == honest.stateDigest())
            let after = try store.verifyLog(keys: fed.node("de").keyRing())
            #expect(after.isValid && after.waiting.isEmpty)
            // The payloads are stored too: de now serves them to others.
            #expect(try store.entries(of: fr, after: 0, limit: 10).map(\.payloads) == entries.map(\.payloads))
        }
        await fed.stopAll()
    }

    @Test func aNullThatALaterEraseInTheChainProvesIsAppliedWithoutAskingAnyone() async throws {
        let fed = try RunningFederation(["fr", "uk", "de", "it"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1)
        try fed.store("fr").erase(.member, id: id, reason: "asked to be forgotten", as: fed.node("fr").author())
        // fr holds the set with its payload erased (null), then the erase: what any relay serves.
        let served = try await fed.store("fr").wireEntries(of: fr, after: 0, limit: 10).bytes
        let lines = served.split(separator: 0x0a).map { Array($0) + [0x0a] }
        try #require(lines.count == 2)
        let relayDigest = try await fed.store("fr").stateDigest()

        // Set and erase in one pass.
        try await fed.withSyncer(for: "it", peers: ["uk"]) { syncer, store in
            try await fed.withFakePeer(as: "uk", relay(served, seq: 2)) {
                let r = try await syncer.pull(from: uk)
                #expect(r.applied[fr] == 2 && r.released == 0)
            }
            #expect(try await store.withheld().isEmpty)
            #expect(try await store.stateDigest() == relayDigest)
        }
        // The set first, the erase at a later pass: the set waits, then the erase settles it.
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
            try await fed.withFakePeer(as: "uk", relay(lines[0], seq: 1)) {
                _ = try await syncer.pull(from: uk)
            }
            #expect(try await store.record(.member, id: id) == nil)
            #expect(try await store.withheld().count == 1)
            try await fed.withFakePeer(as: "uk", relay(served, seq: 2)) {
                let r = try await syncer.pull(from: uk)
                #expect(r.applied[fr] == 1 && r.released == 0)
            }
            #expect(try await store.withheld().isEmpty)
            #expect(try await store.stateDigest() == relayDigest)
            let verdict = try store.verifyLog(keys: fed.node("de").keyRing())
            #expect(verdict.isValid && verdict.waiting.isEmpty, "\(verdict.problems)")
        }
        await fed.stopAll()
    }

    /// A write that replaced the withheld one arrives first: when the withheld payload comes, the
    /// late write is still the one replaced (no conflict), as on a node that had it on time.
    @Test func aWriteThatReplacedAWithheldOneStaysTheWinnerWhenThePayloadArrives() async throws {
        // uk is a steward: it may edit fr's member.
        let fed = try RunningFederation(["fr", "uk", "de"], stewards: ["uk"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 1, city: "Lyon")
        let frEntries = try fed.store("fr").entries(of: fr, after: 0, limit: 10)
        let uk = try fed.store("uk")
        _ = try await uk.apply(frEntries, origin: fr, keys: fed.node("uk").keyRing())
        try fed.update(on: "uk", id: id, ["city": "Leeds"])
        let ukEntries = try uk.entries(of: self.uk, after: 0, limit: 10)

        let de = try fed.store("de")
        let keys = try fed.node("de").keyRing()
        let strippedEntries = try stripped(frEntries).split(separator: 0x0a).map { try Entry(wireLine: $0) }
        _ = try await de.apply(strippedEntries, origin: fr, keys: keys, peer: "it")
        _ = try await de.apply(ukEntries, origin: self.uk, keys: keys, peer: "uk")
        #expect(try await de.withheld().count == 1)
        #expect(try await de.stateDigest() != uk.stateDigest())
        #expect(try await de.resolveWithheld(frEntries) == 1)
        #expect(try await de.withheld().isEmpty)
        let member = try #require(try await de.record(.member, id: id))
        let honest = try #require(try await uk.record(.member, id: id))
        #expect(member.values["city"] == "Leeds" && member.values["name"] == honest.values["name"])
        #expect(try de.conflicts().isEmpty)
        #expect(try await de.stateDigest() == uk.stateDigest())
    }
}
