import AcesCore
import AcesStore
import CoreMetrics
import Foundation
import Hummingbird
import Metrics
import NIOConcurrencyHelpers
import Prometheus

/// The node's metrics in the Prometheus text format (`GET /metrics` on the public listener).
/// Labels are chapter ids, route patterns and reasons: never a name, an email or a query.
/// HTTP requests are timed by Hummingbird's `MetricsMiddleware` through swift-metrics (see
/// `httpMiddleware()`); the rest is set here.
public final class NodeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let chapter: ChapterID

    /// When each peer's certificate ends, as last seen.
    private let certificateEnds = NIOLockedValueBox<[ChapterID: Date]>([:])
    private let servingBox = NIOLockedValueBox<ServingState?>(nil)

    public init(chapter: ChapterID) { self.chapter = chapter }

    /// The running node, for its own certificate.
    public var serving: ServingState? {
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

    /// The text exposition, with gauges read from the replica now.
    public func render(store: Store) async throws -> [UInt8] {
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
        registry.makeGauge(
            name: "aces_ownership_refused_operations",
            help: "Operations refused because their chapter does not own the record, kept as evidence (by the peer that sent them)."
        ).set(Double(try await store.refusedOperationCounts().total))
        registry.makeGauge(name: "aces_search_pending_members", help: "Members waiting for the search indexer.").set(
            Double(counts.searchPending))
        registry.makeGauge(name: "aces_members", help: "Listed members held (all chapters).").set(Double(counts.members))
        registry.makeGauge(name: "aces_events", help: "Events held (all chapters).").set(Double(counts.events))
        return registry.emitToBuffer()
    }
}

extension NodeMetrics {
    /// Which node and listener a running server belongs to: bound around each listener's run
    /// (`NodeServer.run`), inherited by its connections, read when swift-metrics makes a metric.
    @TaskLocal public static var serving: (metrics: NodeMetrics, listener: String)? = nil

    /// Hummingbird's metrics middleware: it labels each request by the route it matched
    /// (`context.endpointPath`, a pattern such as `/members/{id}`, never the path itself), through
    /// swift-metrics, into the registry of the node whose listener serves it.
    public static func httpMiddleware<Context: RequestContext>() -> MetricsMiddleware<Context> {
        _ = NodeMetrics.bootstrap
        return MetricsMiddleware()
    }

    /// swift-metrics is bootstrapped once per process, with a factory that hands each metric to
    /// the node serving (several nodes share a process in tests and benchmarks).
    static let bootstrap: Void = MetricsSystem.bootstrap(ServingNodeMetricsFactory())

    /// A factory on this node's registry that names Hummingbird's metrics as docs/OPERATIONS.md does.
    func factory(listener: String) -> PrometheusMetricsFactory {
        var f = PrometheusMetricsFactory(registry: registry)
        f.defaultDurationHistogramBuckets = NodeMetrics.requestBuckets
        f.nameAndLabelSanitizer = { name, labels in NodeMetrics.rename(name, labels, listener: listener) }
        return f
    }

    /// Hummingbird's metric names and dimensions, as this node exposes them.
    static func rename(_ name: String, _ labels: [(String, String)], listener: String) -> (String, [(String, String)]) {
        var d = [String: String]()
        for (k, v) in labels where d[k] == nil { d[k] = v }
        let route = d["http.route"] ?? "other", method = d["http.request.method"] ?? "other"
        switch name {
        case "http.server.request.duration":
            return (
                "aces_http_request_duration_seconds",
                [("listener", listener), ("route", route), ("status", d["http.response.status_code"] ?? "0")]
            )
        case "hb.requests":
            return (
                "aces_http_requests_total",
                [("listener", listener), ("route", route), ("method", method), ("status", d["http.response.status_code"] ?? "0")]
            )
        case "hb.request.errors":
            return (
                "aces_http_request_errors_total",
                [("listener", listener), ("route", route), ("method", method), ("status", d["error.type"] ?? "0")]
            )
        case "http.server.active_requests": return ("aces_http_active_requests", [("listener", listener), ("method", method)])
        default:
            let safe = String(name.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
            return ("aces_" + safe, labels.map { (k, v) in (String(k.map { $0.isLetter || $0.isNumber ? $0 : "_" }), v) })
        }
    }
}

/// Makes each swift-metrics metric in the registry of the node whose listener is serving
/// (`NodeMetrics.serving`); a metric made outside any listener goes to a registry nobody reads.
struct ServingNodeMetricsFactory: MetricsFactory {
    let unattached = PrometheusMetricsFactory(registry: PrometheusCollectorRegistry())

    var current: PrometheusMetricsFactory {
        guard let s = NodeMetrics.serving else { return unattached }
        return s.metrics.factory(listener: s.listener)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        current.makeCounter(label: label, dimensions: dimensions)
    }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        current.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        current.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        current.makeMeter(label: label, dimensions: dimensions)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        current.makeTimer(label: label, dimensions: dimensions)
    }
    // A node's metrics live as long as its process: nothing is destroyed (which registry held a
    // handler is not known here).
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
