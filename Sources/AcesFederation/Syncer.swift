import AcesCore
import AcesNodeFiles
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
        /// Origins whose next entries wait (neither applied nor refused), and why.
        public var held: [ChapterID: Hold] = [:]
        /// Bytes of entries received on the wire.
        public var bytes = 0
        /// Operations whose withheld payload this peer sent in this pass, now applied.
        public var released = 0
        public var total: Int { applied.values.reduce(0, +) }
    }

    /// Why an origin's next entries wait rather than being applied or refused.
    public struct Hold: Sendable, Hashable, CustomStringConvertible {
        /// The first entry that waits.
        public var seq: Int64
        /// `unvouched` or `unknown_version`.
        public var code: String
        public var description: String
    }

    let chapter: ChapterID
    let store: Store
    /// The roster in force, replaced while the node runs (validity reads its keys).
    public let live: LiveRoster
    /// The keys entries are verified with, as the roster in force lists them.
    var keys: KeyRing { live.keys }
    /// The peers this node pulls from, and those it tells of new entries: recomputed from the
    /// roster whenever it changes.
    private let links: NIOLockedValueBox<Links>
    let interval: Double
    let logger: Logger
    let metrics: NodeMetrics?
    /// Set by `announce()`: tell every peer even if no head has moved.
    private let notifyAll = NIOLockedValueBox(false)
    /// Wakes a peer's loop (the peer said it has new entries).
    private let pullWakeups = NIOLockedValueBox<[ChapterID: Wakeup]>([:])
    /// Wakes the loop that starts and ends peer loops (the roster changed).
    private let rosterWakeup = Wakeup()
    /// The peers whose loop is running.
    private let looping = NIOLockedValueBox<Set<ChapterID>>([])
    /// Bytes of entries received from every peer since the syncer was made (for the benchmark).
    private let received = NIOLockedValueBox(0)
    public var bytesReceived: Int { received.withLockedValue { $0 } }

    /// Whom this node pulls from and whom it notifies.
    struct Links: Sendable {
        var pull: [ChapterID: PeerClient]
        var notify: [ChapterID: PeerClient]
    }
    /// Wakes the loop that tells peers (this process wrote or applied entries).
    private let announceWakeup = Wakeup()
    /// How often the announce loop looks for entries another process (the CLI) wrote.
    static let outsideWriteCheck = Duration.seconds(1)

    init(
        chapter: ChapterID, store: Store, live: LiveRoster, links: @escaping @Sendable (Roster?) -> Links, interval: Double,
        logger: Logger, metrics: NodeMetrics? = nil
    ) {
        self.metrics = metrics
        self.chapter = chapter
        self.store = store
        self.live = live
        self.links = NIOLockedValueBox(links(live.roster))
        self.interval = interval
        self.logger = logger
        // Entries written in this process, through this replica, are announced at once.
        let wakeup = announceWakeup
        store.onNewEntries { wakeup.signal() }
        // A new roster brings new peers (or takes some away) and new keys, at once.
        let box = self.links
        let rosterWakeup = self.rosterWakeup
        live.onChange {
            box.withLockedValue { $0 = links(live.roster) }
            rosterWakeup.signal()
            wakeup.signal()
        }
    }

    /// The peers this node pulls from, by chapter.
    public var peers: [ChapterID: PeerClient] { links.withLockedValue { $0.pull } }

    /// The peers this node pulls from.
    public var peerChapters: [ChapterID] { peers.keys.sorted() }

    private func pullWakeup(_ peer: ChapterID) -> Wakeup {
        pullWakeups.withLockedValue { w in
            if let known = w[peer] { return known }
            let made = Wakeup()
            w[peer] = made
            return made
        }
    }

    /// Asks for a pass with `peer` as soon as possible (it said it has new entries).
    public func trigger(_ peer: ChapterID) {
        guard peers[peer] != nil else { return }
        pullWakeup(peer).signal()
    }

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
                        return (peer, .failure(await self.failure(error, peer: peer)))
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
        // A status that cannot be read fails the pass: starting from a blank one would reset the
        // peer's failure count without a word.
        var status = try await store.peerStatuses().first { $0.chapter == peer.rawValue } ?? PeerStatus(chapter: peer.rawValue)
        status.lastAttempt = Date()
        var report = PullReport(peer: peer)
        do {
            let theirs = try await heads(of: client)
            status.skewMillis = theirs.time - Int64(Date().timeIntervalSince1970 * 1000)
            status.versions = theirs.versions
            status.rosterVersion = theirs.rosterVersion
            let rosterRefusal = await exchangeRoster(with: client, theirs: theirs.rosterVersion)
            let ours = Dictionary(uniqueKeysWithValues: try await store.heads().map { ($0.origin, $0) })
            for head in theirs.origins where ours[head.origin]?.frozen == nil {
                try await syncOrigin(head, ours: ours[head.origin], from: client, into: &report)
            }
            report.released = await fetchWithheld(from: client)
            let after = Dictionary(uniqueKeysWithValues: try await store.heads().map { ($0.origin, $0.seq) })
            // A restored node authors again once enough peers hold nothing of its log beyond its
            // head, and the same entry at their head (else its log forked).
            let theirOwn = theirs.origins.first { $0.origin == chapter }
            var sameHead = true
            if let h = theirOwn, h.seq > 0 { sameHead = try await store.entryHash(of: chapter, at: h.seq) == h.hash }
            if report.refused[chapter] == nil && (theirOwn?.seq ?? 0) <= (after[chapter] ?? 0) && sameHead,
                try await store.restoreLock() != nil
            {
                if try await store.confirmOwnHead(by: peer.rawValue) {
                    logger.notice("restore confirmed: this node authors again", metadata: ["aces.peer": "\(peer)"])
                }
            }
            received.withLockedValue { $0 += report.bytes }
            status.heads = Dictionary(uniqueKeysWithValues: theirs.origins.map { ($0.origin.rawValue, $0.seq) })
            status.lag = Dictionary(
                uniqueKeysWithValues: theirs.origins.compactMap { h in
                    let behind = h.seq - (after[h.origin] ?? 0)
                    return behind > 0 ? (h.origin.rawValue, behind) : nil
                })
            status.received = report.total
            if let rosterRefusal {
                status.lastError = rosterRefusal
                status.failures += 1
            } else if let (o, e) = report.refused.first {
                status.lastError = "origin \(o): \(e)"
                status.failures += 1
            } else if let (o, h) = report.held.min(by: { $0.key < $1.key }) {
                // Not a failure of the peer's, but not a pass that brought everything either.
                status.lastError = "origin \(o): \(h)"
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
            let e: SyncError
            if let known = error as? SyncError { e = known } else { e = await failure(error, peer: peer) }
            status.lastError = e.description
            status.failures += 1
            do { try await store.record(status) } catch let recording {
                logger.error(
                    "cannot record a failed sync pass",
                    metadata: ["aces.peer": "\(peer)", "aces.error": "\(String(describing: recording))"])
            }
            // One sentence naming the peer, the cause and the fix, at warning: an operator must act.
            if case .failed(let sentence) = e {
                logger.warning("\(sentence)", metadata: ["aces.peer": "\(peer)"])
            } else {
                logger.warning("sync with \(peer) failed: \(e)", metadata: ["aces.peer": "\(peer)"])
            }
            throw e
        }
    }

    /// The peer's heads. A peer that does not know this chapter yet (it answers 403: the chapter
    /// joined after the roster it holds) is handed this node's signed roster, then asked again.
    private func heads(of client: PeerClient) async throws -> FederationAPI.Heads {
        do { return try await client.heads() } catch SyncError.status(403) where live.signed != nil {
            if let doc = live.signed { try? await client.pushRoster(doc.bytes) }
            return try await client.heads()
        }
    }

    /// Brings the peer and this node to the same roster: fetches a higher version it holds and
    /// adopts it if the root signed it, or hands it ours when it holds a lower one. The sentence
    /// for `aces peers` when the peer's version was refused.
    private func exchangeRoster(with client: PeerClient, theirs: Int64?) async -> String? {
        guard let ours = live.signed, let theirs, theirs != ours.version else { return nil }
        if theirs < ours.version {
            do { try await client.pushRoster(ours.bytes) } catch {
                logger.debug("roster not handed over", metadata: ["aces.peer": "\(client.peer)"])
            }
            return nil
        }
        let bytes: [UInt8]
        do { bytes = try await client.roster() } catch { return "roster version \(theirs): \(error)" }
        if case .refused(let why) = await live.offer(bytes, from: client.peer) { return "roster refused: \(why)" }
        return nil
    }

    /// A transport error that reached the loop without a sentence of its own (say, mid-stream).
    private func failure(_ error: any Error, peer: ChapterID) async -> SyncError {
        guard let client = peers[peer] else { return .notConfigured("'\(peer)' is not a peer of this node") }
        return .failed(await PeerFailure.sentence(error, peer: peer, url: client.baseURL, timeout: client.timeoutText))
    }

    /// What one origin's stream from a peer did.
    struct OriginPull {
        var applied = 0
        var refusal: EntryError?
        var held: Hold?
        var bytes = 0
    }

    /// The most entries a pass keeps waiting for a signature to vouch for them; past it the
    /// origin's pass stops there (the next pass asks again from the same place).
    static let maxUnvouched = 2 * FederationAPI.applyBatch

    /// Brings one origin up to the peer's head, and looks for a fork of it wherever the peer's
    /// log and ours overlap: the peer froze it (its evidence is fetched and verified), its entry
    /// at a seq we hold has another hash, or its next entry does not follow our head.
    private func syncOrigin(_ head: FederationAPI.Head, ours: OriginHead?, from client: PeerClient, into report: inout PullReport)
        async throws
    {
        let origin = head.origin
        var mine = ours?.seq ?? 0
        var waiting: Hold?
        func pull(upTo last: Int64) async throws -> EntryError? {
            let pulled = try await pullOrigin(origin, after: mine, limit: last < head.seq ? last - mine : nil, from: client)
            report.bytes += pulled.bytes
            mine += Int64(pulled.applied)
            if pulled.applied > 0 {
                report.applied[origin, default: 0] += pulled.applied
                metrics?.applied(pulled.applied, peer: client.peer, origin: origin)
            }
            waiting = pulled.held
            return pulled.refusal
        }
        var refusal: EntryError?
        if let fork = head.forkSeq, fork > 0 {
            // The peer froze the origin: take what precedes the fork, then the two entries, and
            // freeze it here too once both prove authentic (never on the peer's word alone).
            if mine < fork - 1 { refusal = try await pull(upTo: fork - 1) }
            if refusal == nil {
                // A peer that cannot show its evidence (an older node) is simply not believed.
                let pair = (try? await client.few(of: origin, fork: true)) ?? []
                switch try await store.takeForkEvidence(pair, origin: origin, keys: keys, peer: client.peer.rawValue) {
                case .frozen(let f): refusal = .fork(origin: origin, seq: f.seq)
                case .alreadyFrozen: return
                case .refused(let why): refusal = why
                }
            }
        }
        if refusal == nil, head.seq > 0, head.seq <= mine {
            // We hold the peer's head seq: the same entry, or a fork.
            let held = if head.seq == ours?.seq { ours?.hash } else { try await store.entryHash(of: origin, at: head.seq) }
            if held != head.hash { refusal = try await compare(origin, at: head.seq, with: client) }
        } else if refusal == nil, head.seq > mine {
            let before = mine
            refusal = try await pull(upTo: head.seq)
            // The peer's next entry does not follow our head: its entry at our head seq differs.
            if case .brokenChain(_, let seq)? = refusal, seq == before + 1, mine == before, before > 0 {
                refusal = try await compare(origin, at: before, with: client) ?? refusal
            }
        }
        if let hold = waiting {
            report.held[origin] = hold
            try await store.hold(origin: origin, seq: hold.seq, code: hold.code, reason: hold.description, peer: client.peer.rawValue)
            logger.notice(
                "entries wait", metadata: ["aces.peer": "\(client.peer)", "aces.origin": "\(origin)", "aces.reason": "\(hold.code)"])
        } else if mine > (ours?.seq ?? 0) {
            try await store.releaseHeld(origin: origin)
        }
        guard let refusal else { return }
        metrics?.refused(peer: client.peer, origin: origin, reason: refusal.code)
        report.refused[origin] = refusal
        if case .fork(_, let seq) = refusal {
            logger.error(
                "origin frozen after a fork",
                metadata: ["aces.peer": "\(client.peer)", "aces.origin": "\(origin)", "aces.seq": "\(seq)"])
        } else {
            logger.warning(
                "refused entries", metadata: ["aces.peer": "\(client.peer)", "aces.origin": "\(origin)", "aces.reason": "\(refusal.code)"])
        }
    }

    /// Fetches the peer's entry `seq` of `origin`, where we hold another, and hands it to the
    /// store: an authentic one is a fork (both kept, the origin frozen), a forgery is quarantined.
    /// Nil when the peer's entry turns out to be ours, or it sent none.
    private func compare(_ origin: ChapterID, at seq: Int64, with client: PeerClient) async throws -> EntryError? {
        guard let theirs = try? await client.few(of: origin, at: seq).first, theirs.envelope.origin == origin, theirs.envelope.seq == seq
        else { return nil }
        return try await store.apply([theirs], origin: origin, keys: keys, peer: client.peer.rawValue).refusal
    }

    /// Streams one origin's entries from a peer, applying each batch in one transaction. The
    /// next batch is read and parsed while the previous one is applied, so both cores work.
    /// Entries no valid signature vouches for yet are handed back by `Store.apply` and go in
    /// front of the next batch, so how the peer split its answer never changes the verdict.
    private func pullOrigin(_ origin: ChapterID, after seq: Int64, limit: Int64? = nil, from client: PeerClient) async throws
        -> OriginPull
    {
        let peer = client.peer.rawValue
        let store = self.store
        let keys = self.keys
        return try await withThrowingTaskGroup(of: ApplyReport.self) { group in
            var batch = [Entry]()
            batch.reserveCapacity(FederationAPI.applyBatch)
            // Operations in `batch`: an import's entries carry several each (EntryGrouping), and a
            // batch is bounded by what it applies, not by how it was split into entries.
            var batchOperations = 0
            var out = OriginPull()
            var expected = seq + 1
            var inFlight = false
            var erased = false
            var searchPending = false
            /// Entries handed back unvouched by the last apply.
            var unvouched = [Entry]()
            /// Why the stream was left before its end, when an entry waits.
            var waiting: Hold?
            /// Batches after the first are applied in a catch-up session's long transactions; it
            /// is closed (committed) before this pull writes to the store itself, and at its end.
            var session: CatchUpSession?
            var submitted = 0
            func closeSession() async throws {
                try await session?.close()
                session = nil
            }
            var stopped: Bool { out.refusal != nil || waiting != nil }
            /// Waits for the batch being applied, if any.
            func settle() async throws {
                guard inFlight, let r = try await group.next() else { return }
                inFlight = false
                out.applied += r.applied
                erased = erased || r.erased
                searchPending = searchPending || r.searchPending
                unvouched = r.held
                if out.refusal == nil { out.refusal = r.refusal }
            }
            func submit() async throws {
                try await settle()
                guard !stopped, !batch.isEmpty else { return }
                if unvouched.count + batch.count > Syncer.maxUnvouched + FederationAPI.applyBatch, let first = unvouched.first {
                    waiting = Syncer.unvouchedHold(first, count: unvouched.count)
                    return
                }
                let run = unvouched + batch
                if submitted > 0 && session == nil { session = CatchUpSession(store: store, origin: origin, keys: keys, peer: peer) }
                submitted += 1
                if let session {
                    group.addTask { try await session.apply(run) }
                } else {
                    group.addTask { try await store.apply(run, origin: origin, keys: keys, peer: peer) }
                }
                inFlight = true
                batch.removeAll(keepingCapacity: true)
                batchOperations = 0
            }
            out.bytes = try await client.entries(of: origin, after: seq, limit: limit) { line in
                do {
                    let entry = try Entry(wireLine: line)
                    batch.append(entry)
                    batchOperations += max(1, entry.envelope.operations.count)
                } catch {
                    try await submit()
                    try await settle()
                    try await closeSession()
                    if stopped { return false }
                    let why = (error as? EntryError) ?? .malformed("not JSON (\(error))")
                    if why.isHold {
                        // Not this node's to judge yet: the entry waits for an upgrade.
                        waiting = Hold(seq: expected, code: why.code, description: why.description)
                    } else {
                        try await store.quarantine(origin: origin, seq: expected, reason: why, peer: peer, raw: Array(line))
                        out.refusal = why
                    }
                    return false
                }
                expected += 1
                if batchOperations >= FederationAPI.applyBatch {
                    try await submit()
                    if stopped { return false }
                }
                return true
            }
            try await submit()
            try await settle()
            // On an error before here, the session commits what it applied by itself (`CatchUpSession.idleSeconds`).
            try await closeSession()
            if waiting == nil, out.refusal == nil, let first = unvouched.first {
                waiting = Syncer.unvouchedHold(first, count: unvouched.count)
            }
            out.held = waiting
            // A large catch-up left its members to be indexed in bulk, now that it is done (before
            // an erasure's purge, so the erased words leave the index's segments too).
            if searchPending { try await store.indexPendingSearch() }
            // An erasure arrived: move the WAL into the main file so the old values leave it too.
            if erased {
                do { try await store.purgeErasedTraces() } catch {
                    logger.error(
                        "an erasure arrived but its old values could not be purged from the database file yet; run 'aces prune'",
                        metadata: ["aces.origin": "\(origin)", "aces.error": "\(String(describing: error))"])
                }
            }
            return out
        }
    }

    static func unvouchedHold(_ first: Entry, count: Int) -> Hold {
        let v = first.envelope.version
        let last = v.seq + Int64(count) - 1
        return Hold(
            seq: v.seq, code: "unvouched",
            description:
                "entries \(v.origin):\(v.seq)\(count > 1 ? "–\(last)" : "") wait: no valid signature vouches for them yet (a later entry of \(v.origin) signed by its key will)"
        )
    }

    /// Runs until cancelled or a graceful shutdown: a loop per peer (a pass at once when the peer
    /// notifies, else every `interval`, backing off while it fails), and a loop that tells peers
    /// when this node has new entries (at once for this process's writes, within a second for
    /// another process's, such as the CLI's).
    /// A peer loop starts when the roster brings a peer and ends when it takes it away.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.announceLoop() }
            while !stopping {
                for peer in peerChapters {
                    let start = looping.withLockedValue { $0.insert(peer).inserted }
                    if start { group.addTask { await self.peerLoop(peer) } }
                }
                await rosterWakeup.wait(timeout: .seconds(5))
            }
        }
    }

    private var stopping: Bool { Task.isCancelled || Task.isShuttingDownGracefully }

    /// Seconds between two looks at a peer's certificate (for its expiry warning and metric).
    static let certificateCheckInterval: Int64 = 3600

    private func peerLoop(_ peer: ChapterID) async {
        let wakeup = pullWakeup(peer)
        defer { looping.withLockedValue { _ = $0.remove(peer) } }
        var failures = 0
        // The first look at the peer's certificate waits five minutes: not at start, when every node handshakes at once.
        var certificateChecked = ContinuousClock.now - .seconds(Syncer.certificateCheckInterval - 300)
        while !stopping && peers[peer] != nil {
            do {
                _ = try await pull(from: peer)
                failures = 0
                // The peer's certificate end, for the expiry warning (once an hour: one more handshake).
                if let metrics, let client = peers[peer], let diagnosis = client.diagnosis,
                    certificateChecked.duration(to: .now) > .seconds(Syncer.certificateCheckInterval)
                {
                    certificateChecked = .now
                    if let c = await diagnosis.certificate(url: client.baseURL) {
                        metrics.certificate(peer, notValidAfter: c.notValidAfter)
                    }
                }
            } catch {
                failures += 1
                // A peer's failure is logged by `pull`; anything else is this node's own.
                if !(error is SyncError) {
                    logger.error(
                        "sync pass failed on this node", metadata: ["aces.peer": "\(peer)", "aces.error": "\(String(describing: error))"])
                }
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
        var lastRoster = live.version
        while !stopping {
            await announceWakeup.wait(timeout: Syncer.outsideWriteCheck)
            if stopping { return }
            // A roster the CLI installed in the replica takes effect here.
            if let stored = try? await store.currentRosterVersion(), stored > live.version { await live.reload() }
            let rosterMoved = live.version != lastRoster
            lastRoster = live.version
            let now = (try? await store.changeCounter()) ?? last
            let asked = notifyAll.withLockedValue { asked in
                defer { asked = false }
                return asked
            }
            guard now != last || asked || rosterMoved else { continue }
            last = now
            let targets = links.withLockedValue { $0.notify }
            await withTaskGroup(of: Void.self) { group in
                for (peer, client) in targets {
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
