import AcesCore
import AcesStore
import AcesTestSupport
import AcesWorkflows
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Two real nodes, fr and uk (a steward), syncing over mutual TLS, that edited the same records
/// while cut off from each other: six open conflicts on both, settled through the admin API.
final class ConflictedPair: @unchecked Sendable {
    let fed: RunningFederation
    let http: HTTPClient
    /// Record ids by label: zoe, gone (fr's), kit (uk's, granted to fr), twinFr, twinUk.
    var ids: [String: String] = [:]
    var tokens: [String: String] = [:]
    /// Each node's replica, opened once.
    private var stores: [String: Store] = [:]

    private init(fed: RunningFederation) {
        self.fed = fed
        var config = HTTPClient.Configuration(redirectConfiguration: .disallow)
        config.timeout = .init(connect: .seconds(5), read: .seconds(60))
        http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    /// Runs `body` with both nodes serving and the conflicts made; always stops them.
    static func with(_ body: (ConflictedPair) async throws -> Void) async throws {
        let pair = ConflictedPair(fed: try RunningFederation(["fr", "uk"], stewards: ["uk"]))
        defer { pair.fed.shutdownLeftovers() }
        do {
            try await pair.makeConflicts()
            try await body(pair)
        } catch {
            await pair.fed.stopAll()
            try? await pair.http.shutdown()
            throw error
        }
        await pair.fed.stopAll()
        try await pair.http.shutdown()
    }

    func editor(_ c: String) throws -> Editor { Editor(directory: fed.node(c), store: try fed.store(c)) }

    /// fr's member Zoë is edited by both (three field conflicts); fr removes its member Paul while
    /// uk edits him, and uk removes its member Kit while fr, holding a grant, edits her (two delete
    /// conflicts); both register the same person (a duplicate identity).
    private func makeConflicts() async throws {
        let (fr, uk) = (try editor("fr"), try editor("uk"))
        ids["zoe"] = try fr.addMember(["email": "zoe@example.fr", "name": "Zoë Martin", "city": "Lyon"]).id
        ids["gone"] = try fr.addMember(["email": "paul@example.fr", "name": "Paul Gone", "city": "Nantes"]).id
        ids["kit"] = try uk.addMember(["email": "kit@example.org", "name": "Kit Jones", "city": "Leeds"]).id
        try uk.store.author(as: try fed.node("uk").author()) { _ in [.grant(.member, id: self.ids["kit"]!, to: ChapterID("fr")!)] }
        try await fed.start("fr", "uk")
        try #require(try await fed.converge(["fr", "uk"], seconds: 60))
        await fed.stop("fr", "uk")

        _ = try fr.updateMember(ids["zoe"]!, ["city": "Paris", "role": "Trésorière", "name": "Zoé Martin"])
        _ = try uk.updateMember(ids["zoe"]!, ["city": "Leeds", "role": "Treasurer", "name": "Zoe Martin"])
        try fr.remove(.member, id: ids["gone"]!)
        _ = try uk.updateMember(ids["gone"]!, ["city": "York"])
        _ = try fr.updateMember(ids["kit"]!, ["city": "Lille"])
        try uk.remove(.member, id: ids["kit"]!)
        ids["twinFr"] = try fr.addMember(["email": "twin@example.org", "name": "Twin Fr", "city": "Lille"]).id
        ids["twinUk"] = try uk.addMember(["email": "TWIN@example.org", "name": "Twin Uk", "role": "Editor"]).id

        try await fed.start("fr", "uk")
        try #require(try await fed.converge(["fr", "uk"], seconds: 60))
        for c in ["fr", "uk"] {
            stores[c] = try fed.store(c)
            tokens[c] = try store(c).createAdminToken(label: "tests", random: SecretToken.random(36)).token
            try #require(try await store(c).openConflicts().count == 6)
        }
    }

    func url(_ c: String) -> String { "http://127.0.0.1:\(fed.server(c)!.port("web")!)" }

    /// Calls node `c`'s admin API with its token (or `token`, or none with `auth: false`).
    func call(
        _ c: String, _ method: HTTPMethod, _ path: String, body: String? = nil, token: String? = nil, auth: Bool = true,
        contentType: String? = "application/json"
    ) async throws -> WebNode.Page {
        var request = HTTPClientRequest(url: url(c) + path)
        request.method = method
        if auth { request.headers.add(name: "Authorization", value: "Bearer \(token ?? tokens[c]!)") }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return WebNode.Page(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// The open conflicts node `c`'s admin API lists.
    func list(_ c: String) async throws -> [JSONValue] {
        let page = try await call(c, .GET, "/admin/v1/conflicts")
        #expect(page.status == 200, "\(page.body.prefix(300))")
        return page.json?["items"]?.arrayValue ?? []
    }

    /// The one listed conflict of `kind` (about `record`, or `field`).
    func conflict(_ list: [JSONValue], _ kind: String, record: String? = nil, field: String? = nil) throws -> String {
        let found = list.first { c in
            c["kind"]?.stringValue == kind && (field == nil || c["field"]?.stringValue == field)
                && (record == nil || c["records"]?.arrayValue?.contains(.string(record!)) == true)
        }
        return try #require(found?["id"]?.stringValue, "no \(kind) conflict \(field ?? record ?? "") in \(list)")
    }

    /// `aces conflicts …--json` on node `c`'s replica, while it serves.
    func cli(_ c: String, _ args: String...) async throws -> JSONValue {
        let r = try await AcesProcess.runAsync(["conflicts"] + args + ["--json", "--data", fed.node(c).path])
        #expect(r.status == 0, "\(r.stderr)")
        return try JSONParser.parse(Array(r.stdout.utf8))
    }

    func store(_ c: String) -> Store { stores[c]! }

    /// What is wrong with `page` as an answer of `method` `path` by the node's OpenAPI document.
    func undocumented(_ method: String, _ path: String, _ page: WebNode.Page) async throws -> [String] {
        let doc = try #require(try await call("fr", .GET, "/api/v1/openapi.json", auth: false).json)
        let schema = doc["paths"]?[path]?[method]?["responses"]?["\(page.status)"]?["content"]?["application/json"]?["schema"]
        guard let schema, let body = page.json else { return ["\(method) \(path): \(page.status) is not documented"] }
        return SchemaCheck(doc).check(body, against: schema, at: "\(method) \(path)")
    }

    func head(_ c: String) async throws -> Int64 {
        try await store(c).heads().first { $0.origin.rawValue == c }?.seq ?? 0
    }

    func member(_ c: String, _ label: String) async throws -> Record {
        try #require(try await store(c).record(.member, id: ids[label]!))
    }
}

/// An operator settling conflicts through a node's admin API instead of `aces conflicts`: the same
/// listing, the same choices, the same rules of who may settle what, and settlements that reach
/// the peer like any edit.
@Suite(.serialized) struct AdminConflictsAPITests {
    @Test func listShowAndSettleWithEveryChoiceAndThePeerAgrees() async throws {
        try await ConflictedPair.with { p in
            // The listing and each conflict are what the CLI's JSON gives, on the same replica.
            let list = try await p.list("uk")
            #expect(list.count == 6)
            let listed = try await p.call("uk", .GET, "/admin/v1/conflicts")
            #expect(try await p.undocumented("get", "/admin/v1/conflicts", listed).isEmpty)
            #expect(JSONValue.array(list) == (try await p.cli("uk", "list")))
            #expect(list.allSatisfy { $0["may_settle"] == .bool(true) }, "uk is a steward")
            for c in list {
                let id = try #require(c["id"]?.stringValue)
                let shown = try await p.call("uk", .GET, "/admin/v1/conflicts/\(id)")
                #expect(shown.status == 200)
                #expect(try await p.undocumented("get", "/admin/v1/conflicts/{id}", shown).isEmpty)
                guard case .object(var cli) = try await p.cli("uk", "show", id) else { Issue.record("show --json"); continue }
                cli["may_settle"] = .bool(true)
                #expect(shown.json == .object(cli), "GET /admin/v1/conflicts/\(id) is 'aces conflicts show \(id) --json'")
            }
            let frList = try await p.list("fr")
            #expect(frList.map { $0["id"] } == list.map { $0["id"] }, "both nodes list the same conflicts")

            // Each kind of choice, on uk.
            let city = try p.conflict(list, "field", field: "city")
            let role = try p.conflict(list, "field", field: "role")
            let name = try p.conflict(list, "field", field: "name")
            let gone = try p.conflict(list, "delete", record: p.ids["gone"])
            let kit = try p.conflict(list, "delete", record: p.ids["kit"])
            let twins = try p.conflict(list, "duplicate")
            let settlements: [(String, String)] = [
                (city, #"{"take": "fr"}"#), (role, #"{"value": "Co-chair"}"#), (name, #"{"take": "uk"}"#),
                (gone, #"{"take": "uk"}"#), (kit, #"{"take": "uk"}"#), (twins, "{\"merge_into\": \"\(p.ids["twinFr"]!)\"}"),
            ]
            for (id, body) in settlements {
                let before = try await p.head("uk")
                let settled = try await p.call("uk", .POST, "/admin/v1/conflicts/\(id)/settle", body: body)
                #expect(settled.status == 200, "\(body): \(settled.body.prefix(300))")
                #expect(settled.json?["id"] == .string(id))
                #expect(try await p.undocumented("post", "/admin/v1/conflicts/{id}/settle", settled).isEmpty)
                #expect(settled.json?["entry"] == .string("uk:\(before + 1)") && settled.json?["origin"] == "uk")
                #expect(settled.json?["seq"] == .number(Double(before + 1)))
                #expect(try await p.head("uk") == before + 1, "one signed entry per settlement")
                #expect(try await p.call("uk", .GET, "/admin/v1/conflicts/\(id)").status == 404, "settled: no longer open")
            }
            #expect(try await p.list("uk").isEmpty)

            // The settlements reach fr like any edit: nothing open there either, the same state.
            #expect(try await p.fed.converge(["fr", "uk"], seconds: 60))
            #expect(try await p.list("fr").isEmpty)
            #expect(try await p.store("fr").openConflicts().isEmpty)
            #expect(try await p.store("fr").stateDigest() == p.store("uk").stateDigest())
            let zoe = try await p.member("fr", "zoe")
            #expect(zoe.values["city"] == "Paris" && zoe.values["role"] == "Co-chair" && zoe.values["name"] == "Zoe Martin")
            let paul = try await p.member("fr", "gone")
            #expect(!paul.removed && paul.values["city"] == "York" && paul.values["name"] == "Paul Gone", "brought back whole")
            #expect(try await p.member("fr", "kit").removed, "kept removed")
            let retired = try await p.member("fr", "twinUk")
            #expect(retired.removed && retired.values["merged_into"] == .string(p.ids["twinFr"]!))
            #expect(try await p.member("fr", "twinFr").values["role"] == "Editor", "the survivor gained what it lacked")
        }
    }

    @Test func settleAutomaticSettlesWhatTheCLIWouldAndSaysWhyTheRestIsLeft() async throws {
        try await ConflictedPair.with { p in
            // fr is no steward: Kit's delete conflict is uk's, the duplicate needs a survivor.
            let cliList = try #require(try await p.cli("fr", "list").arrayValue)
            let automatic = Set(
                cliList.filter { $0["kind"] != "duplicate" && $0["may_settle"] == .bool(true) }.compactMap { $0["id"]?.stringValue })
            #expect(automatic.count == 4)
            let winners = cliList.filter { $0["kind"] == "field" }.map { c in
                (c["field"]!.stringValue!, c["sides"]!.arrayValue!.first { $0["winner"] == .bool(true) }!["value"]!)
            }
            let kit = try p.conflict(cliList, "delete", record: p.ids["kit"])
            let twins = try p.conflict(cliList, "duplicate")
            let before = try await p.head("fr")

            let done = try await p.call("fr", .POST, "/admin/v1/conflicts/settle-automatic")
            #expect(done.status == 200, "\(done.body.prefix(300))")
            #expect(try await p.undocumented("post", "/admin/v1/conflicts/settle-automatic", done).isEmpty)
            #expect(done.json?["settled"] == 4 && done.json?["entries"] == 1 && done.json?["left"] == 2)
            let left = done.json?["left_conflicts"]?.arrayValue ?? []
            #expect(Set(left.compactMap { $0["id"]?.stringValue }) == [kit, twins])
            #expect(left.first { $0["id"] == .string(kit) }?["reason"] == "owner_settles")
            #expect(left.first { $0["id"] == .string(twins) }?["reason"] == "needs_survivor")
            #expect(try await p.head("fr") == before + 1)
            let open = Set(try await p.list("fr").compactMap { $0["id"]?.stringValue })
            #expect(open == [kit, twins] && open.isDisjoint(with: automatic))
            let zoe = try await p.member("fr", "zoe")
            for (field, value) in winners { #expect(zoe.values[field] == value, "\(field) keeps its automatic winner") }
            #expect(try await p.member("fr", "gone").values["city"] == "York", "Paul's edit won over his removal")

            // Run again, nothing is left that fr may settle: nothing is written.
            let again = try await p.call("fr", .POST, "/admin/v1/conflicts/settle-automatic")
            #expect(again.json?["settled"] == 0 && again.json?["entries"] == 0 && again.json?["left"] == 2)
            #expect(try await p.head("fr") == before + 1)
            // The CLI's bulk settlement agrees, and says why the rest is left.
            let cli = try await AcesProcess.runAsync([
                "conflicts", "resolve", "--all", "--strategy", "latest", "--data", p.fed.node("fr").path,
            ])
            #expect(cli.status == 0 && cli.stdout.contains("Settled 0 conflict(s)"), "\(cli.stdout) \(cli.stderr)")
            #expect(
                cli.stdout.contains("1 duplicate identity is left")
                    && cli.stdout.contains("1 conflict(s) are left to their records' owners"))
            #expect(try await p.head("fr") == before + 1)

            #expect(try await p.fed.converge(["fr", "uk"], seconds: 60))
            #expect(Set(try await p.list("uk").compactMap { $0["id"]?.stringValue }) == [kit, twins])
        }
    }

    @Test func hostileRequestsAreRefusedWithOneSentenceAndWriteNothing() async throws {
        try await ConflictedPair.with { p in
            let list = try await p.list("uk")
            let city = try p.conflict(list, "field", field: "city")
            let name = try p.conflict(list, "field", field: "name")
            let gone = try p.conflict(list, "delete", record: p.ids["gone"])
            let kit = try p.conflict(list, "delete", record: p.ids["kit"])
            let twins = try p.conflict(list, "duplicate")
            let (ukHead, frHead) = (try await p.head("uk"), try await p.head("fr"))
            let digest = try await p.store("uk").stateDigest()

            // No token, a wrong one, fr's token on uk: 401 on every route.
            let routes: [(HTTPMethod, String, String?)] = [
                (.GET, "/admin/v1/conflicts", nil), (.GET, "/admin/v1/conflicts/\(city)", nil),
                (.POST, "/admin/v1/conflicts/\(city)/settle", #"{"take": "fr"}"#), (.POST, "/admin/v1/conflicts/settle-automatic", nil),
            ]
            for (method, path, body) in routes {
                for token in [nil, "aces_nope", p.tokens["fr"]!] {
                    let r = try await p.call("uk", method, path, body: body, token: token, auth: token != nil)
                    #expect(r.status == 401 && r.header("WWW-Authenticate") != nil, "\(method) \(path) with \(token ?? "no token")")
                }
            }

            // Unknown ids: 404 with one sentence.
            for (method, path) in [
                (HTTPMethod.GET, "/admin/v1/conflicts/000000000000"), (.GET, "/admin/v1/conflicts/not-an-id"),
                (.POST, "/admin/v1/conflicts/000000000000/settle"), (.POST, "/admin/v1/conflicts/ABCDEF012345/settle"),
            ] {
                let r = try await p.call("uk", method, path, body: method == .POST ? #"{"take": "fr"}"# : nil)
                #expect(r.status == 404 && r.json?["error"]?.stringValue?.contains("no open conflict") == true, "\(path): \(r.body)")
            }

            // Malformed, wrong-typed, unknown, invalid or unfitting bodies: 400, one sentence each.
            let cases: [(String, String, String)] = [
                (city, #"{"take": "#, "not valid JSON"), (city, "[1, 2]", "JSON object"), (city, "{}", "exactly one of"),
                (city, #"{"take": 3}"#, "'take'"), (city, #"{"take": "FR!"}"#, "'take'"), (city, #"{"take": null}"#, "'take'"),
                (city, #"{"take": "de"}"#, "no side of this conflict was written by 'de'"),
                (city, #"{"take": "fr", "value": "Lyon"}"#, "exactly one of"), (city, #"{"choose": "fr"}"#, "unknown field 'choose'"),
                (city, #"{"take": "fr", "note": "x"}"#, "unknown field 'note'"), (city, #"{"value": 42}"#, "'value': city"),
                (city, #"{"value": ["Lyon"]}"#, "'value': city"), (city, #"{"value": "Ly\u0001on"}"#, "control characters"),
                (name, #"{"value": null}"#, "'value': name: is required"), (name, #"{"value": " "}"#, "'value': name: must not be empty"),
                (city, "{\"merge_into\": \"\(p.ids["twinFr"]!)\"}", "a field conflict is settled with"),
                (gone, #"{"value": "Lyon"}"#, "a delete conflict is settled with"), (twins, #"{"take": "uk"}"#, "merge_into"),
                (twins, #"{"merge_into": 5}"#, "'merge_into'"), (twins, #"{"merge_into": "twin"}"#, "'merge_into'"),
                (twins, "{\"merge_into\": \"\(p.ids["zoe"]!)\"}", "is not one of the duplicates"),
            ]
            for (id, body, sentence) in cases {
                let r = try await p.call("uk", .POST, "/admin/v1/conflicts/\(id)/settle", body: body)
                let error = r.json?["error"]?.stringValue ?? ""
                #expect(r.status == 400 && error.contains(sentence), "\(body) → \(r.status) \(r.body.prefix(300))")
                #expect(try await p.undocumented("post", "/admin/v1/conflicts/{id}/settle", r).isEmpty)
            }
            let untyped = try await p.call("uk", .POST, "/admin/v1/conflicts/\(city)/settle", body: #"{"take": "fr"}"#, contentType: nil)
            #expect(untyped.status == 415)
            for query in ["?kind=conflict", "?chapter=FR!", "?settled=true"] {
                #expect(try await p.call("uk", .GET, "/admin/v1/conflicts" + query).status == 400, "\(query)")
            }

            // fr may not settle Kit's delete conflict (uk's record) nor the duplicate (it would
            // retire uk's member): listed as such, refused with the store's sentence naming uk.
            let frList = try await p.list("fr")
            #expect(
                frList.filter { $0["may_settle"] == .bool(false) }.compactMap { $0["id"]?.stringValue }.sorted() == [kit, twins].sorted())
            for (id, body) in [(kit, #"{"take": "fr"}"#), (twins, "{\"merge_into\": \"\(p.ids["twinFr"]!)\"}")] {
                let r = try await p.call("fr", .POST, "/admin/v1/conflicts/\(id)/settle", body: body)
                #expect(r.status == 403 && r.json?["error"]?.stringValue?.contains("uk") == true, "\(body) → \(r.body.prefix(300))")
                #expect(try await p.undocumented("post", "/admin/v1/conflicts/{id}/settle", r).isEmpty)
            }

            // Nothing was written anywhere; every conflict is still open.
            #expect(try await p.head("uk") == ukHead)
            #expect(try await p.head("fr") == frHead)
            #expect(try await p.store("uk").stateDigest() == digest)
            #expect(try await p.list("uk").map { $0["id"] } == list.map { $0["id"] })
        }
    }

    @Test func aCrowdSettlingOneConflictAtOnceWritesOneEntry() async throws {
        try await ConflictedPair.with { p in
            let city = try p.conflict(try await p.list("uk"), "field", field: "city")
            let before = try await p.head("uk")
            let statuses = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for i in 0..<16 {
                    group.addTask {
                        let r = try await p.call(
                            "uk", .POST, "/admin/v1/conflicts/\(city)/settle",
                            body: i % 2 == 0 ? #"{"take": "fr"}"# : #"{"value": "Crowd \#(i)"}"#)
                        return (r.status, r.json?["entry"]?.stringValue ?? "")
                    }
                }
                var all = [(Int, String)]()
                for try await s in group { all.append(s) }
                return all
            }
            #expect(statuses.filter { $0.0 == 200 }.count == 1, "exactly one settles: \(statuses)")
            #expect(statuses.filter { $0.0 == 404 }.count == 15, "the others find it gone: \(statuses)")
            #expect(statuses.first { $0.0 == 200 }?.1 == "uk:\(before + 1)")
            #expect(try await p.head("uk") == before + 1, "one settling entry in the log")
            let uk = p.store("uk")
            let settled = try await WriteQueue.run { try uk.settledConflicts(kind: .field) }.filter { $0.id == city }
            #expect(settled.count == 1 && settled.first?.settledBy?.version.description == "uk:\(before + 1)")
        }
    }
}
