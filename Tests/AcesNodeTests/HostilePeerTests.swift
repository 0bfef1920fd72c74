import AcesCore
import AcesFederation
import AcesStore
import AcesTestSupport
import Foundation
import Hummingbird
import NIOCore
import Testing

/// A peer holding a real federation certificate (uk's) that attacks the sync client: a line
/// that decompresses to 10 MB from 10 KB on the wire, answers trickled a byte at a time, an
/// entry well signed by its origin whose value is oversized. Each pass ends in time, with a
/// sentence in `aces peers`, and nothing of it is applied.
@Suite(.serialized) struct HostilePeerTests {
    let fr = ChapterID("fr")!
    let uk = ChapterID("uk")!

    /// Heads claiming uk holds fr up to `seq`.
    func heads(seq: Int64) -> [UInt8] {
        CanonicalJSON.encode(
            FederationAPI.Heads(
                chapter: uk, time: Int64(Date().timeIntervalSince1970 * 1000), origins: [.init(origin: fr, seq: seq, hash: .zero)]
            )
            .json)
    }

    /// `bytes` sent one at a time, 200 ms apart (each byte resets any idle timer).
    func trickle(_ bytes: [UInt8]) -> ResponseBody {
        ResponseBody { writer in
            for b in bytes {
                try await writer.write(ByteBuffer(bytes: [b]))
                try await Task.sleep(for: .milliseconds(200))
            }
            try await writer.finish(nil)
        }
    }

    /// `data` compressed by gzip(1).
    func gzip(_ data: [UInt8]) throws -> [UInt8] {
        let dir = TempDir()
        let file = dir.file("line")
        try Data(data).write(to: URL(fileURLWithPath: file))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        p.arguments = ["-c", "-9", file]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let bytes = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return [UInt8](bytes)
    }

    @Test func aLineThatDecompressesBeyondTheLimitIsNeverParsed() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        // One "line" of 10 MB of JSON-looking text, about 10 KB once compressed.
        let bomb = try gzip(Array(("{\"envelope\":\"" + String(repeating: "a", count: 10_000_000) + "\"}\n").utf8))
        #expect(bomb.count < 100_000)
        let answer = heads(seq: 1)
        let router = Router(context: FederationContext.self)
        router.get("/federation/v1/heads") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: answer))) }
        router.get("/federation/v1/entries") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/x-ndjson", .contentEncoding: "gzip"],
                body: .init(byteBuffer: ByteBuffer(bytes: bomb)))
        }
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
            try await fed.withFakePeer(as: "uk", router) {
                await #expect(throws: SyncError.self) { _ = try await syncer.pull(from: uk) }
            }
            let why = try #require(try await store.peerStatuses().first?.lastError)
            #expect(why.contains("a line is longer than \(FederationAPI.maxLineBytes) bytes"), "\(why)")
            #expect(try await store.operationalCounts().quarantined == 0, "the line never reached the parser")
            #expect(try await store.heads().isEmpty)
        }
        await fed.stopAll()
    }

    @Test func aTricklingPeerIsGivenUpOnWithinTheDeadline() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        try fed.reconfigure("de") { $0.sync?.timeoutSeconds = 3 }
        _ = try fed.addMember(on: "fr", 1)
        let honest = try await fed.store("fr").wireEntries(of: fr, after: 0, limit: 10).bytes
        // Trickled without end as far as the client can tell: 200 ms a byte, over a minute in all.
        let answer = heads(seq: 1)
        let trickledHeads = trickle(answer + [UInt8](repeating: 0x20, count: 300))
        let trickledEntries = trickle(honest + [UInt8](repeating: 0x20, count: 300))
        let slowHeads = Router(context: FederationContext.self)
        slowHeads.get("/federation/v1/heads") { _, _ in Response(status: .ok, body: trickledHeads) }
        let slowEntries = Router(context: FederationContext.self)
        slowEntries.get("/federation/v1/heads") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: answer))) }
        slowEntries.get("/federation/v1/entries") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: trickledEntries)
        }
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
            for router in [slowHeads, slowEntries] {
                try await fed.withFakePeer(as: "uk", router) {
                    let start = ContinuousClock.now
                    await #expect(throws: SyncError.self) { _ = try await syncer.pull(from: uk) }
                    // The deadline is 3 s (for the entries: the head, then 3 s without 64 KiB); a trickle
                    // that held the pass would take over a minute. The margin is for a loaded machine.
                    let took = start.duration(to: .now)
                    #expect(took < .seconds(30), "the pass gave up after \(took)")
                }
                let why = try #require(try await store.peerStatuses().first?.lastError)
                #expect(why.hasPrefix("too slow: "), "\(why)")
            }
            #expect(try await store.heads().isEmpty)
        }
        await fed.stopAll()
    }

    @Test func anEntryWithAnOversizedValueIsRefusedOnReceipt() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        // fr's own key signs a member whose name is 62 KB: what a node without byte limits wrote.
        let key = try fed.node("fr").signingKey()
        let values: [String: JSONValue] = [
            "email": "big@example.fr", "name": .string(String(repeating: "名", count: 20_000)),
            "visibility": "public", "status": "active",
        ]
        let p = Payload(salt: [UInt8](repeating: 3, count: 16), values: values)
        let entry = Entry.sign(
            Envelope(
                origin: fr, seq: 1, prev: .zero, hlc: HLC(millis: Int64(Date().timeIntervalSince1970 * 1000), counter: 0), keyID: key.id,
                operations: [
                    LogOperation(
                        kind: .member, id: RecordID.mint(millis: 1, random: [UInt8](repeating: 4, count: 10), owner: fr), action: .set,
                        bases: values.mapValues { _ in [] }, digest: p.digest)
                ]),
            payloads: [p], with: key.key)
        let line = CanonicalJSON.encode(entry.json) + [0x0a]
        let answer = heads(seq: 1)
        let router = Router(context: FederationContext.self)
        router.get("/federation/v1/heads") { _, _ in Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: answer))) }
        router.get("/federation/v1/entries") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: .init(byteBuffer: ByteBuffer(bytes: line)))
        }
        try await fed.withSyncer(for: "de", peers: ["uk"]) { syncer, store in
            try await fed.withFakePeer(as: "uk", router) {
                let r = try await syncer.pull(from: uk)
                let refusal = try #require(r.refused[fr])
                #expect(refusal.code == "malformed")
                #expect(refusal.description.contains("name must be at most 200 bytes of UTF-8"), "\(refusal)")
            }
            #expect(try await store.operationalCounts().quarantined == 1)
            #expect(try await store.peerStatuses().first?.lastError?.contains("at most 200 bytes") == true)
            #expect(try await store.heads().isEmpty)
        }
        await fed.stopAll()
    }
}
