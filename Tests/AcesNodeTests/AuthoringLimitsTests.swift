import AcesCore
import AcesNode
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The admin API refuses values over their limit in bytes of UTF-8, or stacking combining
/// marks, with one sentence, and writes nothing; values at the limit pass.
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
}
