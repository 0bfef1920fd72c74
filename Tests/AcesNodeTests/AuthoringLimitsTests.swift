import AcesCore
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import Testing

/// The admin API refuses values over their limit in bytes of UTF-8, or stacking combining
/// marks, with one sentence, and writes nothing; values at the limit pass. Answers stay bounded.
@Suite(.serialized) struct AuthoringLimitsTests {
    @Test func theAdminAPICountsBytes() async throws {
        try await WebNode.with(seed: { _ in }) { n in
            let token = try n.store().createAdminToken(label: "limits", random: SecretToken.random(36)).token
            let headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
            func add(_ name: String, _ email: String) async throws -> WebNode.Page {
                let body = CanonicalJSON.encode(["email": .string(email), "name": .string(name), "visibility": "public"])
                return try await n.send(.POST, "/admin/v1/members", headers: headers, body: String(decoding: body, as: UTF8.self))
            }
            let heads = try await n.store().heads().map(\.seq)
            for (name, why) in [
                (String(repeating: "李", count: 67), "name: must be at most 200 bytes of UTF-8 (this one has 201)"),
                (String(repeating: "名", count: 20_000), "name: must be at most 200 bytes of UTF-8 (this one has 60000)"),
                ("Zo" + String(repeating: "\u{301}", count: 40), "must not stack more than 6 combining marks"),
            ] {
                let refused = try await add(name, "big@example.fr")
                #expect(refused.status == 400, "\(refused.body.prefix(200))")
                #expect(refused.json?["error"]?.stringValue?.contains(why) == true, "\(refused.body.prefix(200))")
            }
            #expect(try await n.store().heads().map(\.seq) == heads, "nothing was written")
            let fits = try await add(String(repeating: "李", count: 66), "fits@example.fr")
            #expect(fits.status == 201)
        }
    }

    @Test func aCalendarFeedStopsBefore16MiB() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        // 2,000 events with descriptions at their 8,000-byte limit: about 18 MB of feed uncapped.
        try fed.addEventsWithLongDescriptions(on: "fr", count: 2_000, sentences: 163, seed: 5)
        try await fed.start("fr")
        let url = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)/events.ics"
        let feed = try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
            let r = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(120))
            return String(buffer: try await r.body.collect(upTo: 64 << 20))
        }
        let events = feed.components(separatedBy: "BEGIN:VEVENT").count - 1
        #expect(feed.utf8.count <= 16 << 20, "the feed is \(feed.utf8.count) bytes")
        #expect(events > 500 && events < 2_000 && feed.hasSuffix("END:VCALENDAR\r\n"), "\(events) events")
        await fed.stopAll()
    }
}
