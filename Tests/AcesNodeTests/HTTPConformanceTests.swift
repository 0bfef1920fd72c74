import AcesCore
import AcesDevTools
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP as clients expect it (RFC 9110/9112), from a real node: HEAD, HTTP/1.0 and keep-alive,
/// 405 with `Allow`, cache and security headers on every answer, entity tags on feeds and
/// cards, sign-in forms only from the node's own pages and sign-in links good for one session,
/// `robots.txt` and the icon.
@Suite(.serialized) struct HTTPConformanceTests {
    static func seed(_ n: WebNode) throws {
        try n.member(
            "zoe", on: "fr", ["email": "zoe@example.fr", "name": "Zoë Martin", "city": "Lyon", "country": "FR", "visibility": "public"])
        try n.member("marie", on: "fr", ["email": "marie@example.fr", "name": "Marie Membre", "visibility": "members"])
        try n.event(
            "paris", on: "fr",
            [
                "title": "Meetup Paris", "start": .string(nextYear("03-14T18:30")), "end": .string(nextYear("03-14T21:00")),
                "timezone": "Europe/Paris",
            ])
    }

    /// Signs `label` in through the form, as a browser on the node's own page would.
    static func signIn(_ n: WebNode, _ label: String) async throws -> String {
        let invite = try n.store().invite(member: n.ids[label]!, lifetime: 3600, random: SecretToken.random(32))
        let opened = try await n.send(
            .POST, "/signin", headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", n.base)],
            body: "token=\(invite.token)")
        return try #require(WebNode.cookie(opened, "aces_session"))
    }

    @Test func headAnswersEveryGetRouteWithItsHeadersAndNoBody() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            for path in [
                "/", "/healthz", "/events", "/events.ics", "/members/\(n.ids["zoe"]!)", "/members/\(n.ids["zoe"]!).vcf",
                "/events/\(n.ids["paris"]!).ics", "/api/v1/members", "/api/v1/openapi.json", "/static/aces.css", "/robots.txt",
                "/members/01234567-89ab-7def-8123-456789abcdef",
            ] {
                let get = try await n.get(path)
                let head = try await n.send(.HEAD, path, body: nil)
                #expect(head.status == get.status, "HEAD \(path)")
                #expect(head.body.isEmpty, "HEAD \(path) has no body")
                #expect(head.header("Content-Type") == get.header("Content-Type"), "HEAD \(path)")
                #expect(head.header("Content-Length") == String(get.body.utf8.count), "HEAD \(path) gives the GET body's length")
            }
            #expect(try await n.send(.HEAD, "/nowhere", body: nil).status == 404)

            // The federation listener too, for a peer with its certificate.
            let tls = try n.fed.node("uk").tlsMaterial().client
            try await HTTPClient.withHTTPClient(
                eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: .init(tlsConfiguration: tls)
            ) {
                http in
                var request = HTTPClientRequest(url: n.fed.node("fr").config.federation!.url + "/federation/v1/heads")
                request.method = .HEAD
                let response = try await http.execute(request, timeout: .seconds(20))
                #expect(response.status == .ok && response.headers.first(name: "Content-Type") == "application/json")
                // A streamed answer's length is not known before it is sent: HEAD does not invent one.
                var entries = HTTPClientRequest(url: n.fed.node("fr").config.federation!.url + "/federation/v1/entries?origin=fr")
                entries.method = .HEAD
                let streamed = try await http.execute(entries, timeout: .seconds(20))
                #expect(streamed.status == .ok && streamed.headers.first(name: "Content-Length") == nil)
                request.method = .DELETE
                let refused = try await http.execute(request, timeout: .seconds(20))
                #expect(refused.status == .methodNotAllowed && refused.headers.first(name: "Allow") == "GET, HEAD, OPTIONS")
                #expect(refused.headers.first(name: "X-Content-Type-Options") == "nosniff")
            }
        }
    }

    /// Sends `request` on a fresh connection and reads until the server closes it or `wait`
    /// seconds pass (far more than an answer takes, far less than the idle timeout).
    /// What a raw exchange read, and whether the server closed the connection.
    typealias Exchange = (text: String, closed: Bool)

    static func exchange(port: Int, _ request: String, wait: Double = 20) -> (text: String, closed: Bool) {
        guard let fd = LimitsTests().connectLoopback(port: port) else { return ("", false) }
        defer { close(fd) }
        return exchange(fd, request, wait: wait, until: { _ in false })
    }

    /// Sends `request` on `fd`, then reads until `done` says the answer is complete, the server
    /// closes the connection, or `wait` seconds pass.
    static func exchange(_ fd: Int32, _ request: String, wait: Double, until done: (String) -> Bool) -> (text: String, closed: Bool) {
        _ = Array(request.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let start = Date()
        while Date().timeIntervalSince(start) < wait {
            let got = recv(fd, &buffer, buffer.count, 0)
            if got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                return (String(decoding: received, as: UTF8.self), true)
            }
            if got > 0 { received += buffer[0..<got] }
            if done(String(decoding: received, as: UTF8.self)) { return (String(decoding: received, as: UTF8.self), false) }
        }
        return (String(decoding: received, as: UTF8.self), false)
    }

    /// Whether `text` holds a whole answer: its head, and as many body bytes as its Content-Length says.
    static func complete(_ text: String) -> Bool {
        guard let end = text.range(of: "\r\n\r\n") else { return false }
        let head = text[..<end.lowerBound].lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return text[end.upperBound...].utf8.count >= length
    }

    @Test func http10ClientsGetTheirAnswerAndTheConnectionClosesUnlessKeptAlive() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        // An idle timeout far longer than the test waits: only closing after the answer passes.
        try fed.reconfigure("fr") { $0.web?.idleTimeoutSeconds = 600 }
        try await fed.start("fr")
        let port = fed.server("fr")!.port("web")!
        let results = await onOwnThread { () -> [Exchange] in
            var results = [(text: String, closed: Bool)]()
            for _ in 0..<3 { results.append(Self.exchange(port: port, "GET /healthz HTTP/1.0\r\n\r\n")) }
            results.append(Self.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n"))
            results.append(Self.exchange(port: port, "HEAD / HTTP/1.0\r\n\r\n"))
            return results
        }
        for r in results {
            #expect(r.closed, "the server closes the connection after answering: \(r.text)")
            #expect(r.text.hasPrefix("HTTP/1.1 200 OK\r\n") && r.text.lowercased().contains("\r\nconnection: close\r\n"), "\(r.text)")
        }
        #expect(results[0].text.hasSuffix("\r\n\r\nok\n"))

        // An HTTP/1.0 client that asks for keep-alive has it echoed and keeps its connection.
        let kept = await onOwnThread { () -> [Exchange] in
            guard let fd = LimitsTests().connectLoopback(port: port) else { return [] }
            defer { close(fd) }
            let request = "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
            return [Self.exchange(fd, request, wait: 20, until: Self.complete), Self.exchange(fd, request, wait: 20, until: Self.complete)]
        }
        #expect(kept.count == 2)
        for r in kept {
            #expect(!r.closed && r.text.hasSuffix("ok\n") && r.text.lowercased().contains("\r\nconnection: keep-alive\r\n"), "\(r.text)")
        }
        await fed.stopAll()
    }

    @Test func unsupportedMethodsOnKnownAddressesGet405WithAllow() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let root = try await n.send(.DELETE, "/", body: nil)
            #expect(root.status == 405 && root.header("Allow") == "GET, HEAD, OPTIONS")
            #expect(root.body == "This address answers GET, HEAD, OPTIONS, not DELETE.\n")
            let events = try await n.send(.POST, "/events", body: "x")
            #expect(events.status == 405 && events.header("Allow") == "GET, HEAD, OPTIONS")
            let api = try await n.send(.PUT, "/api/v1/members/\(n.ids["zoe"]!)", body: "{}")
            #expect(api.status == 405 && api.header("Allow") == "GET, HEAD, OPTIONS" && api.json?["error"] != nil)
            let signout = try await n.get("/signout")
            #expect(signout.status == 405 && signout.header("Allow") == "OPTIONS, POST")
            let headSignout = try await n.send(.HEAD, "/signout", body: nil)
            #expect(headSignout.status == 405 && headSignout.body.isEmpty)
            let options = try await n.send(.OPTIONS, "/events.ics", body: nil)
            #expect(options.status == 204 && options.header("Allow") == "GET, HEAD, OPTIONS")
            // An unknown address stays a 404, whatever the method.
            #expect(try await n.send(.DELETE, "/nowhere", body: nil).status == 404)
            #expect(try await n.get("/nowhere").status == 404)
        }
    }

    @Test func everyAnswerCarriesSecurityHeadersAndSessionDependentOnesArePrivate() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let cookie = try await Self.signIn(n, "zoe")
            var answers: [(String, WebNode.Page)] = []
            for path in [
                "/", "/nowhere", "/healthz", "/readyz", "/api/v1/members", "/api/v1/members/\(n.ids["marie"]!)", "/api/v1/members/x",
                "/api/v1/events?limit=x", "/events.ics", "/members/\(n.ids["marie"]!).vcf", "/robots.txt", "/favicon.ico",
            ] {
                answers.append((path, try await n.get(path, cookie: cookie)))
            }
            answers.append(("DELETE /", try await n.send(.DELETE, "/", body: nil)))
            for (what, page) in answers {
                #expect(page.header("X-Content-Type-Options") == "nosniff", "\(what) (\(page.status))")
                #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true, "\(what) (\(page.status))")
            }
            // What a member sees (emails, members-only people) is never for a shared cache.
            for (what, page) in answers where what.hasPrefix("/api/v1/members") || what.hasSuffix(".vcf") || what == "/" {
                #expect(page.header("Cache-Control")?.contains("private") == true, "\(what)")
                #expect(page.header("Vary")?.lowercased().contains("cookie") == true, "\(what)")
            }
            let api = try #require(answers.first { $0.0 == "/api/v1/members/\(n.ids["marie"]!)" }?.1)
            #expect(api.status == 200 && api.body.contains("marie@example.fr"))
        }
    }

    @Test func feedsAndCardsAnswer304UntilTheyChange() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            for path in ["/events.ics", "/chapters/fr/events.ics", "/events/\(n.ids["paris"]!).ics", "/members/\(n.ids["zoe"]!).vcf"] {
                let first = try await n.get(path)
                let tag = try #require(first.header("ETag"), "\(path) has an entity tag")
                let again = try await n.get(path, headers: [("If-None-Match", tag)])
                #expect(again.status == 304 && again.body.isEmpty && again.header("ETag") == tag, "\(path)")
                #expect(try await n.get(path, headers: [("If-None-Match", "\"other\"")]).status == 200)
            }
            // A change gives a new tag; the old one no longer matches.
            let feed = try await n.get("/events.ics")
            _ = try n.editor("fr").updateEvent(n.ids["paris"]!, ["venue": "La Gaîté Lyrique"])
            let changed = try await n.get("/events.ics", headers: [("If-None-Match", feed.header("ETag")!)])
            #expect(changed.status == 200 && changed.body.contains("Gaîté") && changed.header("ETag") != feed.header("ETag"))

            // A member is shown the email on a card, a visitor is not: their tags differ.
            let visitor = try await n.get("/members/\(n.ids["zoe"]!).vcf")
            let cookie = try await Self.signIn(n, "marie")
            let member = try await n.get(
                "/members/\(n.ids["zoe"]!).vcf", cookie: cookie, headers: [("If-None-Match", visitor.header("ETag")!)])
            #expect(member.status == 200 && member.body.contains("zoe@example.fr") && member.header("ETag") != visitor.header("ETag"))
        }
    }

    @Test func signInFormsComeFromThisSiteAndALinkOpensOneSession() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let store = try n.store()
            let invite = try store.invite(member: n.ids["marie"]!, lifetime: 3600, random: SecretToken.random(32))
            let form = ("Content-Type", "application/x-www-form-urlencoded")
            let body = "token=\(invite.token)"
            for headers in [
                [("Origin", "https://evil.example")], [("Origin", "null")], [("Sec-Fetch-Site", "cross-site")],
                [("Origin", n.base), ("Sec-Fetch-Site", "same-site")],
            ] {
                let refused = try await n.send(.POST, "/signin", headers: [form] + headers, body: body)
                #expect(refused.status == 403 && WebNode.cookie(refused, "aces_session") == nil, "\(headers)")
                #expect(refused.body.contains("another site"), "\(headers)")
            }
            // A refused form did not spend the link; the node's own page may use it, once.
            let opened = try await n.send(
                .POST, "/signin", headers: [form, ("Origin", n.base), ("Sec-Fetch-Site", "same-origin")], body: body)
            #expect(opened.status == 303)
            let cookie = try #require(WebNode.cookie(opened, "aces_session"))
            let again = try await n.send(.POST, "/signin", headers: [form, ("Origin", n.base)], body: body)
            #expect(again.status == 403 && WebNode.cookie(again, "aces_session") == nil)
            #expect(again.body.contains("already used"), "the same page as an expired link")
            #expect(try await n.get("/signin?token=\(invite.token)").status == 403)
            // Of two uses at once, one opens a session.
            let racing = "token=" + (try store.invite(member: n.ids["marie"]!, lifetime: 3600, random: SecretToken.random(32)).token)
            async let first = n.send(.POST, "/signin", headers: [form], body: racing)
            async let second = n.send(.POST, "/signin", headers: [form], body: racing)
            #expect(try await [first.status, second.status].sorted() == [303, 403])

            // Another site cannot sign the member out either.
            let out = try await n.send(.POST, "/signout", cookie: cookie, headers: [("Origin", "https://evil.example")], body: "")
            #expect(out.status == 403)
            #expect(try await n.get("/", cookie: cookie).body.contains("Marie Membre"), "still signed in")
            let own = try await n.send(.POST, "/signout", cookie: cookie, headers: [("Origin", n.base)], body: "")
            #expect(own.status == 303)
            #expect(!(try await n.get("/", cookie: cookie).body.contains("Marie Membre")), "signed out")
        }
    }

    @Test func robotsKeepSearchEnginesOutUnlessTheChapterAllowsThem() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let robots = try await n.get("/robots.txt")
            #expect(robots.status == 200 && robots.body == "User-agent: *\nDisallow: /\n")
            let ico = try await n.get("/favicon.ico")
            #expect(ico.status == 200 && ico.header("Content-Type") == "image/x-icon" && ico.body.utf8.starts(with: [0, 0, 1, 0]))
            let svg = try await n.get("/favicon.svg")
            #expect(svg.status == 200 && svg.header("Content-Type") == "image/svg+xml" && svg.body.contains("<svg"))
            #expect(try await n.get("/").body.contains("<link rel=\"icon\" href=\"/favicon.svg\""))
        }
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        try fed.reconfigure("fr") { $0.web?.allowIndexing = true }
        #expect(try NodeConfig.parse(try fed.node("fr").config.toml()).web?.allowIndexing == true)
        try await fed.start("fr")
        let robots = try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
            let url = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)/robots.txt"
            return String(buffer: try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(20)).body.collect(upTo: 1 << 16))
        }
        #expect(robots.contains("Allow: /\n") && robots.contains("Disallow: /api/\n") && robots.contains("Disallow: /signin\n"))
        await fed.stopAll()
    }
}
