import AcesCore
import AcesStore
import AcesTestSupport
import AcesWorkflows
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A crowd at once on every endpoint of a real node (`aces serve`, in its own process), public
/// and federation: every request is answered (none hangs, none gets a 5xx), the node still
/// answers its health check at once afterwards, and SIGTERM stops it promptly.
@Suite struct CrowdTests {
    /// Every GET of the public listener, with real ids, and the admin API's reads and writes.
    static func publicTargets(member m: String, event e: String, token: String) -> [(HTTPMethod, String, String?)] {
        [
            (.GET, "/", nil), (.GET, "/?q=zoe", nil), (.GET, "/?q=m&chapter=fr&page=2", nil), (.GET, "/members/\(m)", nil),
            (.GET, "/members/\(m).vcf", nil), (.GET, "/events", nil), (.GET, "/events/\(e)", nil), (.GET, "/events/\(e).ics", nil),
            (.GET, "/events.ics", nil), (.GET, "/chapters/fr/events.ics", nil), (.GET, "/static/aces.css", nil),
            (.GET, "/signin?token=nope", nil), (.GET, "/api/v1/members?q=zo&limit=20", nil), (.GET, "/api/v1/members/\(m)", nil),
            (.GET, "/api/v1/events", nil), (.GET, "/api/v1/events/\(e)", nil), (.GET, "/api/v1/chapters", nil),
            (.GET, "/api/v1/openapi.json", nil), (.GET, "/api/v1/status", nil), (.GET, "/healthz", nil), (.GET, "/readyz", nil),
            (.GET, "/metrics", token), (.GET, "/federation", nil), (.GET, "/admin/v1/members/\(m)", token),
            (.PATCH, "/admin/v1/members/\(m)", token),
        ]
    }

    static let federationTargets: [(HTTPMethod, String)] = [
        (.GET, "/federation/v1/heads"), (.GET, "/federation/v1/status"), (.GET, "/federation/v1/entries?origin=fr&after=0"),
        (.POST, "/federation/v1/notify"),
    ]

    /// A few hundred requests, 256 at a time (ServingUnderLoadTests bursts 16, 64 and 256 at the
    /// pages that used to freeze the node).
    @Test func aCrowdOnEveryEndpointIsAnsweredAndTheNodeKeepsServing() async throws {
        let parallel = 256
        // Given a node holding members and an event, served by the real executable
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        let fr = fed.node("fr")
        let editor = Editor(directory: fr, store: try fr.openStore())
        let zoe = try editor.addMember(["email": "zoe@example.fr", "name": "Zoë Martin", "city": "Lyon", "visibility": "public"]).id
        for i in 0..<30 {
            var values = TestNode.member(i).filter { $0.key != "chapter" }
            values["email"] = .string("crowd\(i)@example.org")
            _ = try editor.addMember(values)
        }
        let meetup = try editor.addEvent([
            "title": "Meetup", "start": .string(nextYear("03-14T18:30")), "end": .string(nextYear("03-14T21:00")),
            "timezone": "Europe/Paris",
        ]).id
        let token = try fr.openStore().createAdminToken(label: "crowd", random: SecretToken.random(36)).token
        let web = CrowdTests.publicTargets(member: zoe, event: meetup, token: token)
        let webBase = fr.config.web!.url
        let fedBase = fr.config.federation!.url

        let node = try AcesProcess.start(["serve", "--data", fr.path])
        defer { node.signalStop() }
        var config = HTTPClient.Configuration(tlsConfiguration: try fed.node("uk").tlsMaterial().client)
        config.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = parallel
        config.timeout = .init(connect: .seconds(30), read: .seconds(30))
        do {
            try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config) { http in
                #expect(try await CrowdTests.waitForHealth(http, webBase), "the node did not start")
                // When a crowd of `parallel` clients asks at once, over every public and federation endpoint
                let answers = await withTaskGroup(of: (String, Int?).self) { group in
                    for i in 0..<300 {
                        group.addTask {
                            var request: HTTPClientRequest
                            if i % 5 == 4 {
                                let (method, path) = CrowdTests.federationTargets[(i / 5) % CrowdTests.federationTargets.count]
                                request = HTTPClientRequest(url: fedBase + path)
                                request.method = method
                            } else {
                                let (method, path, bearer) = web[i % web.count]
                                request = HTTPClientRequest(url: webBase + path)
                                request.method = method
                                if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
                                if method == .PATCH {
                                    request.headers.add(name: "Content-Type", value: "application/json")
                                    request.body = .bytes(ByteBuffer(string: #"{"city":"Lyon \#(i)"}"#))
                                }
                            }
                            do {
                                // A deadline far above any honest answer on a loaded machine: a
                                // frozen node never answers at all.
                                let response = try await http.execute(request, timeout: .seconds(30))
                                _ = try await response.body.collect(upTo: 32 << 20)
                                return (request.url, Int(response.status.code))
                            } catch {
                                return (request.url, nil)
                            }
                        }
                    }
                    var out = [(String, Int?)]()
                    for await a in group { out.append(a) }
                    return out
                }
                // Then every request got an answer, and none a server error
                let unanswered = answers.filter { $0.1 == nil }.map(\.0)
                #expect(unanswered.isEmpty, "\(unanswered.count) unanswered, such as \(unanswered.prefix(3))")
                let failed = answers.filter { ($0.1 ?? 0) >= 500 }.map { "\($0.0) \($0.1!)" }
                #expect(failed.isEmpty, "server errors: \(failed.prefix(5))")
                // And the node still answers its health check and its peers at once
                let health = try await http.execute(HTTPClientRequest(url: webBase + "/healthz"), timeout: .seconds(2))
                #expect(health.status == .ok)
                let heads = try await http.execute(HTTPClientRequest(url: fedBase + "/federation/v1/heads"), timeout: .seconds(2))
                #expect(heads.status == .ok)
            }
        } catch {
            _ = await node.terminate(within: 20)
            throw error
        }
        // And SIGTERM stops it at once, whatever connections the crowd left open
        let took = await node.terminate(within: 20)
        #expect(took != nil, "SIGTERM did not stop the node: it was killed")
        #expect((took ?? 99) < 2, "SIGTERM took \(took ?? 99) s to stop the node")
    }

    /// Asks `/healthz` until it answers 200 (the process is starting); false after a minute.
    static func waitForHealth(_ http: HTTPClient, _ base: String) async throws -> Bool {
        for _ in 0..<600 {
            if let r = try? await http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(1)), r.status == .ok {
                return true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
