import AcesCore
import AcesNodeFiles
import AcesServer
import AcesStore
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle

/// Scenario 4: a node holding `members` members (of three chapters, accented names included)
/// answers prefix and accent-folded searches through its JSON API, one at a time, over HTTP on
/// loopback; reports the latency percentiles as a client sees them.
public struct SearchBench: Sendable {
    public let members: Int
    public let queries: Int
    /// Measured passes over the queries (after one pass of 200 warm-up queries).
    public let rounds: Int
    public let root: String
    public let logger: Logger

    public init(members: Int, queries: Int, rounds: Int = 1, root: String, logger: Logger) {
        self.members = members
        self.queries = queries
        self.rounds = rounds
        self.root = root
        self.logger = logger
    }

    /// Per measured round: percentiles through HTTP and through the store alone, in ms.
    public struct Result: Sendable {
        public var p50: [Double] = []
        public var p99: [Double] = []
        public var storeP50: [Double] = []
        public var storeP99: [Double] = []
        /// Members matched per query (counts stop at 1,000).
        public var matches: Double = 0
    }

    /// Queries people type: name, city, role and topic prefixes, folded or not, one or two words.
    static func queries(count: Int) -> [String] {
        var words = [String]()
        for p in SampleData.profiles.values.sorted(by: { $0.country < $1.country }) {
            words += p.first + p.last + p.cities
        }
        words += SampleData.roles.flatMap { $0.split(separator: " ").map(String.init) }
        var sample = SampleData(seed: 11)
        var out = [String]()
        while out.count < count {
            let w = sample.pick(words)
            let folded = SearchText.fold(w)
            let cut = min(folded.count, 3 + Int(sample.next() % 4))
            switch sample.next() % 4 {
            case 0: out.append(String(folded.prefix(cut)))
            case 1: out.append(String(w.prefix(cut)))
            case 2: out.append(folded)
            default: out.append(folded + " " + String(SearchText.fold(sample.pick(words)).prefix(3)))
            }
        }
        return out
    }

    /// Authors `members` public members of three chapters (accented names included) and indexes them.
    static func seed(store: Store, author: Author, members: Int) throws {
        var sample = SampleData(seed: 5)
        let chapters = ["fr", "uk", "de"].compactMap(ChapterID.init)
        // Written as a federation steward would, each member owned by its own chapter.
        store.setOwnershipRoster(OwnershipRoster(stewards: [author.origin], chapters: chapters))
        var done = 0
        while done < members {
            let n = min(5_000, members - done)
            let base = done
            try store.authorMany(as: author, count: n) { _, k in
                let chapter = chapters[(base + k) % 3]
                let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: chapter)
                var values = sample.member(chapter: chapter, n: base + k)
                values["visibility"] = "public"
                return [.set(.member, id: id, values: values)]
            }
            done += n
        }
        _ = try store.indexPendingSearch()
    }

    /// Runs the scenario: per round, p50 and p99 through HTTP and for the same queries answered by
    /// the store alone (no HTTP); and the mean number of matches per query.
    public func run() async throws -> Result {
        let dir = root + "/search"
        let ports = LocalFederation.freePorts(2)
        let fr = try LocalFederation.create(at: dir, chapters: [ChapterID("fr")!], ports: [(ports[0], ports[1])], syncInterval: 3600)[0]
        let store = try fr.openStore()
        try SearchBench.seed(store: store, author: try fr.author(), members: members)

        let server = try NodeServer(directory: fr, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let task = Task { try await group.run() }
        _ = await server.waitUntilListening()
        let base = "http://127.0.0.1:\(server.port("web") ?? ports[0])/api/v1/members?limit=20&q="
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        var result = Result()
        let list = SearchBench.queries(count: queries + 200)
        func pct(_ xs: [Double], _ q: Double) -> Double {
            let sorted = xs.sorted()
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
        }
        do {
            for _ in 0..<rounds {
                var latencies = [Double]()
                var matches = 0.0
                // Each round runs the same list; its first 200 queries warm up and are not timed.
                for (i, q) in list.enumerated() {
                    let url = base + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q)
                    let start = DispatchTime.now().uptimeNanoseconds
                    let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                    let body = try await response.body.collect(upTo: 1 << 22)
                    let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    guard response.status == .ok else { throw NodeError.config("search '\(q)' answered \(response.status.code)") }
                    if i >= 200 {
                        latencies.append(ms)
                        matches += (try? JSONParser.parse(Array(buffer: body)))?["total"]?.doubleValue ?? 0
                    }
                }
                result.p50.append(pct(latencies, 0.5))
                result.p99.append(pct(latencies, 0.99))
                result.matches = matches / Double(max(1, latencies.count))
            }
            try await http.shutdown()
        } catch {
            try? await http.shutdown()
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            throw error
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        // The same queries without HTTP: what the index and the page's records cost.
        for _ in 0..<rounds {
            var direct = [Double]()
            for q in list.dropFirst(200) {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try await store.directory(DirectoryQuery(viewer: .visitor, text: q, limit: 20))
                direct.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
            }
            result.storeP50.append(pct(direct, 0.5))
            result.storeP99.append(pct(direct, 0.99))
        }
        return result
    }
}
