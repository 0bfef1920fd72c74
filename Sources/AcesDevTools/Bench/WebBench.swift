import AcesCore
import AcesNodeFiles
import AcesServer
import AcesStore
import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// Scenario 5: the public listener under load. A node holding `members` members and a calendar
/// answers its pages, JSON search, a profile and the calendar feed to 1, 16 and 64 keep-alive
/// connections of a load generator running in another process (`measure`); beside it, a ceiling:
/// a listener with the same HTTP configuration answering a precomputed body of the same size, so
/// the figures say how much of the machine the node's own work takes.
public struct WebBench: Sendable {
    public let members: Int
    public let connections: [Int]
    public let seconds: Double
    /// Measured runs of each URL at each number of connections.
    public let rounds: Int
    public let root: String
    public let logger: Logger
    /// Runs one load (`HTTPLoad` in a child process) and returns its result.
    public let measure: @Sendable (HTTPLoad) async throws -> HTTPLoad.Result

    public init(
        members: Int, connections: [Int] = [1, 16, 64], seconds: Double = 3, rounds: Int = 1, root: String, logger: Logger,
        measure: @escaping @Sendable (HTTPLoad) async throws -> HTTPLoad.Result
    ) {
        self.members = members
        self.connections = connections
        self.seconds = seconds
        self.rounds = rounds
        self.root = root
        self.logger = logger
        self.measure = measure
    }

    /// One URL under load at one number of connections, and the ceiling for its body size.
    public struct Cell: Sendable {
        public var target: String
        public var connections: Int
        /// One result per round, for the node and for the ceiling.
        public var node: [HTTPLoad.Result]
        public var ceiling: [HTTPLoad.Result]
        public var bodyBytes: Int
    }

    /// The URLs measured, by name (the profile's id is filled in once the node holds members).
    static func targets(profile: String) -> [(name: String, path: String)] {
        [
            ("search_page", "/?q=mar"),
            ("json_search_20", "/api/v1/members?q=mar&limit=20"),
            ("json_search_100", "/api/v1/members?q=m&limit=100"),
            ("home", "/"),
            ("profile", "/members/\(profile)"),
            ("events_ics", "/events.ics"),
        ]
    }

    public func run() async throws -> [Cell] {
        let dir = root + "/web"
        let ports = LocalFederation.freePorts(3)
        let fr = try LocalFederation.create(at: dir, chapters: [ChapterID("fr")!], ports: [(ports[0], ports[1])], syncInterval: 3600)[0]
        let store = try fr.openStore()
        let author = try fr.author()
        try SearchBench.seed(store: store, author: author, members: members)
        var sample = SampleData(seed: 17)
        let chapters = ["fr", "uk", "de"].compactMap(ChapterID.init)
        // A chapter's year of events (fewer in a tiny run, so that its short loads still finish answers).
        try store.authorMany(as: author, count: min(300, max(5, members / 20))) { _, k in
            let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: chapters[k % 3])
            return [.set(.event, id: id, values: sample.event(chapter: chapters[k % 3], from: Date(), daysAhead: 300))]
        }
        var profile = try await store.directory(DirectoryQuery(viewer: .visitor, text: "mar", limit: 1)).records.first?.id
        if profile == nil { profile = try await store.directory(DirectoryQuery(viewer: .visitor, limit: 1)).records.first?.id }

        let server = try NodeServer(directory: fr, logger: logger)
        let ceiling = Ceiling(port: ports[2], logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server, ceiling.app], logger: logger))
        let task = Task { try await group.run() }
        defer { task.cancel() }
        _ = await server.waitUntilListening()
        guard let webPort = server.port("web") else { throw NodeError.config("the node's public listener did not start") }
        var cells = [Cell]()
        // A second of warm-up before each measured load (less for a very short smoke run).
        let warmup = min(1, seconds / 3)
        do {
            for t in WebBench.targets(profile: profile ?? "") {
                let body = try await WebBench.fetch(port: webPort, path: t.path)
                ceiling.bodies.withLockedValue { $0[t.name] = ByteBuffer(bytes: body) }
                for c in connections {
                    var cell = Cell(target: t.name, connections: c, node: [], ceiling: [], bodyBytes: body.count)
                    for _ in 0..<rounds {
                        cell.node.append(
                            try await measure(
                                HTTPLoad(host: "127.0.0.1", port: webPort, path: t.path, connections: c, warmup: warmup, seconds: seconds)))
                        cell.ceiling.append(
                            try await measure(
                                HTTPLoad(
                                    host: "127.0.0.1", port: ports[2], path: "/ceiling/" + t.name, connections: c, warmup: warmup,
                                    seconds: seconds)))
                    }
                    cells.append(cell)
                }
            }
        } catch {
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return cells
    }

    /// One GET through AsyncHTTPClient, checked to be 200.
    static func fetch(port: Int, path: String) async throws -> [UInt8] {
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        do {
            let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 64 << 20)
            try await http.shutdown()
            guard response.status == .ok else { throw NodeError.config("\(path) answered \(response.status.code)") }
            return Array(buffer: body)
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The ceiling: the node's HTTP configuration answering a body prepared in advance.
    final class Ceiling: Sendable {
        let bodies = NIOLockedValueBox<[String: ByteBuffer]>([:])
        let app: Application<RouterResponder<BasicRequestContext>>

        init(port: Int, logger: Logger) {
            let router = Router()
            let bodies = bodies
            router.get("/ceiling/:name") { _, context -> Response in
                let body = bodies.withLockedValue { $0[context.parameters.get("name") ?? ""] } ?? ByteBuffer()
                var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8", .cacheControl: "private, no-cache", .vary: "Cookie"]
                headers.append(contentsOf: Response.securityHeaders)
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
            }
            app = Application(
                router: router,
                server: .http1(configuration: NodeServer.limits(idle: nil, request: nil, fallback: NodeServer.publicIdleTimeout)),
                configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "aces-ceiling"), logger: logger)
        }
    }
}
