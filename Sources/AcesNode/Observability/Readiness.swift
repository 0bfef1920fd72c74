import AcesCore
import AcesStore
import Foundation

/// `/readyz`: whether this node should get traffic — its database answers, its roster names
/// it with a key, and it is caught up with the peers it reaches (within `maxLag` entries).
enum Readiness {
    static let maxLag: Int64 = 10_000

    /// `roster` is the roster the node loaded when it started (no file is read per request).
    static func check(directory: NodeDirectory, store: Store, roster: Roster?) async -> (ready: Bool, json: JSONValue) {
        var checks = [String: JSONValue]()
        var ready = true
        func fail(_ name: String, _ why: String) {
            checks[name] = .string(why)
            ready = false
        }
        do {
            _ = try await store.heads()
            checks["database"] = "ok"
        } catch {
            fail("database", "the replica does not answer")
        }
        if let roster, roster.chapters.contains(where: { $0.id == directory.chapter.rawValue && !$0.keys.isEmpty }) {
            checks["roster"] = "ok"
        } else {
            fail("roster", "the roster is missing or has no key for \(directory.chapter)")
        }
        if let peers = try? await store.peerStatuses() {
            let behind = peers.filter { $0.lastSuccess != nil && $0.lag.values.reduce(0, +) > maxLag }
            if behind.isEmpty {
                checks["sync"] = "ok"
            } else {
                fail("sync", "more than \(maxLag) entries behind \(behind.map(\.chapter).joined(separator: ", "))")
            }
        }
        if let lock = try? await store.restoreLock() {
            fail("restore", "restored; waiting for \(lock.quorum - lock.confirmed.count) peer(s) to confirm its own entries")
        }
        return (ready, ["ready": .bool(ready), "chapter": .string(directory.chapter.rawValue), "checks": .object(checks)])
    }
}
