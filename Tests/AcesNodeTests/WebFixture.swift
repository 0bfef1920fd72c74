import AcesCore
import AcesStore
import AcesTestSupport
import AcesWorkflows
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A real node (fr) serving its public listener, with a replica seeded by three chapters'
/// signed entries: fr's own, and uk's and de's applied as sync would apply them.
final class WebNode: @unchecked Sendable {
    let fed: RunningFederation
    let http: HTTPClient
    /// Seeded record ids by label.
    var ids: [String: String] = [:]

    struct Page {
        let status: Int
        let headers: HTTPHeaders
        let body: String
        func header(_ name: String) -> String? { headers.first(name: name) }
        var json: JSONValue? { try? JSONParser.parse(Array(body.utf8)) }
    }

    private init(fed: RunningFederation) {
        self.fed = fed
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.timeout = .init(connect: .seconds(5), read: .seconds(20))
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    /// Starts fr after `seed` wrote through each chapter's editor; always stops and shuts down.
    static func with(seed: (WebNode) throws -> Void, _ body: (WebNode) async throws -> Void) async throws {
        let node = WebNode(fed: try RunningFederation(["fr", "uk", "de"], interval: 3600))
        do {
            try seed(node)
            try node.copy(into: "fr", from: ["uk", "de"])
            try await node.fed.start("fr")
            try await body(node)
        } catch {
            await node.fed.stopAll()
            try? await node.http.shutdown()
            throw error
        }
        await node.fed.stopAll()
        try await node.http.shutdown()
    }

    func editor(_ c: String) throws -> Editor { Editor(directory: fed.node(c), store: try fed.store(c)) }
    func store(_ c: String = "fr") throws -> Store { try fed.store(c) }

    /// Adds a member through chapter `c`'s write path and remembers it as `label`.
    @discardableResult
    func member(_ label: String, on c: String, _ values: [String: JSONValue]) throws -> String {
        let r = try editor(c).addMember(values)
        ids[label] = r.id
        return r.id
    }

    @discardableResult
    func event(_ label: String, on c: String, _ values: [String: JSONValue]) throws -> String {
        let r = try editor(c).addEvent(values)
        ids[label] = r.id
        return r.id
    }

    /// Applies other chapters' entries to `target`, as a sync pass would.
    func copy(into target: String, from origins: [String]) throws {
        let to = try store(target)
        let keys = try fed.node(target).keyRing()
        for o in origins {
            let from = try store(o)
            let entries = try from.entries(of: ChapterID(o)!, after: 0, limit: 1_000_000)
            if !entries.isEmpty { _ = try to.apply(entries, origin: ChapterID(o)!, keys: keys) }
        }
    }

    var base: String { "http://127.0.0.1:\(fed.server("fr")!.port("web")!)" }

    func get(_ path: String, cookie: String? = nil, headers: [(String, String)] = []) async throws -> Page {
        try await send(.GET, path, cookie: cookie, headers: headers, body: nil)
    }

    func send(_ method: HTTPMethod, _ path: String, cookie: String? = nil, headers: [(String, String)] = [], body: String?) async throws
        -> Page
    {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let cookie { request.headers.add(name: "Cookie", value: cookie) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(20))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Page(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// The `name=value` of a Set-Cookie header, for sending back.
    static func cookie(_ page: Page, _ name: String) -> String? {
        page.headers["Set-Cookie"].first { $0.hasPrefix(name + "=") }.map { String($0.split(separator: ";")[0]) }
    }
}

/// A local wall time next year, so the seeded events are always upcoming.
func nextYear(_ monthDayTime: String) -> String {
    let year = Calendar(identifier: .gregorian).component(.year, from: Date()) + 1
    return "\(year)-\(monthDayTime)"
}
