import AcesCore
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Random requests at every endpoint of a real node: never a 5xx, never a crash, and the node
/// still answers afterwards. Seeded, so a failure can be replayed; bounded, so CI stays fast.
@Suite(.serialized) struct FuzzTests {
    static let pieces = [
        "a", "zoë", "%", "%ZZ", "%FF", "%00", "'", "\"", "<script>", "*", "NEAR(", "--", "1e999", "-1", "0", "99999999999999999999",
        "true", "null", "[", "{", "\\", "\u{202E}", "01234567-89ab-7def-8123-456789abcdef", "fr", "xx", "page", "q", "limit", "cursor",
    ]

    func text(_ r: inout SplitMix) -> String {
        var s = ""
        for _ in 0..<r.int(6) { s += r.pick(Self.pieces) }
        return s
    }

    static let getPaths = [
        "/", "/members/%@", "/members/%@.vcf", "/events", "/events/%@", "/events/%@.ics", "/events.ics", "/chapters/%@/events.ics",
        "/signin", "/api/v1/members", "/api/v1/members/%@", "/api/v1/events", "/api/v1/events/%@", "/api/v1/chapters",
        "/api/v1/openapi.json", "/api/v1/status", "/readyz", "/metrics", "/static/aces.css", "/%@",
    ]
    static let params = ["q", "chapter", "country", "page", "limit", "cursor", "from", "to", "include_cancelled", "lang", "token", "x"]

    func body(_ r: inout SplitMix) -> [UInt8] {
        switch r.int(7) {
        case 0: return Array("{\"email\": \"a@b.org\", \"name\": ".utf8)  // truncated
        case 1: return Array((String(repeating: "[", count: 200 + r.int(5000)) + String(repeating: "]", count: 10)).utf8)  // deep
        case 2: return [0x7B, 0x22, 0x6E, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D]  // invalid UTF-8 inside a string
        case 3: return Array(repeating: 0x20, count: 70_000 + r.int(100_000))  // too large
        case 4: return r.bytes(r.int(300))  // noise
        case 5:
            let fields = [
                "email", "name", "city", "country", "links", "visibility", "status", "chapter", "start", "end", "timezone", "title",
            ]
            var o = [String]()
            for _ in 0..<r.int(6) {
                let v = r.pick([
                    "1", "true", "null", "[]", "{}", "\"\"", "\"x\"", "[1,2]", "\"2027-02-30T10:00\"", "\"Europe/Nowhere\"", "1e400",
                ])
                o.append("\"\(r.pick(fields))\": \(v)")
            }
            return Array(("{" + o.joined(separator: ", ") + "}").utf8)
        default: return Array("{\"email\": \"fuzz\(r.int(1000))@example.org\", \"name\": \"Fuzz\"}".utf8)
        }
    }

    /// Sends one request: any answer under 500, or a closed connection (an acceptable answer to
    /// garbage such as an oversized body), passes.
    func expectNo5xx(_ http: HTTPClient, _ request: HTTPClientRequest, case i: Int) async {
        do {
            let response = try await http.execute(request, timeout: .seconds(20))
            _ = try await response.body.collect(upTo: 32 << 20)
            #expect(response.status.code < 500, "case \(i): \(request.method) \(request.url) answered \(response.status.code)")
        } catch {
            #expect(!(error is CancellationError), "case \(i)")
        }
    }

    @Test func randomRequestsNeverGetA5xx() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr")
        do { try await fuzz(fed) } catch {
            await fed.stopAll()
            throw error
        }
        await fed.stopAll()
        #expect(try fed.store("fr").verifyLog(keys: fed.node("fr").keyRing()).isValid)
        #expect(try fed.store("fr").integrityCheck() == "ok")
    }

    func fuzz(_ fed: RunningFederation) async throws {
        var r = SplitMix(seed: 0xACE5_2026)
        let token = try fed.store("fr").createAdminToken(label: "fuzz", random: SecretToken.random(36)).token
        try await HTTPClient.withHTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(redirectConfiguration: .disallow)
        ) { http in
            let base = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)"
            for i in 0..<400 {
                var request: HTTPClientRequest
                if r.int(3) > 0 {
                    var path = r.pick(Self.getPaths).replacingOccurrences(
                        of: "%@", with: text(&r).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x")
                    var query = [String]()
                    for _ in 0..<r.int(4) {
                        let v = text(&r).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                        query.append("\(r.pick(Self.params))=\(r.int(5) == 0 ? r.pick(["%ZZ", "%FF%FE", "%"]) : v)")
                    }
                    if !query.isEmpty { path += "?" + query.joined(separator: "&") }
                    request = HTTPClientRequest(url: base + path)
                } else {
                    let target = r.pick([
                        "/admin/v1/members", "/admin/v1/events", "/admin/v1/members/01234567-89ab-7def-8123-456789abcdef",
                        "/admin/v1/members/01234567-89ab-7def-8123-456789abcdef/erase", "/admin/v1/events/x/cancel", "/signin", "/signout",
                    ])
                    request = HTTPClientRequest(url: base + target)
                    request.method = r.pick([.POST, .PATCH, .DELETE, .PUT])
                    request.headers.add(
                        name: "Content-Type", value: r.pick(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
                    if r.int(4) > 0 { request.headers.add(name: "Authorization", value: r.int(3) == 0 ? "Bearer nope" : "Bearer \(token)") }
                    request.body = .bytes(ByteBuffer(bytes: body(&r)))
                }
                await expectNo5xx(http, request, case: i)
            }
            let health = try await http.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(10))
            #expect(health.status == .ok, "the node still answers after the fuzzing")
        }
    }

    @Test func randomFederationRequestsFromAPeerNeverGetA5xx() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        for i in 0..<3 { try fed.addMember(on: "fr", i) }
        try await fed.start("fr")
        do {
            var r = SplitMix(seed: 0xFED_2026)
            let base = fed.node("fr").config.federation!.url
            try await HTTPClient.withHTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                configuration: .init(tlsConfiguration: try fed.node("uk").tlsMaterial().client)
            ) { http in
                for i in 0..<200 {
                    let path = r.pick([
                        "/federation/v1/heads", "/federation/v1/entries", "/federation/v1/notify", "/federation/v1/status",
                        "/federation/v1/x",
                    ])
                    var query = [String]()
                    for _ in 0..<r.int(4) {
                        let value =
                            r.int(3) == 0
                            ? r.pick(["%ZZ", "%FF", "-1", "99999999999999999999", "fr", "FR", "", "1e9", "0x10"])
                            : text(&r).addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                        query.append("\(r.pick(["origin", "after", "limit", "x"]))=\(value)")
                    }
                    var request = HTTPClientRequest(url: base + path + (query.isEmpty ? "" : "?" + query.joined(separator: "&")))
                    request.method = r.pick([.GET, .GET, .POST, .PUT])
                    if request.method != .GET { request.body = .bytes(ByteBuffer(bytes: body(&r))) }
                    if r.int(2) == 0 { request.headers.add(name: "Accept-Encoding", value: r.pick(["gzip", "br", "x"])) }
                    await expectNo5xx(http, request, case: i)
                }
                let heads = try await http.execute(HTTPClientRequest(url: base + "/federation/v1/heads"), timeout: .seconds(10))
                #expect(heads.status == .ok, "the node still answers its peers")
            }
        } catch {
            await fed.stopAll()
            throw error
        }
        await fed.stopAll()
    }
}
