import AcesCore
import AcesFederation
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import Testing
import X509

/// Certificates and network failures as an operator meets them: one sentence naming the peer,
/// the cause and the fix in `aces peers` (never a library dump), nothing of it on public pages,
/// `/readyz` failing when the node's own certificate is unusable or no peer answers, a rotated
/// certificate taken without a restart, and every metric docs/OPERATIONS.md names in a scrape.
@Suite(.serialized) struct TLSFailureTests {
    /// Replaces node `c`'s certificate and key (the files LocalFederation made) with `issued`.
    func install(_ issued: IssuedCertificate, on c: String, in fed: RunningFederation) throws {
        let certs = fed.dir.file("fed/certs")
        for f in ["\(c).pem", "\(c)-key.pem"] { try FileManager.default.removeItem(atPath: certs + "/" + f) }
        try FederationCA.write(issued, certificate: certs + "/\(c).pem", privateKey: certs + "/\(c)-key.pem")
    }

    func federationCA(_ fed: RunningFederation) throws -> IssuedCertificate {
        let certs = fed.dir.file("fed/certs")
        return try FederationCA.read(certificate: certs + "/ca.pem", privateKey: certs + "/ca-key.pem")
    }

    /// Waits until `c`'s last error about `peer` contains `text`; the last error seen.
    func lastError(on c: String, about peer: String, containing text: String, in fed: RunningFederation) async throws -> String? {
        let store = try fed.store(c)
        var seen: String?
        for _ in 0..<300 {
            seen = try await store.peerStatuses().first { $0.chapter == peer }?.lastError
            if seen?.contains(text) == true { return seen }
            try await Task.sleep(for: .milliseconds(100))
        }
        return seen
    }

    @Test func certificateFailuresReadAsSentencesForOperatorsOnly() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 0.3)
        let ca = try federationCA(fed)
        let now = Date()
        let expiredOn = now.addingTimeInterval(-3 * 86_400)
        try install(
            try FederationCA.issue(
                chapter: ChapterID("uk")!, ca: ca, hosts: ["127.0.0.1", "localhost"], validFrom: now.addingTimeInterval(-400 * 86_400),
                validUntil: expiredOn), on: "uk", in: fed)
        try await fed.start("fr", "uk")
        defer { Task { await fed.stopAll() } }
        let day = ISO8601DateFormatter.string(from: expiredOn, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])

        let expired = try await lastError(on: "fr", about: "uk", containing: "expired", in: fed)
        #expect(expired == "uk's certificate expired on \(day): ask the federation CA for a new one")
        // uk, whose client certificate fr refuses, is told so in a sentence too.
        let refused = try await lastError(on: "uk", about: "fr", containing: "refused this node's certificate", in: fed)
        #expect(refused?.hasPrefix("fr refused this node's certificate") == true, "\(refused ?? "nil")")

        let peers = try await AcesProcess.runAsync(["peers", "--data", fed.node("fr").path])
        #expect(peers.stdout.contains("uk's certificate expired on \(day): ask the federation CA for a new one"), "\(peers.stdout)")
        for dump in ["NIOSSL", "BoringSSL", "checkouts", "handshakeFailed", "Error: 2"] {
            #expect(!(peers.stdout + (expired ?? "") + (refused ?? "")).contains(dump))
        }

        // The public dashboard says only that uk is unreachable; an operator's token shows why.
        let web = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)"
        let (_, page) = try await httpGet(web + "/federation")
        #expect(page.contains("<span class=\"chip\">uk</span>"))
        #expect(!page.contains("expired") && !page.contains("certificate"), "no cause on a public page")
        let token = try fed.store("fr").createAdminToken(label: "ops", random: SecretToken.random(36)).token
        let (_, operatorPage) = try await httpGet(web + "/federation", token: token)
        #expect(operatorPage.contains("uk&#39;s certificate expired on \(day)"), "\(operatorPage)")

        // Another CA's certificate.
        await fed.stop("uk")
        let rogue = try FederationCA.create(name: "Rogue CA")
        try install(try FederationCA.issue(chapter: ChapterID("uk")!, ca: rogue, hosts: ["127.0.0.1", "localhost"]), on: "uk", in: fed)
        try await fed.start("uk")
        // A pass whose probe of uk's certificate times out (a loaded machine) says only that it is
        // not accepted; the next pass names the cause: wait for that sentence.
        let foreign = try await lastError(on: "fr", about: "uk", containing: "is not signed by this federation's CA", in: fed)
        #expect(foreign?.hasPrefix("uk's certificate is not signed by this federation's CA:") == true, "\(foreign ?? "nil")")

        // A node that is down.
        await fed.stop("uk")
        let url = fed.node("uk").config.federation!.url
        let down = try await lastError(on: "fr", about: "uk", containing: "refused the connection", in: fed)
        #expect(down == "uk is unreachable: it refused the connection at \(url): is its node running?")
        let (_, downPage) = try await httpGet(web + "/federation")
        #expect(!downPage.contains("refused") && !downPage.contains("127.0.0.1:"), "no cause on a public page")
        await fed.stopAll()
    }

    @Test func readinessFailsWithAnUnusableCertificateOrNoPeerForLong() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 0.3)
        let ca = try federationCA(fed)
        let now = Date()
        try install(
            try FederationCA.issue(
                chapter: ChapterID("fr")!, ca: ca, hosts: ["127.0.0.1", "localhost"], validFrom: now.addingTimeInterval(86_400 * 2),
                validUntil: now.addingTimeInterval(86_400 * 400)), on: "fr", in: fed)
        try fed.reconfigure("fr") { $0.sync?.unreachableSeconds = 1 }
        try await fed.start("fr")  // uk stays down
        defer { Task { await fed.stopAll() } }
        let web = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)"
        var (status, body) = try await httpGet(web + "/readyz")
        #expect(status == 503 && body.contains("this node's TLS certificate is not valid until"), "\(body)")
        let (_, dashboard) = try await httpGet(web + "/federation")
        #expect(dashboard.contains("this node&#39;s TLS certificate is not valid until"), "the dashboard warns too")
        for _ in 0..<100 where !body.contains("no peer has been reachable") {
            try await Task.sleep(for: .milliseconds(100))
            (status, body) = try await httpGet(web + "/readyz")
        }
        #expect(status == 503 && body.contains("no peer has been reachable for"), "\(body)")
        await fed.stopAll()
    }

    @Test func aRotatedCertificateIsTakenWithoutARestart() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 0.3)
        try await fed.start("fr", "uk")
        defer { Task { await fed.stopAll() } }
        let port = fed.server("uk")!.port("federation")!
        let before = try #require(await presented(port: port))

        let rotate = try await AcesProcess.runAsync(["certs", "rotate", "--data", fed.node("uk").path, "--dir", fed.dir.file("fed/certs")])
        #expect(rotate.status == 0, "\(rotate.stderr)")
        #expect(rotate.stdout.contains("no restart is needed"))
        let after = try #require(await presented(port: port))
        #expect(after.serialNumber != before.serialNumber, "a new connection gets the new certificate")
        #expect(FederationCA.chapter(of: after) == ChapterID("uk"))
        // Both nodes keep syncing, uk now presenting its new certificate as a client too.
        try fed.addMember(on: "uk", 1)
        try fed.addMember(on: "fr", 2)
        #expect(try await fed.converge(["fr", "uk"]))

        // A certificate that fails the checks is refused, and nothing is replaced.
        let rogue = try FederationCA.issue(chapter: ChapterID("uk")!, ca: try FederationCA.create(name: "Rogue CA"))
        let dir = fed.dir.file("rogue")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FederationCA.write(rogue, certificate: dir + "/uk.pem", privateKey: dir + "/uk-key.pem")
        let refused = try await AcesProcess.runAsync([
            "certs", "install", "--data", fed.node("uk").path, "--certificate", dir + "/uk.pem", "--private-key", dir + "/uk-key.pem",
        ])
        #expect(refused.status != 0 && refused.stderr.contains("is not signed by the federation CA"), "\(refused.stderr)")
        #expect(try #require(await presented(port: port)).serialNumber == after.serialNumber)
        await fed.stopAll()
    }

    @Test func everyMetricTheOperationsGuideNamesIsScraped() async throws {
        let guide = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/OPERATIONS.md")
        let text = try String(contentsOf: guide, encoding: .utf8)
        let named = Set(text.matches(of: /aces_[a-z_]+/).map { String($0.output) })
        #expect(named.count >= 9, "\(named.sorted())")
        let fed = try RunningFederation(["fr", "uk"], interval: 0.2)
        try await fed.start("fr", "uk")
        defer { Task { await fed.stopAll() } }
        try fed.addMember(on: "uk", 1)
        #expect(try await fed.converge(["fr", "uk"]))
        let web = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)"
        _ = try await httpGet(web + "/")
        let token = try fed.store("fr").createAdminToken(label: "prometheus", random: SecretToken.random(36)).token
        let (_, scrape) = try await httpGet(web + "/metrics", token: token)
        let families = Set(scrape.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { String($0.split(separator: " ")[2]) })
        for name in named.sorted() { #expect(families.contains(name), "\(name) is named in docs/OPERATIONS.md but not in /metrics") }
        await fed.stopAll()
    }

    /// The certificate a new TLS connection to `port` on loopback is shown.
    func presented(port: Int) async -> Certificate? {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .none
        return await PresentedCertificate.of(host: "127.0.0.1", port: port, configuration: config)
    }
}
