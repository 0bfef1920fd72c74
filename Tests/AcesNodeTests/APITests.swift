import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The JSON API, the admin API and their OpenAPI description, against a real node.
@Suite(.serialized) struct APITests {
    static func seed(_ n: WebNode) throws {
        try DirectoryPageTests.seed(n)
        try n.event(
            "paris", on: "fr",
            [
                "title": "Meetup", "start": .string(nextYear("03-14T18:30")), "end": .string(nextYear("03-14T21:00")),
                "timezone": "Europe/Paris",
            ])
    }

    static func token(_ n: WebNode) throws -> (String, String) {
        let t = try n.store().createAdminToken(label: "tests", random: SecretToken.random(36))
        return ("Authorization", "Bearer \(t.token)")
    }

    static let json = ("Content-Type", "application/json")

    @Test func badInputGetsOneSentenceAndWritesNothing() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let store = try n.store()
            let heads = try await store.heads().map(\.seq)
            let digest = try await store.stateDigest()
            for path in ["/?page=abc", "/?page=0", "/?q=%E9t%E9", "/?chapter=xx", "/?country=France", "/?q=a&q=b", "/?q=%FF%FE"] {
                let p = try await n.get(path)
                #expect(p.status == 400, "\(path) is refused")
                #expect(p.body.contains("<h1>This request cannot be answered</h1>"))
            }
            #expect(try await n.get("/?q=" + String(repeating: "x", count: 300)).status == 400)
            #expect(try await n.get("/members/not-an-id").status == 404)
            #expect(try await n.get("/no/such/page").status == 404)
            for path in [
                "/api/v1/members?limit=1000", "/api/v1/members?limit=-1", "/api/v1/members?cursor=garbage", "/api/v1/members?sort=name",
                "/api/v1/events?from=yesterday", "/api/v1/events?include_cancelled=yes",
            ] {
                let p = try await n.get(path)
                #expect(p.status == 400 && p.json?["error"]?.stringValue?.isEmpty == false, "\(path) is refused with a sentence")
            }

            // The admin API: no token, a wrong token, then a valid token with bad bodies.
            let json = Self.json
            let body = #"{"email": "new@example.fr", "name": "New Member"}"#
            #expect(try await n.send(.POST, "/admin/v1/members", headers: [json], body: body).status == 401)
            let wrong = try await n.send(.POST, "/admin/v1/members", headers: [json, ("Authorization", "Bearer aces_nope")], body: body)
            #expect(wrong.status == 401 && wrong.header("WWW-Authenticate") != nil)
            let auth = try Self.token(n)
            let cases: [(String, [(String, String)], String, Int)] = [
                ("/admin/v1/members", [auth], body, 415),
                ("/admin/v1/members", [auth, json], "{\"email\": ", 400),
                ("/admin/v1/members", [auth, json], "[1, 2]", 400),
                ("/admin/v1/members", [auth, json], String(repeating: "[", count: 100) + String(repeating: "]", count: 100), 400),
                ("/admin/v1/members", [auth, json], #"{"email": "new@example.fr", "name": 42}"#, 400),
                ("/admin/v1/members", [auth, json], #"{"email": "not an email", "name": "X"}"#, 400),
                ("/admin/v1/members", [auth, json], #"{"email": "new@example.fr", "name": "X", "chapter": "uk"}"#, 400),
                ("/admin/v1/members", [auth, json], #"{"email": "zoe@example.fr", "name": "Zoë Again"}"#, 409),
                ("/admin/v1/members", [auth, json], "{\"name\": \"\(String(repeating: "x", count: 70_000))\"}", 413),
                (
                    "/admin/v1/events", [auth, json],
                    #"{"title": "T", "start": "2027-02-30T10:00", "end": "2027-03-01T10:00", "timezone": "Europe/Paris"}"#, 400
                ),
                (
                    "/admin/v1/events", [auth, json],
                    #"{"title": "T", "start": "2027-03-02T10:00", "end": "2027-03-01T10:00", "timezone": "Europe/Paris"}"#, 400
                ),
                (
                    "/admin/v1/events", [auth, json],
                    #"{"title": "T", "start": "2027-03-01T10:00", "end": "2027-03-01T11:00", "timezone": "Mars/Olympus"}"#, 400
                ),
            ]
            for (path, headers, payload, status) in cases {
                let p = try await n.send(.POST, path, headers: headers, body: payload)
                #expect(p.status == status, "\(payload.prefix(60)) gives \(status), got \(p.status): \(p.body.prefix(200))")
                if p.status != 413 { #expect(p.json?["error"]?.stringValue?.isEmpty == false) }
            }
            let invalidUTF8 = try await n.send(
                .POST, "/admin/v1/members", headers: [auth, json],
                body: "{\"name\": \"\u{FFFD}\"}".replacingOccurrences(of: "\u{FFFD}", with: "\\udc00"))
            #expect(invalidUTF8.status == 400)
            #expect(try await store.heads().map(\.seq) == heads)
            #expect(try await store.stateDigest() == digest)
        }
    }

    @Test func adminAPIWritesSignedEntriesThroughTheCLIsPath() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let auth = try Self.token(n)
            let store = try n.store()
            let before = try await store.heads().first { $0.origin.rawValue == "fr" }!.seq

            let created = try await n.send(
                .POST, "/admin/v1/members", headers: [auth, Self.json],
                body: #"{"email": "ada@example.fr", "name": "Ada Lovelace", "city": "Paris", "visibility": "public"}"#)
            #expect(created.status == 201)
            let id = try #require(created.json?["id"]?.stringValue)
            #expect(created.header("Location") == "/admin/v1/members/\(id)")
            #expect(created.json?["chapter"] == "fr" && created.json?["status"] == "active")
            #expect(try await n.get("/?q=lovelace").body.contains("Ada Lovelace"))

            let patched = try await n.send(
                .PATCH, "/admin/v1/members/\(id)", headers: [auth, Self.json], body: #"{"city": "Lyon", "bio": null}"#)
            #expect(patched.status == 200 && patched.json?["city"] == "Lyon")
            let shown = try await n.send(.GET, "/admin/v1/members/\(id)", headers: [auth], body: nil)
            #expect(shown.json?["email"] == "ada@example.fr" && shown.json?["revision"] == 2)

            let event = try await n.send(
                .POST, "/admin/v1/events", headers: [auth, Self.json],
                body: #"{"title": "Atelier", "start": "2031-06-01T09:30", "end": "2031-06-01T12:00", "timezone": "Europe/Paris"}"#)
            #expect(event.status == 201 && event.json?["start"] == "2031-06-01T07:30:00Z")
            let eventID = try #require(event.json?["id"]?.stringValue)
            let cancelled = try await n.send(.POST, "/admin/v1/events/\(eventID)/cancel", headers: [auth], body: nil)
            #expect(cancelled.status == 200 && cancelled.json?["status"] == "cancelled")

            let erased = try await n.send(
                .POST, "/admin/v1/members/\(id)/erase", headers: [auth, Self.json], body: #"{"reason": "request 42"}"#)
            #expect(erased.status == 200)
            #expect(try await n.get("/?q=lovelace").body.contains("0 members"))
            #expect(try await n.send(.DELETE, "/admin/v1/events/\(eventID)", headers: [auth], body: nil).status == 204)
            #expect(try await n.send(.DELETE, "/admin/v1/events/\(eventID)", headers: [auth], body: nil).status == 404)

            // Each write is one signed entry of fr's log, and the whole log verifies.
            let after = try await store.heads().first { $0.origin.rawValue == "fr" }!.seq
            #expect(after == before + 6)
            #expect(try store.verifyLog(keys: n.fed.node("fr").keyRing()).problems.isEmpty)

            // A revoked token stops working at once.
            let t = try store.adminTokens().first!
            try store.revokeAdminToken(id: t.id)
            #expect(try await n.send(.GET, "/admin/v1/members/\(id)", headers: [auth], body: nil).status == 401)
        }
    }

    @Test func openAPIDescribesWhatTheServerDoes() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let doc = try #require(try await n.get("/api/v1/openapi.json").json)
            #expect(doc["openapi"] == "3.1.0")
            let paths = try #require(doc["paths"]?.objectValue)
            let auth = try Self.token(n)
            let member = n.ids["zoe"]!
            var checked = 0
            // Every GET of the public API, with real ids, answers as its schema says.
            for (path, item) in paths.sorted(by: { $0.key < $1.key }) {
                guard let op = item["get"], path.hasPrefix("/api/") else { continue }
                let url = path.replacingOccurrences(of: "{id}", with: path.contains("events") ? n.ids["paris"]! : member)
                let p = try await n.get(url)
                let schema = try #require(
                    op["responses"]?["\(p.status)"]?["content"]?["application/json"]?["schema"],
                    "\(url) answered \(p.status), which is not documented")
                let problems = SchemaCheck(doc).check(try #require(p.json), against: schema, at: url)
                #expect(problems.isEmpty, "\(problems)")
                let missing = try await n.get(
                    url.replacingOccurrences(of: member, with: "01234567-89ab-7def-8123-456789abcdef")
                        .replacingOccurrences(of: n.ids["paris"]!, with: "01234567-89ab-7def-8123-456789abcdef"))
                #expect(op["responses"]?["\(missing.status)"] != nil, "\(url): status \(missing.status) is documented")
                checked += 1
            }
            #expect(checked == 6)

            // The admin operations answer with documented statuses and bodies.
            let add = try #require(paths["/admin/v1/members"]?["post"])
            let created = try await n.send(
                .POST, "/admin/v1/members", headers: [auth, Self.json], body: #"{"email": "x@example.fr", "name": "X"}"#)
            let addSchema = try #require(add["responses"]?["\(created.status)"]?["content"]?["application/json"]?["schema"])
            #expect(SchemaCheck(doc).check(created.json!, against: addSchema, at: "POST members").isEmpty)
            let unauthorized = try await n.send(.POST, "/admin/v1/members", headers: [Self.json], body: "{}")
            #expect(add["responses"]?["\(unauthorized.status)"] != nil)
            let one = try #require(paths["/admin/v1/members/{id}"])
            for method in ["get", "patch", "delete"] { #expect(one[method]?["security"] != nil) }
            let params = Set((paths["/api/v1/members"]?["get"]?["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
            #expect(params == ["q", "chapter", "country", "limit", "cursor"])
        }
    }
}

/// A small JSON Schema check for what the OpenAPI document uses: $ref, type (or a list of
/// types), required, properties, items, enum.
struct SchemaCheck {
    let doc: JSONValue
    init(_ doc: JSONValue) { self.doc = doc }

    func resolve(_ s: JSONValue) -> JSONValue {
        guard let ref = s["$ref"]?.stringValue else { return s }
        var v = doc
        for part in ref.dropFirst(2).split(separator: "/") { v = v[String(part)] ?? .null }
        return v
    }

    func check(_ value: JSONValue, against schema: JSONValue, at path: String) -> [String] {
        let s = resolve(schema)
        var problems = [String]()
        if let t = s["type"] {
            let types = t.arrayValue?.compactMap(\.stringValue) ?? [t.stringValue ?? ""]
            let actual: String =
                switch value {
                case .null: "null"
                case .bool: "boolean"
                case .string: "string"
                case .number(let d): d == d.rounded() ? "integer" : "number"
                case .array: "array"
                case .object: "object"
                }
            if !types.contains(actual) && !(actual == "integer" && types.contains("number")) {
                return ["\(path): \(actual) where \(types) is documented"]
            }
        }
        if let e = s["enum"]?.arrayValue, !e.contains(value) { problems.append("\(path): \(value) is not in \(e)") }
        if case .object(let o) = value {
            for r in s["required"]?.arrayValue ?? [] where o[r.stringValue ?? ""] == nil { problems.append("\(path): \(r) missing") }
            for (k, sub) in s["properties"]?.objectValue ?? [:] {
                if let v = o[k] { problems += check(v, against: sub, at: path + "." + k) }
            }
        }
        if case .array(let a) = value, let items = s["items"] {
            for (i, v) in a.enumerated() { problems += check(v, against: items, at: "\(path)[\(i)]") }
        }
        return problems
    }
}
