import AcesCore
import AcesDevTools
import AcesFederation
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import Hummingbird
import NIOCore
import Testing

/// The signed roster (PROTOCOL.md §2.1): chapters join and retire while every node runs, with
/// nothing copied to the running nodes and none restarted; a roster change not signed by the
/// root is refused by every node.
@Suite(.serialized) struct RosterTests {
    /// Waits until `condition` holds (or `seconds` pass); whether it held.
    func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// The roster version each node holds.
    func versions(_ fed: RunningFederation, _ chapters: [String]) async throws -> [Int64] {
        var out = [Int64]()
        for c in chapters { out.append(try await fed.store(c).currentRoster()?.version ?? 0) }
        return out
    }

    /// A new chapter's journey, as its admin and the root run it: `aces join request` on its
    /// machine, `aces roster approve` by the root, `aces init --join`; then it is served here.
    func join(_ fed: RunningFederation, _ c: String) async throws {
        let ports = LocalFederation.freePorts(2)
        let data = fed.dir.file("joining-\(c)")
        let request = try await AcesProcess.runAsync([
            "join", "request", "--data", data, "--chapter", c, "--federation-url", "https://127.0.0.1:\(ports[0])",
            "--public-url", "http://127.0.0.1:\(ports[1])",
        ])
        #expect(request.status == 0, "\(request.stderr)")
        #expect(!request.stdout.contains("PRIVATE KEY"))
        let requestFile = fed.dir.file("\(c).request")
        try request.stdout.write(toFile: requestFile, atomically: true, encoding: .utf8)
        let approve = try await AcesProcess.runAsync(["roster", "approve", requestFile, "--dir", fed.dir.file("fed/certs")])
        #expect(approve.status == 0, "\(approve.stderr)")
        let bundleFile = fed.dir.file("\(c).bundle")
        try approve.stdout.write(toFile: bundleFile, atomically: true, encoding: .utf8)
        let initialised = try await AcesProcess.runAsync(["init", "--join", bundleFile, "--data", data])
        #expect(initialised.status == 0, "\(initialised.stderr)")
        var node = try NodeDirectory.open(data)
        var config = node.config
        config.sync?.intervalSeconds = 0.3
        config.sync?.timeoutSeconds = 15
        node = try node.saving(config)
        fed.adopt(node)
        try await fed.start(c)
    }

    @Test func aRunningFederationGrowsFromTwoToFourAndRetiresOneWithNoFileCopiedAndNoRestart() async throws {
        let fed = try RunningFederation(["fr", "uk"], signedRoster: true)
        try await fed.start("fr", "uk")
        defer { Task { await fed.stopAll() } }
        try fed.addMember(on: "fr", 1)
        try fed.addMember(on: "uk", 2)
        #expect(try await fed.converge(["fr", "uk"]))

        // Spain joins: fr and uk learn of it from es itself, over sync (the root installed nothing on them).
        try await join(fed, "es")
        try fed.addMember(on: "es", 3)
        #expect(try await eventually { try await versions(fed, ["fr", "uk", "es"]) == [2, 2, 2] })
        #expect(try await fed.converge(["fr", "uk", "es"], seconds: 60))

        // Italy joins the same way.
        try await join(fed, "it")
        try fed.addMember(on: "it", 4)
        let four = ["fr", "uk", "es", "it"]
        #expect(try await eventually { try await versions(fed, four) == [3, 3, 3, 3] })
        #expect(try await fed.converge(four, seconds: 60))
        #expect(try fed.store("uk").records(.member).count == 4)
        #expect(fed.server("fr")?.syncer.peerChapters.map(\.rawValue) == ["es", "it", "uk"])
        // Entries of the new chapters verify under the roster every node now holds.
        for c in four { #expect(try fed.store(c).verifyLog(keys: fed.node(c).keyRing()).isValid) }

        // The UK retires: the root installs the change on its own node (fr), and sync carries it.
        let retire = try await AcesProcess.runAsync([
            "roster", "retire", "uk", "--dir", fed.dir.file("fed/certs"), "--data", fed.node("fr").path,
        ])
        #expect(retire.status == 0, "\(retire.stderr)")
        let three = ["fr", "es", "it"]
        #expect(try await eventually { try await versions(fed, three) == [4, 4, 4] })
        #expect(try await eventually { fed.server("fr")?.syncer.peerChapters.map(\.rawValue) == ["es", "it"] })
        try fed.addMember(on: "it", 5)
        #expect(try await fed.converge(three, seconds: 60))
        var documents = Set<String>()
        for c in three { documents.insert(try #require(try await fed.store(c).currentRoster()).document) }
        #expect(documents.count == 1)
        let roster = try #require(try fed.node("es").roster())
        #expect(roster.retired == ["uk"])
        #expect(roster.active.map(\.id) == ["es", "fr", "it"])
        // The digest as `aces digest` prints it is the same on every remaining node.
        var digests = [String]()
        for c in three { digests.append(try await AcesProcess.runAsync(["digest", "--data", fed.node(c).path]).stdout) }
        #expect(Set(digests).count == 1 && !digests[0].isEmpty)
        // `aces status` names the roster version the node holds.
        let status = try await AcesProcess.runAsync(["status", "--data", fed.node("it").path])
        #expect(status.stdout.contains("roster   version 4"))
        await fed.stopAll()
    }

    /// A document signed by the real root's key, or by anyone else, offered by a peer.
    func forged(version: Int64, chapters: [ChapterProfile], by key: SigningKey) throws -> SignedRoster {
        try SignedRoster.sign(version: version, chapters: chapters, retired: [], root: key)
    }

    @Test func aRosterChangeNotSignedByTheRootIsRefusedByEveryNode() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"], signedRoster: true)
        let held = try #require(try fed.node("fr").signedRoster())
        // de lies: it serves version 2, which adds a chapter "xx" with a key the liar holds, signed by the liar.
        var chapters = held.chapters
        let liar = SigningKey()
        var xx = ChapterProfile.known(ChapterID("xx")!)
        xx.keys = [
            RosterKey(
                id: liar.publicKey.keyID(chapter: ChapterID("xx")!), publicKey: liar.publicKey.base64url, validFrom: 0, validUntil: nil)
        ]
        chapters.append(xx)
        let forgery = try forged(version: 2, chapters: chapters, by: liar)
        let router = Router(context: FederationContext.self)
        router.get("/federation/v1/heads") { _, _ -> Response in
            let heads = FederationAPI.Heads(
                chapter: ChapterID("de")!, time: Int64(Date().timeIntervalSince1970 * 1000), origins: [], rosterVersion: 2)
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: CanonicalJSON.encode(heads.json))))
        }
        router.get("/federation/v1/roster") { _, _ -> Response in
            Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: forgery.bytes)))
        }
        try await fed.start("fr", "uk")
        defer { Task { await fed.stopAll() } }
        try await fed.withFakePeer(as: "de", router) {
            for c in ["fr", "uk"] {
                #expect(try await eventually { try await !fed.store(c).rosterRefusals().isEmpty })
                let refusal = try #require(try await fed.store(c).rosterRefusals().first)
                #expect(refusal.peer == "de" && refusal.version == 2)
                #expect(refusal.reason.contains("not signed by the federation's root key"))
                #expect(
                    try await eventually {
                        try await fed.store(c).peerStatuses().first { $0.chapter == "de" }?.lastError?.contains("roster refused") == true
                    })
            }
        }
        for c in ["fr", "uk"] {
            #expect(try await fed.store(c).currentRoster()?.version == 1)
            #expect(try fed.node(c).roster()?.profile(ChapterID("xx")!) == nil)
            #expect(fed.server(c)?.syncer.live.keys.chapters.contains(ChapterID("xx")!) == false)
        }
        // `aces peers` shows the refusal and the version de claims; `aces status` shows the one held.
        let peers = try await AcesProcess.runAsync(["peers", "--data", fed.node("fr").path])
        #expect(peers.stdout.contains("roster refused"))
        let status = try await AcesProcess.runAsync(["status", "--data", fed.node("uk").path])
        #expect(status.stdout.contains("roster   version 1") && status.stdout.contains("REFUSED  roster version 2 from de"))
        await fed.stopAll()
    }

    @Test func aNodeThatHoldsNoSignedRosterTakesNoneFromAPeer() async throws {
        let fed = try RunningFederation(["fr", "uk"])
        let live = try LiveRoster(directory: fed.node("fr"), store: fed.store("fr"), logger: fed.logger)
        let doc = try SignedRoster.sign(version: 1, chapters: [ChapterProfile.known(ChapterID("fr")!)], retired: [], root: SigningKey())
        let outcome = await live.offer(doc.bytes, from: ChapterID("uk"))
        #expect(outcome == .refused("this node holds no signed roster, so it trusts no root key yet"))
        #expect(try await fed.store("fr").currentRoster() == nil)
        #expect(live.roster?.chapters.map(\.id) == ["fr", "uk"])
    }

    @Test func aDocumentIsAdoptedOnlyWhenTheRootSignedAHigherVersion() throws {
        let root = SigningKey()
        let chapters = [ChapterProfile.known(ChapterID("fr")!)]
        let v1 = try SignedRoster.sign(version: 1, chapters: chapters, retired: [], root: root)
        let v2 = try SignedRoster.sign(
            version: 2, chapters: chapters + [ChapterProfile.known(ChapterID("es")!)], retired: [], root: root)
        #expect(v1.successor(v2) == .adopt)
        #expect(v2.successor(v1) == .alreadyHeld)
        #expect(v2.successor(v2) == .alreadyHeld)
        let rival = try SignedRoster.sign(version: 2, chapters: chapters, retired: [], root: root)
        #expect(v2.successor(rival) != .adopt)
        // The root's key named, but the signature is someone else's: unreadable as a roster.
        var text = v2.text
        let other = try SignedRoster.sign(version: 2, chapters: chapters, retired: [], root: SigningKey())
        let sig = { (t: String) in String(t[t.range(of: "\"signature\":\"")!.upperBound...].prefix(86)) }
        text = text.replacingOccurrences(of: sig(text), with: sig(other.text))
        #expect(throws: RosterError.self) { try SignedRoster(bytes: Array(text.utf8)) }
        // A changed record breaks the signature too.
        let tampered = v2.text.replacingOccurrences(of: "Spain", with: "Spainx")
        #expect(throws: RosterError.self) { try SignedRoster(bytes: Array(tampered.utf8)) }
    }
}
