import AcesCore
import AcesNodeFiles
import AcesServer
import AcesStore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

/// Many chapters on loopback (`aces bench --scenarios federation --chapters 30`): every node
/// serves over mutual TLS in this process, pulls from `fanout` others of the roster's ring (not a
/// full mesh), and authors. Measures the time until all converge after a burst, the time until a
/// chapter that joins is known and synced by all, the bytes moved per entry, and memory per node.
struct FederationBench {
    let chapters: Int
    let burst: Int
    let fanout: Int
    let root: String
    let logger: Logger

    /// `n` distinct chapter ids: the known ones first, then `c03`, `c04`…
    static func ids(_ n: Int) -> [ChapterID] {
        let known = ChapterProfile.knownChapters.keys.sorted()
        return (0..<n).compactMap { i in ChapterID(i < known.count ? known[i] : String(format: "c%02d", i)) }
    }

    func run() async throws -> [Figure] {
        let dir = root + "/federation"
        let ids = Self.ids(chapters)
        let founders = Array(ids.dropLast())
        let newcomer = ids.last!
        let baseline = ProcessMemory.residentMegabytes()
        let free = LocalFederation.freePorts(2 * founders.count + 2)
        let ports = (0..<founders.count).map { (web: free[2 * $0], federation: free[2 * $0 + 1]) }
        var servers = [NodeServer]()
        for n in try LocalFederation.create(at: dir, chapters: founders, ports: ports, syncInterval: 5, signedRoster: true) {
            var c = n.config
            c.sync?.fanout = fanout
            c.sync?.timeoutSeconds = 30
            servers.append(try NodeServer(directory: try n.saving(c), logger: logger))
        }
        let group = ServiceGroup(configuration: .init(services: [NodesService(servers: servers)], logger: logger))
        let task = Task { try await group.run() }
        var joinedGroup: ServiceGroup?
        var joinedTask: Task<Void, any Error>?
        func stop() async {
            if let joinedGroup { await joinedGroup.triggerGracefulShutdown() }
            _ = try? await joinedTask?.value
            await group.triggerGracefulShutdown()
            _ = try? await task.value
        }
        do {
            for s in servers { _ = await s.waitUntilListening() }
            // Warm-up: one member per chapter, until every node holds all of them.
            try await author(servers, count: 1)
            guard try await converged(servers, seconds: 300) else { throw ValidationError("the warm-up did not converge in 300 s") }

            // The burst: every chapter authors `burst` members at once.
            let bytesBefore = servers.map(\.syncer.bytesReceived).reduce(0, +)
            let started = DispatchTime.now().uptimeNanoseconds
            try await author(servers, count: burst)
            guard try await converged(servers, seconds: 600) else { throw ValidationError("the burst did not converge in 600 s") }
            let convergeSeconds = Bench.seconds(since: started)
            let bytes = servers.map(\.syncer.bytesReceived).reduce(0, +) - bytesBefore
            let authored = burst * servers.count
            let copies = authored * (servers.count - 1)

            // A chapter joins: request, approval by the root, init --join, serve; nothing is installed on the others.
            let joinStarted = DispatchTime.now().uptimeNanoseconds
            let (node, request) = try JoinRequest.make(
                at: dir + "/\(newcomer)",
                profile: {
                    var p = ChapterProfile.known(newcomer)
                    p.federationURL = "https://127.0.0.1:\(free[free.count - 1])"
                    p.publicURL = "http://127.0.0.1:\(free[free.count - 2])"
                    return p
                }(), hosts: ["127.0.0.1"])
            let bundle = try RosterRoot(dir: dir + "/certs").approve(request)
            var joined = try bundle.complete(node)
            var config = joined.config
            config.sync = .init(intervalSeconds: 5, timeoutSeconds: 30)
            config.sync?.fanout = fanout
            joined = try joined.saving(config)
            let newServer = try NodeServer(directory: joined, logger: logger)
            joinedGroup = ServiceGroup(configuration: .init(services: [newServer], logger: logger))
            let g = joinedGroup!
            joinedTask = Task { try await g.run() }
            _ = await newServer.waitUntilListening()
            try await author([newServer], count: 1)
            let all = servers + [newServer]
            guard try await converged(all, seconds: 600, roster: bundle.roster.version) else {
                throw ValidationError("the new chapter was not known and synced by all within 600 s")
            }
            let joinSeconds = Bench.seconds(since: joinStarted)
            let memory = (ProcessMemory.residentMegabytes() - baseline) / Double(all.count)
            await stop()
            return [
                Figure(name: "federation.chapters", unit: "nodes", values: [Double(all.count)]),
                Figure(name: "federation.burst_converge_s", unit: "s", values: [convergeSeconds]),
                Figure(name: "federation.burst_entries", unit: "entries", values: [Double(authored)]),
                Figure(name: "federation.bytes_per_entry", unit: "bytes", values: [Double(bytes) / Double(max(copies, 1))]),
                Figure(name: "federation.bytes_per_authored_entry", unit: "bytes", values: [Double(bytes) / Double(max(authored, 1))]),
                Figure(name: "federation.join_known_and_synced_s", unit: "s", values: [joinSeconds]),
                Figure(name: "federation.memory_per_node_mb", unit: "MB", values: [memory]),
                Figure(name: "federation.peak_rss_mb", unit: "MB", values: [ProcessMemory.peakRSSMegabytes()]),
            ]
        } catch {
            await stop()
            throw error
        }
    }

    /// Each server's chapter authors `count` members through the real write path.
    func author(_ servers: [NodeServer], count: Int) async throws {
        for s in servers {
            let dir = s.directory
            try await onOwnThread {
                let author = try dir.author()
                var sample = SampleData(seed: dir.chapter.rawValue.utf8.reduce(UInt64(count)) { $0 &* 31 &+ UInt64($1) })
                _ = try dir.openStore().authorMany(as: author, count: count) { _, i in
                    [
                        .set(
                            .member, id: RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin),
                            values: sample.member(chapter: dir.chapter, n: i))
                    ]
                }
            }
        }
    }

    /// Whether every node holds the same heads (and, if given, that roster version) within `seconds`.
    func converged(_ servers: [NodeServer], seconds: Double, roster: Int64? = nil) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var heads = Set<[String]>()
            var rostersOK = true
            for s in servers {
                heads.insert(try await s.store.heads().map { "\($0.origin):\($0.seq)" })
                if let roster, s.syncer.live.version != roster { rostersOK = false }
                if heads.count > 1 { break }
            }
            if heads.count == 1 && rostersOK && heads.first!.count == servers.count { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }
}

/// Runs `work` on a thread of its own (synchronous SQLite writes stay off the concurrency pool).
func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
