import AcesCore
import Hummingbird
import HummingbirdTesting
import Testing

@testable import AcesFederation

/// HTTP requests are timed by Hummingbird's metrics middleware into the serving node's registry,
/// labelled by the route they matched: a pattern, never the path with its ids.
@Suite struct HTTPMetricsTests {
    @Test func requestsAreLabelledByTheirMatchedRouteInTheServingNodesRegistry() async throws {
        let fr = NodeMetrics(chapter: ChapterID("fr")!), uk = NodeMetrics(chapter: ChapterID("uk")!)
        let router = Router()
        router.add(middleware: NodeMetrics.httpMiddleware())
        router.get("/members/:id") { _, _ in "a member" }
        let id = "0193f0c2-7b1e-7c3a-9d2e-5f6a7b8c9d0e"
        try await NodeMetrics.$serving.withValue((fr, "public")) {
            try await Application(router: router).test(.router) { client in
                for _ in 0..<2 {
                    try await client.execute(uri: "/members/\(id)", method: .get) { #expect($0.status == .ok) }
                }
                try await client.execute(uri: "/nowhere/\(id)", method: .get) { #expect($0.status == .notFound) }
            }
        }
        let text = String(decoding: fr.registry.emitToBuffer(), as: UTF8.self)
        #expect(
            text.contains(#"aces_http_request_duration_seconds_count{listener="public",route="/members/{id}",status="200"} 2"#), "\(text)")
        #expect(text.contains(#"aces_http_requests_total{listener="public",route="/members/{id}",method="GET",status="200"} 2"#), "\(text)")
        #expect(text.contains(#"route="NotFound""#), "\(text)")
        #expect(!text.contains(id) && !text.contains("nowhere"))
        // Another node of the same process counts nothing it did not serve.
        #expect(!String(decoding: uk.registry.emitToBuffer(), as: UTF8.self).contains("aces_http"))
    }
}
