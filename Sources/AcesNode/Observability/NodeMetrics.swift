import AcesCore
import AcesStore
import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import Prometheus

/// The node's metrics in the Prometheus text format (`GET /metrics` on the public listener).
/// Labels are chapter ids, route patterns and reasons: never a name, an email or a query.
public final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let chapter: ChapterID

    /// When each peer's certificate ends, as last seen.
    private let certificateEnds = NIOLockedValueBox<[ChapterID: Date]>([:])
    private let servingBox = NIOLockedValueBox<ServingState?>(nil)

    public init(chapter: ChapterID) { self.chapter = chapter }

    /// The running node, for its own certificate.
    var serving: ServingState? {
        get { servingBox.withLockedValue { $0 } }
        set { servingBox.withLockedValue { $0 = newValue } }
    }

    /// A peer's certificate ends at `notValidAfter`.
    func certificate(_ peer: ChapterID, notValidAfter: Date) { certificateEnds.withLockedValue { $0[peer] = notValidAfter } }

    /// When each known certificate ends, this node's own included.
    var certificates: [ChapterID: Date] {
        var ends = certificateEnds.withLockedValue { $0 }
        if let own = serving?.certificateNotValidAfter { ends[chapter] = own }
        return ends
    }

    static let requestBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
    ]

    /// Entries a sync pass applied from `peer`, of `origin`.
    func applied(_ count: Int, peer: ChapterID, origin: ChapterID) {
        registry.makeCounter(
            name: "aces_sync_entries_applied_total", labels: [("peer", peer.rawValue), ("origin", origin.rawValue)],
            help: "Entries received from a peer, verified and applied, by origin."
        ).increment(by: Int64(count))
    }

    /// An entry refused from `peer`, with the refusal's code.
    func refused(peer: ChapterID, origin: ChapterID, reason: String) {
        countRefused(peer: peer.rawValue, origin: origin.rawValue, reason: reason, by: 1)
    }

    private func countRefused(peer: String, origin: String, reason: String, by count: Int64) {
        registry.makeCounter(
            name: "aces_sync_entries_refused_total", labels: [("peer", peer), ("origin", origin), ("reason", reason)],
            help: "Entries refused (and quarantined) from a peer, by origin and reason."
        ).increment(by: count)
    }

    /// One HTTP request answered.
    func request(listener: String, route: String, status: Int, duration: Duration) {
        registry.makeDurationHistogram(
            name: "aces_http_request_duration_seconds", labels: [("listener", listener), ("route", route), ("status", String(status))],
            buckets: NodeMetrics.requestBuckets, help: "Time to answer HTTP requests, by listener, route pattern and status."
        ).record(duration)
    }

    /// The text exposition, with gauges read from the replica now.
    func render(store: Store) async throws -> [UInt8] {
        for h in try await store.heads() {
            registry.makeGauge(
                name: "aces_log_entries", labels: [("origin", h.origin.rawValue)],
                help: "Entries held per origin (for this node's own origin: entries authored here)."
            ).set(Double(h.seq))
            registry.makeGauge(
                name: "aces_origin_frozen", labels: [("origin", h.origin.rawValue)], help: "1 when an origin is frozen after a fork."
            )
            .set(h.frozen == nil ? 0.0 : 1.0)
        }
        let now = Date()
        for (c, end) in certificates {
            registry.makeGauge(
                name: "aces_certificate_expiry_seconds", labels: [("chapter", c.rawValue)],
                help: "Seconds until a node's TLS certificate expires (this node's, and its peers' as last seen); negative once expired."
            ).set(end.timeIntervalSince(now))
        }
        for p in try await store.peerStatuses() {
            // Every origin the peer held at the last pass, 0 when this node holds all of it.
            for origin in Set(p.heads.keys).union(p.lag.keys) {
                registry.makeGauge(
                    name: "aces_sync_lag_entries", labels: [("peer", p.chapter), ("origin", origin)],
                    help: "Entries a peer held, at the last pass, that this node did not."
                ).set(Double(p.lag[origin] ?? 0))
            }
            // Present from the first pass, at 0, so that a rate over it works before any refusal.
            countRefused(peer: p.chapter, origin: "", reason: "", by: 0)
            registry.makeGauge(
                name: "aces_sync_seconds_since_success", labels: [("peer", p.chapter)],
                help: "Seconds since the last successful sync pass with a peer (-1: never)."
            ).set(p.lastSuccess.map { now.timeIntervalSince($0) } ?? -1)
            registry.makeGauge(name: "aces_sync_failures", labels: [("peer", p.chapter)], help: "Failed passes in a row with a peer.")
                .set(Double(p.failures))
        }
        let counts = try await store.operationalCounts()
        registry.makeGauge(name: "aces_conflicts_open", help: "Records with a conflict an operator has not settled.").set(
            Double(counts.conflicts))
        registry.makeGauge(name: "aces_quarantined_entries", help: "Entries refused and kept in quarantine.").set(
            Double(counts.quarantined))
        registry.makeGauge(
            name: "aces_withheld_operations", help: "Operations received without their payload, not applied until a peer sends it."
        ).set(Double(try await store.withheldCounts().total))
        registry.makeGauge(name: "aces_search_pending_members", help: "Members waiting for the search indexer.").set(
            Double(counts.searchPending))
        registry.makeGauge(name: "aces_members", help: "Listed members held (all chapters).").set(Double(counts.members))
        registry.makeGauge(name: "aces_events", help: "Events held (all chapters).").set(Double(counts.events))
        return registry.emitToBuffer()
    }
}

/// Times every request of a listener into `aces_http_request_duration_seconds`.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: NodeMetrics
    let listener: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = RoutePattern.of(request.uri.path)
        do {
            let response = try await next(request, context)
            metrics.request(listener: listener, route: route, status: response.status.code, duration: start.duration(to: .now))
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.request(listener: listener, route: route, status: status, duration: start.duration(to: .now))
            throw error
        }
    }
}

/// Route patterns for metrics labels.
enum RoutePattern {
    /// The route pattern of a path: ids become `:id`, chapter ids `:chapter`; anything else is `other`.
    static func of(_ path: String) -> String {
        var parts = [String]()
        for (i, seg) in path.split(separator: "/", omittingEmptySubsequences: false).enumerated() {
            let s = String(seg)
            if i > 0, parts.last == "chapters" {
                parts.append(":chapter")
            } else if let dot = s.lastIndex(of: "."), RecordID.isValid(String(s[..<dot])) {
                parts.append(":id" + s[dot...])
            } else if RecordID.isValid(s) {
                parts.append(":id")
            } else {
                parts.append(s)
            }
        }
        let pattern = parts.joined(separator: "/")
        return known.contains(pattern) || pattern.hasPrefix("/federation/v1/") ? pattern : "other"
    }

    static let known: Set<String> = [
        "/", "/healthz", "/readyz", "/metrics", "/federation", "/events", "/events.ics", "/events/:id", "/events/:id.ics", "/members/:id",
        "/members/:id.vcf", "/chapters/:chapter/events.ics", "/static/aces.css", "/signin", "/signout", "/api/v1/members",
        "/api/v1/members/:id", "/api/v1/events", "/api/v1/events/:id", "/api/v1/chapters", "/api/v1/status", "/api/v1/openapi.json",
        "/admin/v1/members", "/admin/v1/members/:id", "/admin/v1/members/:id/erase", "/admin/v1/events", "/admin/v1/events/:id",
        "/admin/v1/events/:id/cancel",
    ]
}
