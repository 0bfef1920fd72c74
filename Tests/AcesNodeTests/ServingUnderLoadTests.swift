import AcesCore
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A node keeps serving under bursts of parallel requests: none hangs, `/healthz` answers
/// afterwards, and SIGTERM still stops it. The node is the real executable (`aces serve`), so a
/// node that freezes fails this test rather than freezing the test process with it.
@Suite(.serialized) struct ServingUnderLoadTests {
    /// Long enough for a loaded CI machine, short enough that a frozen node fails the test.
    static let deadline = TimeAmount.seconds(30)

    @Test func burstsOfParallelRequestsAllGetAnAnswerAndSIGTERMStillStopsTheNode() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        for i in 0..<5 { try fed.addMember(on: "fr", i) }
        // Metrics are for an admin's token.
        let token = try fed.store("fr").createAdminToken(label: "scrape", random: SecretToken.random(36)).token
        let node = try AcesProcess.start(["serve", "--data", fed.node("fr").path])
        var stopped = false
        defer { if !stopped { node.stop() } }
        let web = fed.node("fr").config.web!.url
        let federation = fed.node("fr").config.federation!.url
        var config = HTTPClient.Configuration(tlsConfiguration: try fed.node("uk").tlsMaterial().client)
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        // Event loops of its own: hundreds of TLS handshakes must not hold up the shared loops that
        // the in-process nodes of tests running beside this one use.
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var failure: (any Error)?
        do { try await load(loops, config, web: web, federation: federation, token: token) } catch { failure = error }
        try? await loops.shutdownGracefully()
        if let failure { throw failure }
        let took = await node.terminate(within: 10)
        stopped = true
        #expect(took != nil, "SIGTERM did not stop the node within 10 s")
    }

    /// The bursts, then `/healthz`.
    func load(_ loops: EventLoopGroup, _ config: HTTPClient.Configuration, web: String, federation: String, token: String) async throws {
        try await HTTPClient.withHTTPClient(eventLoopGroup: loops, configuration: config) { http in
            #expect(await answers(http, web + "/healthz", within: 30), "the node did not start")
            // The public listener's pages that read the replica, and a peer's status call over mutual TLS.
            let urls = [web + "/readyz", web + "/metrics", web + "/federation", federation + "/federation/v1/status"]
            burst: for n in [16, 64, 256] {
                for url in urls {
                    let unanswered = await parallel(http, url, count: n, bearer: url.hasSuffix("/metrics") ? token : nil)
                    #expect(unanswered == 0, "\(unanswered) of \(n) parallel requests to \(url) got no answer")
                    if unanswered > 0 { break burst }  // a frozen node stays frozen: no need to wait for more deadlines
                }
            }
            #expect(await answers(http, web + "/healthz", within: 5), "/healthz does not answer after the bursts")
        }
    }

    /// The CLI writes into a serving node's replica from another process; the node notices and
    /// tells its peer, which pulls at once: with an hour between periodic passes, nothing else
    /// would bring the edit over.
    @Test func aCLIWriteToAServingNodeReachesItsPeerWithoutWaitingForThePeriodicPass() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk")
        do {
            #expect(try await fed.converge(["fr", "uk"]))
            let add = try await AcesProcess.runAsync([
                "member", "add", "--data", fed.node("fr").path, "--email", "cli@example.org", "--name", "Zoë CLI",
            ])
            #expect(add.status == 0, "\(add.stderr)")
            #expect(try await fed.converge(["fr", "uk"], seconds: 20), "the CLI's edit did not reach uk")
            #expect(try await fed.store("uk").heads().first { $0.origin.rawValue == "fr" }?.seq == 1)
        } catch {
            await fed.stopAll()
            throw error
        }
        await fed.stopAll()
    }

    /// Sends `count` requests at once; returns how many got no answer (a 2xx-5xx status) in time.
    func parallel(_ http: HTTPClient, _ url: String, count: Int, bearer: String? = nil) async -> Int {
        var request = HTTPClientRequest(url: url)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        return await withTaskGroup(of: Bool.self) { [request] group in
            for _ in 0..<count {
                group.addTask {
                    guard let r = try? await http.execute(request, timeout: Self.deadline) else { return false }
                    return (try? await r.body.collect(upTo: 8 << 20)) != nil && r.status.code == 200
                }
            }
            var missing = 0
            for await ok in group where !ok { missing += 1 }
            return missing
        }
    }

    /// Whether `url` answers 200 within `seconds` (retrying while the node starts).
    func answers(_ http: HTTPClient, _ url: String, within seconds: Double) async -> Bool {
        let start = Date()
        while Date().timeIntervalSince(start) < seconds {
            if let r = try? await http.execute(HTTPClientRequest(url: url), timeout: .seconds(2)), r.status == .ok { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}
