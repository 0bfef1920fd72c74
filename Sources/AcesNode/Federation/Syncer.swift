import AcesCore
import AcesStore
import AsyncHTTPClient
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Pulls entries from peers, verifies and applies them, and tells peers when this node has
/// new entries. One loop per peer, so a peer that is down or slow never holds up the others.
public final class Syncer: Sendable {
    /// What one pass with one peer did.
    public struct PullReport: Sendable {
        public var peer: ChapterID
        /// Entries applied, per origin.
        public var applied: [ChapterID: Int] = [:]
        /// Why entries were refused, per origin.
        public var refused: [ChapterID: EntryError] = [:]
        /// Bytes of entries received on the wire.
        public var bytes = 0
        /// Operations whose withheld payload this peer sent in this pass, now applied.
        public var released = 0
        public var total: Int { applied.values.reduce(0, +) }
    }

    let chapter: ChapterID
    let store: Store
    let keys: KeyRing
    let peers: [ChapterID: PeerClient]
    let interval: Double
    let logger: Logger
    let metrics: NodeMetrics?
    /// Set by `announce()`: tell every peer even if no head has moved.
    private let notifyAll = NIOLockedValueBox(false)
    /// Wakes a peer's loop (the peer said it has new entries).
    private let pullWakeups: [ChapterID: Wakeup]
    /// Wakes the loop that tells peers (this process wrote or applied entries).
    private let announceWakeup = Wakeup()
    /// How often the announce loop looks for entries another process (the CLI) wrote.
    static let outsideWriteCheck = Duration.seconds(1)

    init(
        chapter: ChapterID, store: Store, keys: KeyRing, peers: [ChapterID: PeerClient], interval: Double, logger: Logger,
        metrics: NodeMetrics? = nil
    ) {
        self.metrics = metrics
        self.chapter = chapter
        self.store = store
        self.keys = keys
        self.peers = peers
        self.interval = interval
        self.logger = logger
        pullWakeups = Dictionary(uniqueKeysWithValues: peers.keys.map { ($0, Wakeup()) })
        // Entries written in this process, through this replica, are announced at once.
        let wakeup = announceWakeup
        store.onNewEntries { wakeup.signal() }
    }

    /// The peers this node pulls from.
    public var peerChapters: [ChapterID] { peers.keys.sorted() }

    /// Asks for a pass with `peer` as soon as possible (it said it has new entries).
    public func trigger(_ peer: ChapterID) { pullWakeups[peer]?.signal() }

    /// Asks to tell every peer that this node has new entries.
    public func announce() {
        notifyAll.withLockedValue { $0 = true }
        announceWakeup.signal()
    }

    /// One pass with every peer, concurrently.
    public func syncAll() async -> [(ChapterID, Result<PullReport, SyncError>)] {
        await withTaskGroup(of: (ChapterID, Result<PullReport, SyncError>).self) { group in
            for peer in peerChapters {
                group.addTask {
                    do { return (peer, .success(try await self.pull(from: peer))) } catch let e as SyncError {
                        return (peer, .failure(e))
                    } catch {
                        return (peer, .failure(.unreachable(PeerClient.describe(error))))
                    }
                }
            }
            var out = [(ChapterID, Result<PullReport, SyncError>)]()
            for await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
    }

    /// One pass with `peer`: ask for its heads, stream every origin it holds further than us,
    /// verify and apply in batches, and record the outcome for `aces peers`.
    public func pull(from peer: ChapterID) async throws -> PullReport {
        guard let client = peers[peer] else { throw SyncError.notConfigured("'\(peer)' is not a peer of this node") }
        var status = (try? await store.peerStatuses().first { $0.chapter == peer.rawValue }) ?? PeerStatus(chapter: peer.rawValue)
        status.lastAttempt = Date()
        var report = PullReport(peer: peer)
        do {
            let theirs = try await client.heads()
            status.skewMillis = theirs.time - Int64(Date().timeIntervalSince1970 * 1000)
            let ours = Dictionary(uniqueKeysWithValues: try await store.heads().map { ($0.origin, $0) })
            for head in theirs.origins where head.seq > (ours[head.origin]?.seq ?? 0) && ours[head.origin]?.frozen == nil {
                let (applied, refusal, bytes) = try await pullOrigin(head.origin, after: ours[head.origin]?.seq ?? 0, from: client)
                report.bytes += bytes
                if applied > 0 {
                    report.applied[head.origin] = applied
                    metrics?.applied(applied, peer: peer, origin: head.origin)
                }
                if let refusal {
                    metrics?.refused(peer: peer, origin: head.origin, reason: refusal.code)
                    report.refused[head.origin] = refusal
                    logger.warning(
                        "refused entries",
                        metadata: ["aces.peer": "\(peer)", "aces.origin": "\(head.origin)", "aces.reason": "\(refusal.code)"])
                }
            }
            report.released = await fetchWithheld(from: client)
            let after = Dictionary(uniqueKeysWithValues: try await store.heads().map { ($0.origin, $0.seq) })
            // A restored node authors again once enough peers hold nothing of its log beyond its head.
            let theirOwn = theirs.origins.first { $0.origin == chapter }?.seq ?? 0
            if report.refused[chapter] == nil && theirOwn <= (after[chapter] ?? 0), try await store.restoreLock() != nil {
                if try await store.confirmOwnHead(by: peer.rawValue) {
                    logger.notice("restore confirmed: this node authors again", metadata: ["aces.peer": "\(peer)"])
                }
            }
            status.heads = Dictionary(uniqueKeysWithValues: theirs.origins.map { ($0.origin.rawValue, $0.seq) })
            status.lag = Dictionary(
                uniqueKeysWithValues: theirs.origins.compactMap { h in
                    let behind = h.seq - (after[h.origin] ?? 0)
                    return behind > 0 ? (h.origin.rawValue, behind) : nil
                })
            status.received = report.total
            if let (o, e) = report.refused.first {
                status.lastError = "origin \(o): \(e)"
                status.failures += 1
            } else {
                status.lastError = nil
                status.failures = 0
                status.lastSuccess = Date()
            }
            try await store.record(status)
            logger.info(
                "sync pass",
                metadata: ["aces.peer": "\(peer)", "aces.applied": "\(report.total)", "aces.refused": "\(report.refused.count)"])
            return report
        } catch {
            let e = (error as? SyncError) ?? .unreachable(PeerClient.describe(error))
            status.lastError = e.description
            status.failures += 1
            try? await store.record(status)
            logger.info("sync pass failed", metadata: ["aces.peer": "\(peer)", "aces.error": "\(e)"])
            throw e
        }
    }

    /// Streams one origin's entries from a peer, applying each batch in one transaction. The
    /// next batch is read and parsed while the previous one is applied, so both cores work.
    private func pullOrigin(_ origin: ChapterID, after seq: Int64, from client: PeerClient) async throws -> (Int, EntryError?, Int) {
        let peer = client.peer.rawValue
        let store = self.store
        let keys = self.keys
        return try await withThrowingTaskGroup(of: ApplyReport.self) { group in
            var batch = [Entry]()
            batch.reserveCapacity(FederationAPI.applyBatch)
            var applied = 0
            var expected = seq + 1
            var refusal: EntryError?
            var inFlight = false
            var erased = false
            var searchPending = false
            /// Waits for the batch being applied, if any.
            func settle() async throws {
                guard inFlight, let r = try await group.next() else { return }
                inFlight = false
                applied += r.applied
                erased = erased || r.erased
                searchPending = searchPending || r.searchPending
                if refusal == nil { refusal = r.refusal }
            }
            func submit() async throws {
                try await settle()
                guard refusal == nil, !batch.isEmpty else { return }
                let run = batch
                group.addTask { try await store.apply(run, origin: origin, keys: keys, peer: peer) }
                inFlight = true
                batch.removeAll(keepingCapacity: true)
            }
            let bytes = try await client.entries(of: origin, after: seq) { line in
                do {
                    batch.append(try Entry(wireLine: line))
                } catch {
                    try await submit()
                    try await settle()
                    if refusal != nil { return false }
                    let why = (error as? EntryError) ?? .malformed("not JSON (\(error))")
                    try await store.quarantine(origin: origin, seq: expected, reason: why, peer: peer, raw: Array(line))
                    refusal = why
                    return false
                }
                expected += 1
                if batch.count >= FederationAPI.applyBatch {
                    try await submit()
                    if refusal != nil { return false }
                }
                return true
            }
            try await submit()
            try await settle()
            // An erasure arrived: move the WAL into the main file so the old values leave it too.
            // A large catch-up left its members to be indexed in bulk, now that it is done (before
            // an erasure's purge, so the erased words leave the index's segments too).
            if searchPending { try await store.indexPendingSearch() }
            // An erasure arrived: move the WAL into the main file so the old values leave it too.
            if erased { try? await store.purgeErasedTraces() }
            return (applied, refusal, bytes)
        }
    }

    /// Runs until cancelled or a graceful shutdown: a loop per peer (a pass at once when the peer
    /// notifies, else every `interval`, backing off while it fails), and a loop that tells peers
    /// when this node has new entries (at once for this process's writes, within a second for
    /// another process's, such as the CLI's).
    public func run() async {
        await withDiscardingTaskGroup { group in
            for peer in peerChapters { group.addTask { await self.peerLoop(peer) } }
            group.addTask { await self.announceLoop() }
        }
    }

    private var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    private func peerLoop(_ peer: ChapterID) async {
        guard let wakeup = pullWakeups[peer] else { return }
        var failures = 0
        while !stopping {
            do {
                _ = try await pull(from: peer)
                failures = 0
            } catch {
                failures += 1
            }
            let pause = failures == 0 ? interval : min(max(interval, 60), 0.5 * pow(2, Double(min(failures, 12))))
            await wakeup.wait(timeout: .milliseconds(Int64(pause * 1000)))
        }
    }

    /// Tells every peer when this node holds new entries: its own, or others' it applied (so a
    /// line of nodes relays an edit at once). One round of notices at a time: writes made while
    /// it runs are told in the next round.
    private func announceLoop() async {
        var last = (try? await store.changeCounter()) ?? 0
        while !stopping {
            await announceWakeup.wait(timeout: Syncer.outsideWriteCheck)
            if stopping { return }
            let now = (try? await store.changeCounter()) ?? last
            let asked = notifyAll.withLockedValue { asked in
                defer { asked = false }
                return asked
            }
            guard now != last || asked else { continue }
            last = now
            await withTaskGroup(of: Void.self) { group in
                for (peer, client) in peers {
                    group.addTask {
                        do { try await client.notify() } catch {
                            self.logger.debug("notify failed", metadata: ["aces.peer": "\(peer)"])
                        }
                    }
                }
            }
        }
    }
}
