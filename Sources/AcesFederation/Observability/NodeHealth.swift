import AcesCore
import AcesNodeFiles
import AcesStore
import Foundation
import NIOConcurrencyHelpers

/// One node's health in a few numbers (ids and counts only), served to peers over the
/// federation listener and gathered by the operators' dashboard.
enum NodeHealth {
    static func summary(chapter: ChapterID, store: Store) async throws -> JSONValue {
        let heads = try await store.heads()
        let counts = try await store.operationalCounts()
        let peers: [JSONValue] = try await store.peerStatuses().map { p in
            [
                "chapter": .string(p.chapter), "behind": .number(Double(p.lag.values.reduce(0, +))),
                "last_success": p.lastSuccess.map { .string(Instant.format($0)) } ?? .null,
                "last_error": p.lastError.map { .string($0) } ?? .null, "failures": .number(Double(p.failures)),
                "roster": p.rosterVersion.map { .number(Double($0)) } ?? .null,
            ]
        }
        let roster = try await store.currentRoster()
        return [
            "chapter": .string(chapter.rawValue), "time": .string(Instant.format(Date())),
            "heads": .object(Dictionary(uniqueKeysWithValues: heads.map { ($0.origin.rawValue, .number(Double($0.seq))) })),
            "frozen": .array(heads.filter { $0.frozen != nil }.map { .string($0.origin.rawValue) }),
            "conflicts_open": .number(Double(counts.conflicts)), "quarantined": .number(Double(counts.quarantined)),
            "withheld": .number(Double(try await store.withheldCounts().total)),
            "refused_operations": .number(Double(try await store.refusedOperationCounts().total)),
            "members": .number(Double(counts.members)), "events": .number(Double(counts.events)), "peers": .array(peers),
            "roster": roster.map { .number(Double($0.version)) } ?? .null,
        ]
    }
}

/// Gathers every node's health for the dashboard: this node's from its replica, each peer's
/// over the federation listener (mutual TLS), in parallel, a few seconds at most.
public final class FederationDashboard: Sendable {
    private let clients = NIOLockedValueBox<[ChapterID: PeerClient]>([:])
    private let metrics = NIOLockedValueBox<NodeMetrics?>(nil)

    public init() {}

    public func connect(_ peers: [ChapterID: PeerClient], metrics: NodeMetrics? = nil) {
        clients.withLockedValue { $0 = peers }
        self.metrics.withLockedValue { $0 = metrics }
    }

    /// Certificates unusable or due to expire within 30 days: this node's, and its peers' as last seen.
    public func warnings(rows: [Row], own: ChapterID, serving: ServingState?, now: Date = Date()) -> [String] {
        var out = [serving?.certificateProblem(now: now), serving?.certificateWarning(now: now)].compactMap { $0 }
        let ends = metrics.withLockedValue { $0 }?.certificates ?? [:]
        for (peer, end) in ends.sorted(by: { $0.key < $1.key }) where peer != own {
            if now >= end {
                out.append("\(peer)'s certificate expired on \(CertificateCheck.day(end)): ask the federation CA for a new one")
            } else if let soon = CertificateCheck.expiryWarning(end, now: now) {
                out.append("\(peer)'s certificate \(soon)")
            }
        }
        return out
    }

    public struct Row: Sendable {
        public let chapter: String
        public let status: JSONValue?
        public let error: String?
    }

    public func gather(chapter: ChapterID, store: Store) async -> [Row] {
        var rows = [Row(chapter: chapter.rawValue, status: try? await NodeHealth.summary(chapter: chapter, store: store), error: nil)]
        let peers = clients.withLockedValue { $0 }
        let answers = await withTaskGroup(of: Row.self) { group in
            for (c, client) in peers {
                group.addTask {
                    do { return Row(chapter: c.rawValue, status: try await client.status(), error: nil) } catch {
                        return Row(
                            chapter: c.rawValue, status: nil,
                            error: (error as? SyncError)?.description ?? "\(c) is unreachable at \(client.baseURL)")
                    }
                }
            }
            var out = [Row]()
            for await r in group { out.append(r) }
            return out
        }
        rows += answers.sorted { $0.chapter < $1.chapter }
        return rows
    }
}
