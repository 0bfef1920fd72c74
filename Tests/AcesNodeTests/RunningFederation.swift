import AcesCore
import AcesDevTools
import AcesFederation
import AcesNodeFiles
import AcesServer
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Several real nodes on loopback, each with its own SQLite replica, certificate and listeners,
/// served in this process over real TLS.
final class RunningFederation: @unchecked Sendable {
    let dir = TempDir()
    private(set) var nodes: [ChapterID: NodeDirectory] = [:]
    private var running: [ChapterID: (server: NodeServer, group: ServiceGroup, task: Task<Void, any Error>)] = [:]
    let logger: Logger

    /// `peers` restricts who pulls from whom (e.g. a line topology); by default everyone.
    /// `stewards` are given the role in the roster: they may write any chapter's records (for tests
    /// of concurrent edits of one record by several chapters). `signedRoster`: the CA's folder becomes
    /// the roster's root and every node holds version 1.
    init(_ chapters: [String], interval: Double = 0.3, peers: [String: [String]] = [:], stewards: [String] = [], signedRoster: Bool = false)
        throws
    {
        var logger = Logger(label: "aces-test")
        logger.logLevel = .critical
        self.logger = logger
        let ids = chapters.map { ChapterID($0)! }
        let free = LocalFederation.freePorts(2 * ids.count)
        let ports = (0..<ids.count).map { (web: free[2 * $0], federation: free[2 * $0 + 1]) }
        for n in try LocalFederation.create(
            at: dir.file("fed"), chapters: ids, ports: ports, syncInterval: interval, signedRoster: signedRoster)
        {
            var config = n.config
            // Short enough that a down peer costs seconds, long enough for a loaded 2-core machine.
            config.sync?.timeoutSeconds = 15
            if let p = peers[n.chapter.rawValue] { config.sync?.peers = p }
            nodes[n.chapter] = try n.saving(config)
        }
        if !stewards.isEmpty { try makeStewards(stewards, in: dir.file("fed/chapters")) }
    }

    func node(_ c: String) -> NodeDirectory { nodes[ChapterID(c)!]! }

    /// Takes a node made outside `init` (one that joined) into the federation the test runs.
    func adopt(_ node: NodeDirectory) { nodes[node.chapter] = node }

    /// Changes a node's aces.toml (before it starts).
    func reconfigure(_ c: String, _ change: (inout NodeConfig) -> Void) throws {
        var config = node(c).config
        change(&config)
        nodes[ChapterID(c)!] = try node(c).saving(config)
    }
    func store(_ c: String) throws -> Store { try node(c).openStore() }

    func start(_ chapters: String...) async throws {
        for c in chapters {
            let server = try NodeServer(directory: node(c), logger: logger)
            // A service group, so stopping is a graceful shutdown (stop accepting, drain) as with
            // SIGTERM, never a cancellation racing an incoming connection.
            let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
            let task = Task { try await group.run() }
            running[ChapterID(c)!] = (server, group, task)
            // Generous: on a loaded 2-core machine the listeners' start waits for threads of their own.
            guard await server.waitUntilListening(seconds: 60) else { throw NodeError.config("node \(c) did not start") }
        }
    }

    func stop(_ chapters: String...) async {
        let stopping = chapters.compactMap { running.removeValue(forKey: ChapterID($0)!) }
        for r in stopping { await r.group.triggerGracefulShutdown() }
        for r in stopping { _ = try? await r.task.value }
    }

    /// For `defer`: starts a graceful shutdown of every node still running (a test that threw
    /// before `stopAll()`), without waiting, so no server outlives its test.
    func shutdownLeftovers() {
        let left = Array(running.values)
        running.removeAll()
        for r in left { Task { await r.group.triggerGracefulShutdown() } }
    }

    func stopAll() async {
        let stopping = Array(running.values)
        running.removeAll()
        for r in stopping { await r.group.triggerGracefulShutdown() }
        for r in stopping { _ = try? await r.task.value }
    }

    func server(_ c: String) -> NodeServer? { running[ChapterID(c)!]?.server }

    /// Adds a member on `c` through the real write path; returns its id.
    @discardableResult
    func addMember(on c: String, _ n: Int, city: String = "Lyon") throws -> String {
        let node = node(c)
        let author = try node.author()
        let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
        try node.openStore().author(as: author) { _ in
            [
                .set(
                    .member, id: id,
                    values: TestNode.member(n, chapter: c, city: city).merging(["email": .string("m\(n)-\(c)@example.org")]) { $1 })
            ]
        }
        return id
    }

    /// Adds `count` upcoming events on `c` whose descriptions repeat one sentence `sentences`
    /// times (50 bytes each), for calendar feeds of many megabytes.
    func addEventsWithLongDescriptions(on c: String, count: Int, sentences: Int, seed: UInt64) throws {
        var sample = SampleData(seed: seed)
        let now = Date()
        let author = try node(c).author()
        let long = String(repeating: "Talks, workshops and time to meet the community. ", count: sentences)
        try node(c).openStore().authorMany(as: author, count: count) { _, i in
            var values = sample.event(chapter: ChapterID(c)!, from: now, daysAhead: 1 + i % 300)
            values["description"] = .string(long)
            return [
                .set(
                    .event, id: RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin),
                    values: values)
            ]
        }
    }

    func update(on c: String, id: String, _ values: [String: JSONValue]) throws {
        let node = node(c)
        try node.openStore().author(as: try node.author()) { _ in [.set(.member, id: id, values: values)] }
    }

    func digests(_ chapters: [String]) throws -> [Digest32] { try chapters.map { try store($0).stateDigest() } }

    /// Waits until every listed node has the same digest and the same heads; false on timeout.
    /// Reads through the async API, on replicas opened once: the threads of the concurrency pool
    /// belong to the nodes under test (and to tests running beside this one).
    func converge(_ chapters: [String], seconds: Double = 20) async throws -> Bool {
        let stores = try chapters.map { try store($0) }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var digests = Set<Digest32>()
            var heads = Set<[String]>()
            for s in stores {
                digests.insert(try await s.stateDigest())
                heads.insert(try await s.heads().map { "\($0.origin):\($0.seq)" })
            }
            if digests.count == 1 && heads.count == 1 { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

extension RunningFederation {
    /// Runs `body` with a sync client for node `c` (as `aces sync` builds it), and always shuts
    /// the client down, whether `body` returns or throws.
    func withSyncer<T>(for c: String, peers: [String]? = nil, _ body: (Syncer, Store) async throws -> T) async throws -> T {
        var node = node(c)
        if let peers {
            var config = node.config
            config.sync?.peers = peers
            node = try node.saving(config)
        }
        let store = try node.openStore()
        let (syncer, http) = try FederationClient.make(directory: node, store: store, tls: try node.tlsMaterial(), logger: logger)
        do {
            let result = try await body(syncer, store)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

extension RunningFederation {
    /// Runs `body` while a fake peer answers with `router` at node `c`'s federation address,
    /// over TLS with `c`'s real certificate from the federation CA (node `c` must not be running).
    func withFakePeer(as c: String, _ router: Router<FederationContext>, _ body: () async throws -> Void) async throws {
        let peer = node(c)
        let address = HostPort(peer.config.federation!.listen)!
        let listening = Mutex(false)
        let app = Application(
            router: router, server: try .tls(.http1(), tlsConfiguration: try peer.tlsMaterial().server),
            configuration: .init(address: .hostname(address.host, port: address.port)),
            onServerRunning: { _ in listening.withLock { $0 = true } }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        // Wait until it listens: the server says so once its socket is bound. On a loaded machine
        // (every suite sharing two cores) that can take seconds, so wait up to a minute.
        let deadline = Date().addingTimeInterval(60)
        while !listening.withLock({ $0 }) && Date() < deadline { try await Task.sleep(for: .milliseconds(25)) }
        do { try await body() } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}

extension RunningFederation {
    /// Deletes node `c`'s replica (a lost disk), WAL and shared memory included.
    func removeReplica(_ c: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: node(c).databasePath + suffix) }
    }

    /// Runs `aces sync` on restored node `c` until its peers have confirmed its head and it
    /// authors again (a few passes at most); whether it did.
    func syncUntilRestoreConfirmed(_ c: String) async throws -> Bool {
        for _ in 0..<4 {
            let sync = try await AcesProcess.runAsync(["sync", "--data", node(c).path])
            if sync.status == 0, try await store(c).restoreLock() == nil { return true }
        }
        return false
    }
}

/// GETs `url` (with a bearer token if given): the status and the body as text.
func httpGet(_ url: String, token: String? = nil) async throws -> (Int, String) {
    try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
        var request = HTTPClientRequest(url: url)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        let r = try await http.execute(request, timeout: .seconds(30))
        return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 8 << 20)))
    }
}

/// Gives `chapters` the role `steward` in the roster folder `dir`.
func makeStewards(_ chapters: [String], in dir: String) throws {
    for var p in try Roster.load(from: dir).chapters where chapters.contains(p.id) {
        p.roles = ["steward"]
        try Roster.write(p, to: dir)
    }
}
