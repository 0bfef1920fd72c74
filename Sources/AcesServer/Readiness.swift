import AcesCore
import AcesFederation
import AcesNodeFiles
import AcesStore
import Foundation

/// `/readyz`: whether this node should get traffic — its database answers, its roster names
/// it with a key, it is caught up with the peers it reaches (within `maxLag` entries), and no
/// origin is frozen after a fork.
public enum Readiness {
    static let maxLag: Int64 = 10_000

    /// `roster` is the roster the node loaded when it started (no file is read per request).
    /// `serving`, when the node runs, adds its own certificate (unusable: 503) and its peers (none
    /// reached for `[sync] unreachable_seconds`: 503).
    static func check(
        directory: NodeDirectory, store: Store, roster: Roster?, serving: ServingState? = nil, now: Date = Date()
    ) async -> (ready: Bool, json: JSONValue) {
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
        if let serving {
            if let problem = serving.certificateProblem(now: now) { fail("certificate", problem) } else { checks["certificate"] = "ok" }
        }
        if let serving, serving.peers > 0, let peers = try? await store.peerStatuses() {
            let last = peers.compactMap(\.lastSuccess).max().map { max($0, serving.startedAt) } ?? serving.startedAt
            let silent = now.timeIntervalSince(last)
            if silent > serving.unreachableSeconds {
                fail(
                    "peers",
                    "no peer has been reachable for \(Int(silent)) s (sync.unreachable_seconds is \(Int(serving.unreachableSeconds))): see 'aces peers'"
                )
            } else {
                checks["peers"] = "ok"
            }
        }
        // A check whose data cannot be read fails: "ready" is never said for lack of knowing.
        do {
            let behind = try await store.peerStatuses().filter { $0.lastSuccess != nil && $0.lag.values.reduce(0, +) > maxLag }
            if behind.isEmpty {
                checks["sync"] = "ok"
            } else {
                fail("sync", "more than \(maxLag) entries behind \(behind.map(\.chapter).joined(separator: ", "))")
            }
        } catch {
            fail("sync", "the peers' sync status cannot be read")
        }
        // A frozen origin means two authentic histories of one chapter: operators must act.
        do {
            let heads = try await store.heads()
            if heads.contains(where: { $0.frozen != nil }) {
                // Where each forked only details the message.
                let forks = (try? await store.forks()) ?? []
                let frozen = heads.filter { $0.frozen != nil }.map { h in
                    forks.first { $0.origin == h.origin }.map { "\(h.origin) (fork at \(h.origin):\($0.seq))" } ?? "\(h.origin)"
                }
                fail("forks", "origin frozen after a fork: \(frozen.joined(separator: ", "))")
            } else {
                checks["forks"] = "ok"
            }
        } catch {
            fail("forks", "the origins' heads cannot be read")
        }
        do {
            if let lock = try await store.restoreLock() {
                fail("restore", "restored; waiting for \(lock.quorum - lock.confirmed.count) peer(s) to confirm its own entries")
            }
        } catch {
            fail("restore", "the restore lock cannot be read")
        }
        return (ready, ["ready": .bool(ready), "chapter": .string(directory.chapter.rawValue), "checks": .object(checks)])
    }
}
