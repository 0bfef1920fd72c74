import AcesCore
import AcesStore
import AcesTestSupport
import AcesWorkflows
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// Chapters own their records, on three real nodes syncing over mutual TLS: another chapter's
/// CLI, its admin API and its own signed entries cannot change a French member or event; a grant
/// lets it edit, a revocation stops it, a transfer moves the member.
@Suite(.serialized) struct OwnershipFederationTests {
    /// Runs `body` with the three nodes serving; stops them however it ends.
    static func serving(_ fed: RunningFederation, _ body: () async throws -> Void) async throws {
        try await fed.start("fr", "uk", "de")
        do { try await body() } catch {
            await fed.stopAll()
            throw error
        }
        await fed.stopAll()
    }

    static func run(_ args: [String]) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args) }

    static func patch(_ url: String, token: String, body: String) async throws -> (Int, String) {
        try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
            var request = HTTPClientRequest(url: url)
            request.method = .PATCH
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let r = try await http.execute(request, timeout: .seconds(30))
            return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 1 << 20)))
        }
    }

    /// Signs `op` as the node `c` without its authoring checks (a chapter whose CLI was bypassed,
    /// or a thief of its key) and stores it in that node's log, whence sync carries it.
    static func forge(_ fed: RunningFederation, as c: String, _ op: LogOperation, payload: Payload?) throws {
        let node = fed.node(c)
        let store = try node.openStore()
        let (keyID, key) = try node.signingKey()
        let origin = ChapterID(c)!
        let head = try store.heads().first { $0.origin == origin }
        let newest = try store.heads().map(\.hlc.millis).max() ?? 0
        let envelope = Envelope(
            origin: origin, seq: (head?.seq ?? 0) + 1, prev: head?.hash ?? .zero,
            hlc: HLC(millis: max(newest + 1, Int64(Date().timeIntervalSince1970 * 1000)), counter: 0), keyID: keyID,
            operations: [op])
        let entry = Entry.sign(envelope, payloads: [payload], with: key)
        let report = try store.apply([entry], origin: origin, keys: try node.keyRing())
        #expect(report.applied == 1)
    }

    @Test func anotherChapterCannotChangeAFrenchRecordByAnyPath() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        let fr = fed.node("fr")
        let member = try fed.addMember(on: "fr", 1)
        try fed.update(on: "fr", id: member, ["visibility": "chapter"])
        let event = try Editor(directory: fr, store: try fed.store("fr")).addEvent([
            "title": "Meetup", "start": "2027-03-01T18:00:00Z", "end": "2027-03-01T20:00:00Z", "timezone": "Europe/Paris",
        ]).id
        try await Self.serving(fed) { try await attack(fed, member: member, event: event) }
    }

    func attack(_ fed: RunningFederation, member: String, event: String) async throws {
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let before = try fed.digests(["fr"]).first!
        let uk = fed.node("uk").path

        // 1. uk's own CLI refuses, with one sentence naming the owner, and writes nothing.
        let ukHeads = try await fed.store("uk").heads()
        for args in [
            ["member", "update", member, "--visibility", "public"],
            ["member", "update", member, "--email", "thief@example.org", "--link", "https://evil.example"],
            ["member", "update", member, "--status", "inactive"],
            ["member", "remove", member],
            ["member", "erase", member, "--reason", "test"],
            ["member", "transfer", member, "--to", "uk"],
            ["member", "grant", member, "--chapter", "uk"],
            ["event", "cancel", event],
            ["event", "update", event, "--start", "2027-03-02T18:30", "--end", "2027-03-02T21:00"],
        ] {
            let r = try await Self.run(args + ["--data", uk])
            #expect(r.status != 0, "\(args) is refused")
            #expect(r.stderr.contains("belongs to fr"), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("Usage"), "no usage text for a refusal")
        }
        #expect(try await fed.store("uk").heads() == ukHeads, "the refused commands wrote nothing")

        // 2. uk's admin API answers 403 with the sentence.
        let token = try fed.store("uk").createAdminToken(label: "tests", random: SecretToken.random(36)).token
        let web = "http://127.0.0.1:\(fed.server("uk")!.port("web")!)"
        for body in [
            #"{"visibility": "public"}"#, #"{"email": "thief@example.org", "links": ["https://evil.example"]}"#, #"{"status": "inactive"}"#,
        ] {
            let (status, text) = try await Self.patch("\(web)/admin/v1/members/\(member)", token: token, body: body)
            #expect(status == 403, "\(body): \(status) \(text)")
            #expect(text.contains("belongs to fr"))
        }
        // chapter and merged_into are no fields the admin API sets at all.
        for body in [#"{"chapter": "uk"}"#, #"{"merged_into": "01969a2e-1c00-7000-8000-000000000009"}"#] {
            let (status, text) = try await Self.patch("\(web)/admin/v1/members/\(member)", token: token, body: body)
            #expect(status == 400 && text.contains("no field"), "\(body): \(status) \(text)")
        }
        #expect(try await fed.store("uk").heads() == ukHeads, "the refused requests wrote nothing")

        // 3. Entries uk signs anyway, for the member and the event, are refused by every node for
        // the same reason, while uk's honest entries keep flowing.
        let p = Payload(salt: [UInt8](repeating: 7, count: 16), values: ["visibility": "public", "email": "x@example.org"])
        try Self.forge(
            fed, as: "uk", LogOperation(kind: .member, id: member, action: .set, bases: ["visibility": [], "email": []], digest: p.digest),
            payload: p)
        let c = Payload(salt: [UInt8](repeating: 8, count: 16), values: ["status": "cancelled"])
        try Self.forge(
            fed, as: "uk", LogOperation(kind: .event, id: event, action: .set, bases: ["status": []], digest: c.digest), payload: c)
        let m = Payload(salt: [UInt8](repeating: 9, count: 16), values: ["merged_into": .string(member)])
        try Self.forge(
            fed, as: "uk", LogOperation(kind: .member, id: member, action: .set, bases: ["merged_into": []], digest: m.digest), payload: m)
        try Self.forge(
            fed, as: "uk", LogOperation(kind: .member, id: member, action: .erase, bases: ["_removed": []], digest: nil), payload: nil)
        let honest = try fed.addMember(on: "uk", 2)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let lists = try ["fr", "uk", "de"].map { c in
            try fed.store(c).refusedOperations(limit: 100).map { "\($0.origin):\($0.seq) \($0.record) \($0.reason)" }.sorted()
        }
        #expect(lists[0].count == 4)
        #expect(lists[1] == lists[0] && lists[2] == lists[0], "\(lists)")
        for c in ["fr", "uk", "de"] {
            let s = try fed.store(c)
            #expect(try await s.record(.member, id: member)?.values["visibility"] == "chapter", "\(c)")
            #expect(try await s.record(.member, id: member)?.state.erased == false, "\(c)")
            #expect(try await s.record(.event, id: event)?.values["status"] == "scheduled", "\(c)")
            #expect(try await s.record(.member, id: honest) != nil, "\(c) holds uk's honest member")
        }
        #expect(Set(try fed.digests(["fr", "uk", "de"])).count == 1)
        #expect(try fed.digests(["fr"]).first != before, "uk's honest member arrived")
        let peers = try await Self.run(["peers", "--data", fed.node("fr").path])
        #expect(peers.stdout.contains("refused for ownership"), "\(peers.stdout)")
        let status = try await Self.run(["status", "--data", fed.node("de").path])
        #expect(status.stdout.contains("REFUSED  4 operation(s)"), "\(status.stdout)")
        let frToken = try fed.store("fr").createAdminToken(label: "tests", random: SecretToken.random(36)).token
        let (_, metrics) = try await httpGet("http://127.0.0.1:\(fed.server("fr")!.port("web")!)/metrics", token: frToken)
        #expect(metrics.contains("aces_ownership_refused_operations 4"))
    }

    @Test func aGrantLetsUKEditARevocationStopsItAndATransferMovesTheMember() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        let member = try fed.addMember(on: "fr", 1)
        try await Self.serving(fed) { try await grantRevokeTransfer(fed, member: member) }
    }

    func grantRevokeTransfer(_ fed: RunningFederation, member: String) async throws {
        let (fr, uk, de) = (fed.node("fr").path, fed.node("uk").path, fed.node("de").path)
        #expect(try await Self.run(["member", "grant", member, "--chapter", "uk", "--data", fr]).status == 0)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let edit = try await Self.run(["member", "update", member, "--city", "Leeds", "--data", uk])
        #expect(edit.status == 0, "\(edit.stderr)")
        let remove = try await Self.run(["member", "remove", member, "--data", uk])
        #expect(remove.status != 0 && remove.stderr.contains("grant"), "\(remove.stderr)")
        #expect(try await fed.converge(["fr", "uk", "de"]))
        #expect(try await fed.store("de").record(.member, id: member)?.values["city"] == "Leeds")
        #expect(try await Self.run(["member", "grant", member, "--chapter", "uk", "--revoke", "--data", fr]).status == 0)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        #expect(try await Self.run(["member", "update", member, "--city", "York", "--data", uk]).status != 0)
        #expect(try await Self.run(["member", "transfer", member, "--to", "uk", "--data", fr]).status == 0)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        #expect(try await Self.run(["member", "update", member, "--city", "Bristol", "--data", uk]).status == 0)
        #expect(try await Self.run(["member", "update", member, "--city", "Lyon", "--data", fr]).status != 0)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let shown = try await Self.run(["member", "show", member, "--data", de])
        #expect(shown.stdout.contains("owner") && shown.stdout.contains("uk"), "\(shown.stdout)")
        #expect(shown.stdout.contains("fr → uk"), "\(shown.stdout)")
        for c in ["fr", "uk", "de"] {
            #expect(try await fed.store(c).record(.member, id: member)?.values["city"] == "Bristol")
            #expect(try await fed.store(c).record(.member, id: member)?.values["chapter"] == "uk")
        }
    }
}
