import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// What a visitor may learn about people they may not see: not their number (metrics and the
/// status answer), and not, through a merged duplicate's id, who they became.
@Suite(.serialized) struct PrivacyTests {
    static func seed(_ n: WebNode) throws {
        let survivor = try n.member("survivor", on: "fr", ["email": "sam@example.fr", "name": "Sam Public", "visibility": "public"])
        let hidden = try n.member("hidden", on: "fr", ["email": "sam.h@example.fr", "name": "Sam Hidden", "visibility": "members"])
        let shown = try n.member("shown", on: "fr", ["email": "sam.p@example.fr", "name": "Sam Shown", "visibility": "public"])
        try n.member("other", on: "fr", ["email": "other@example.fr", "name": "Olga Members", "visibility": "members"])
        // Merged as `aces conflicts settle --merge-into` does: each duplicate names its survivor.
        let fr = n.fed.node("fr")
        try n.store().author(as: try fr.author()) { _ in
            [hidden, shown].map { .set(.member, id: $0, values: ["merged_into": .string(survivor)]) }
        }
    }

    @Test func metricsNeedAnAdminToken() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let anonymous = try await n.get("/metrics")
            #expect(anonymous.status == 401, "anonymous /metrics counts hidden members")
            #expect(!anonymous.body.contains("aces_members"))
            #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try await n.get("/metrics", headers: [("Authorization", "Bearer aces_nope")]).status == 401)
            let token = try n.store().createAdminToken(label: "prometheus", random: SecretToken.random(36)).token
            let scraped = try await n.get("/metrics", headers: [("Authorization", "Bearer \(token)")])
            #expect(scraped.status == 200 && scraped.body.contains("aces_members"))
        }
    }

    @Test func theStatusAnswerCountsNothing() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let status = try await n.get("/api/v1/status")
            #expect(status.status == 200)
            let json = try #require(status.json)
            #expect(json == ["chapter": "fr", "status": "up"], "\(status.body)")
        }
    }

    @Test func aHiddenMergedMemberIsUnknown() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let hidden = n.ids["hidden"]!, unknown = "01234567-89ab-7def-8123-456789abcdef"
            let page = try await n.get("/members/\(hidden)")
            let missing = try await n.get("/members/\(unknown)")
            #expect(page.status == 404 && page.header("Location") == nil, "a hidden duplicate must not lead to its survivor")
            #expect(page.body.replacingOccurrences(of: hidden, with: unknown) == missing.body, "the same answer as an unknown id")
            #expect(try await n.get("/members/\(hidden).vcf").status == 404)
            #expect(try await n.get("/api/v1/members/\(hidden)").status == 404)
            // A duplicate the visitor may see still leads to its survivor.
            let shown = try await n.get("/members/\(n.ids["shown"]!)")
            #expect(shown.status == 301 && shown.header("Location") == "/members/\(n.ids["survivor"]!)")
            // A signed-in member may see the hidden duplicate, so for them it leads on too.
            let store = try n.store()
            let invite = try store.invite(member: n.ids["other"]!, lifetime: 3600, random: SecretToken.random(32))
            let session = try #require(try await store.signIn(with: invite.token, random: SecretToken.random(32))).session
            let signedIn = try await n.get("/members/\(hidden)", cookie: "aces_session=\(session)")
            #expect(signedIn.status == 301 && signedIn.header("Location") == "/members/\(n.ids["survivor"]!)")
        }
    }
}
