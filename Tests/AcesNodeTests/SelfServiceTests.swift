import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AcesWorkflows
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// A browser-like client of one node's public listener: keeps its cookies, reads forms, posts
/// them as a browser does (with `Origin` and `Referer` of the page).
final class Browser: @unchecked Sendable {
    let base: String
    let http: HTTPClient
    var cookies: [String: String] = [:]

    struct Page {
        let status: Int
        let headers: HTTPHeaders
        let body: String
        var json: JSONValue? { try? JSONParser.parse(Array(body.utf8)) }
        /// The value of the hidden form token in the page.
        var formToken: String? {
            guard let r = body.range(of: "name=\"csrf\" value=\"") else { return nil }
            return String(body[r.upperBound...].prefix { $0 != "\"" })
        }
    }

    init(_ base: String, http: HTTPClient) {
        self.base = base
        self.http = http
    }

    var cookieHeader: String { cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }

    func get(_ path: String) async throws -> Page { try await send(.GET, path, body: nil, headers: []) }

    /// Posts a form; `origin` nil sends no Origin or Referer (a non-browser client).
    func post(_ path: String, _ fields: [(String, String)], origin: String?? = .none, headers: [(String, String)] = []) async throws
        -> Page
    {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { k, v in "\(k)=\(v.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        var h = [("Content-Type", "application/x-www-form-urlencoded")] + headers
        switch origin {
        case .none: h += [("Origin", base), ("Referer", base + path), ("Sec-Fetch-Site", "same-origin")]
        case .some(.some(let o)): h += [("Origin", o)]
        case .some(.none): break
        }
        return try await send(.POST, path, body: body, headers: h)
    }

    func send(_ method: HTTPMethod, _ path: String, body: String?, headers: [(String, String)]) async throws -> Page {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookieHeader) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        for c in response.headers["Set-Cookie"] {
            let pair = c.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[1].isEmpty || c.lowercased().contains("max-age=0") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
        }
        return Page(status: Int(response.status.code), headers: response.headers, body: String(buffer: bytes))
    }

    /// Signs in with a personal link as a member does: opens the link, presses the button.
    func signIn(_ store: Store, member: String) async throws {
        let invite = try store.invite(member: member, lifetime: 3600, random: SecretToken.random(32))
        let confirm = try await get("/signin?token=\(invite.token)")
        #expect(confirm.status == 200)
        let opened = try await post("/signin", [("token", invite.token)])
        #expect(opened.status == 303 && cookies["aces_session"] != nil)
    }
}

/// Members keep their own profile: edit, see, take away and erase their data, over real HTTP
/// with a browser-like client, on a real federation.
@Suite(.serialized) struct SelfServiceTests {
    /// A running federation with members on fr and uk; `body` gets browsers for fr's node.
    func with(
        _ chapters: [String] = ["fr", "uk", "de"], configure: (RunningFederation) throws -> Void = { _ in },
        _ body: (RunningFederation, [String: String], @escaping () -> Browser) async throws -> Void
    ) async throws {
        let fed = try RunningFederation(chapters)
        try configure(fed)
        var ids = [String: String]()
        let fr = Editor(directory: fed.node("fr"), store: try fed.store("fr"))
        ids["zoe"] =
            try fr.addMember([
                "email": "zoe-q9x@example.fr", "name": "Zoë Martin", "city": "Lyon", "country": "FR", "visibility": "public",
            ]).id
        ids["marc"] = try fr.addMember(["email": "marc-q9x@example.fr", "name": "Marc Petit", "visibility": "members"]).id
        let uk = Editor(directory: fed.node("uk"), store: try fed.store("uk"))
        ids["harry"] = try uk.addMember(["email": "harry-q9x@example.co.uk", "name": "Harry Jones", "visibility": "public"]).id
        for c in chapters { try await fed.start(c) }
        let http = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))
        let base = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)"
        do {
            #expect(try await fed.converge(chapters))
            try await body(fed, ids) { Browser(base, http: http) }
        } catch {
            await fed.stopAll()
            try? await http.shutdown()
            throw error
        }
        await fed.stopAll()
        try await http.shutdown()
    }

    /// The form's current fields, as the browser would send them back, with some changed.
    static func form(_ page: Browser.Page, _ changes: [String: String]) -> [(String, String)] {
        var f: [String: String] = ["csrf": page.formToken ?? ""]
        for name in ["name", "organisation", "role", "city", "country"] {
            if let r = page.body.range(of: "name=\"\(name)\" value=\"") {
                f[name] = String(page.body[r.upperBound...].prefix { $0 != "\"" })
            }
        }
        f["visibility"] = "public"
        f["email_shown"] = "yes"
        for (k, v) in changes { f[k] = v }
        return f.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    @Test func aMemberEditsTheirProfileAndEveryNodeShowsTheChange() async throws {
        try await with { fed, ids, browser in
            let zoe = browser()
            try await zoe.signIn(try fed.store("fr"), member: ids["zoe"]!)
            let page = try await zoe.get("/me")
            #expect(page.status == 200 && page.body.contains("Edit my profile") && page.body.contains("value=\"Zoë Martin\""))
            #expect(page.headers.first(name: "Cache-Control") == "no-store")
            let french = try await zoe.get("/me?lang=fr")
            #expect(french.body.contains("Modifier mon profil") && french.body.contains("Enregistrer mon profil"))
            _ = try await zoe.get("/me?lang=en")

            // A value the CLI refuses is refused with the same sentence, and nothing is written.
            let head = try await fed.store("fr").heads().first { $0.origin.rawValue == "fr" }!.seq
            let bad = try await zoe.post("/me", Self.form(page, ["country": "France"]))
            #expect(bad.status == 400 && bad.body.contains("country: must be a two-letter ISO country code such as FR"))
            #expect(try await fed.store("fr").heads().first { $0.origin.rawValue == "fr" }!.seq == head)
            _ = try await zoe.get("/?lang=fr")
            let badFR = try await zoe.post("/me", Self.form(page, ["country": "France"]))
            #expect(badFR.status == 400 && badFR.body.contains("doit être un code pays ISO de deux lettres comme FR"))
            _ = try await zoe.get("/?lang=en")

            let saved = try await zoe.post(
                "/me",
                Self.form(
                    page,
                    [
                        "city": "Marseille", "role": "Community lead", "bio": "Line one\r\n\r\nLine two",
                        "links": "https://zoe.example.fr\r\nhttps://social.example/@zoe", "email_shown": "",
                    ]))
            #expect(saved.status == 303 && saved.headers.first(name: "Location") == "/me?saved=1")
            #expect(try await zoe.get("/me?saved=1").body.contains("Your profile is saved."))

            // The change is an entry of fr that says the member made it, and reaches every node.
            #expect(try await fed.converge(["fr", "uk", "de"]))
            for c in ["fr", "uk", "de"] {
                let (status, html) = try await httpGet("http://127.0.0.1:\(fed.server(c)!.port("web")!)/members/\(ids["zoe"]!)")
                #expect(
                    status == 200 && html.contains("Marseille") && html.contains("Community lead") && html.contains("zoe.example.fr"),
                    "on \(c)")
                let r = try #require(try await fed.store(c).record(.member, id: ids["zoe"]!))
                #expect(r.values["email_visibility"] == "hidden" && r.values["bio"] == "Line one\n\nLine two", "on \(c)")
                let last = try #require(try await fed.store(c).history(.member, id: ids["zoe"]!).last)
                #expect(last.byMember && last.version.origin.rawValue == "fr", "on \(c)")
            }
            // Another signed-in member no longer sees the hidden email.
            let marc = browser()
            try await marc.signIn(try fed.store("fr"), member: ids["marc"]!)
            let seen = try await marc.get("/members/\(ids["zoe"]!)")
            #expect(seen.status == 200 && !seen.body.contains("zoe-q9x@example.fr"))
            #expect(try await zoe.get("/me/data").body.contains("zoe-q9x@example.fr"))
        }
    }

    @Test func aMemberCannotChangeAnotherMembersRecordByAnyRequest() async throws {
        try await with { fed, ids, browser in
            let zoe = browser()
            try await zoe.signIn(try fed.store("fr"), member: ids["zoe"]!)
            let marc = browser()
            try await marc.signIn(try fed.store("fr"), member: ids["marc"]!)
            let zoePage = try await zoe.get("/me")
            let marcPage = try await marc.get("/me")
            let before = try await fed.store("fr").heads()

            // An id in the form is no field of it.
            let swapped = try await zoe.post("/me", Self.form(zoePage, ["id": ids["marc"]!, "name": "Hacked"]))
            #expect(swapped.status == 400 && swapped.body.contains("unknown parameter"))
            // A field members do not set.
            let email = try await zoe.post("/me", Self.form(zoePage, ["email": "x@example.org"]))
            #expect(email.status == 400)
            // Marc's form token with Zoë's session, and no token at all.
            let forged = try await zoe.post("/me", Self.form(marcPage, ["name": "Hacked"]))
            #expect(forged.status == 403)
            let noToken = try await zoe.post("/me", Self.form(zoePage, ["name": "Hacked"]).filter { $0.0 != "csrf" })
            #expect(noToken.status == 403)
            // Another site posting with the member's cookie (a cross-site form), by each signal.
            let evil = try await zoe.post("/me", Self.form(zoePage, ["name": "Hacked"]), origin: .some("https://evil.example"))
            #expect(evil.status == 403 && evil.body.contains("not sent from your own profile page"))
            let referer = try await zoe.post(
                "/me", Self.form(zoePage, ["name": "Hacked"]), origin: .some(nil), headers: [("Referer", "https://evil.example/x")])
            #expect(referer.status == 403)
            let fetch = try await zoe.post(
                "/me", Self.form(zoePage, ["name": "Hacked"]), origin: .some(nil), headers: [("Sec-Fetch-Site", "cross-site")])
            #expect(fetch.status == 403)
            let eraseForged = try await zoe.post("/me/erase", [("confirm", "yes")], origin: .some("https://evil.example"))
            #expect(eraseForged.status == 403)
            // No session at all.
            let visitor = browser()
            #expect(try await visitor.post("/me", Self.form(zoePage, ["name": "Hacked"])).status == 403)
            #expect(try await visitor.get("/me").status == 403)

            // A uk member signed in on fr's node is sent to uk's node and cannot write here.
            let harry = browser()
            try await harry.signIn(try fed.store("fr"), member: ids["harry"]!)
            let elsewhere = try await harry.get("/me")
            let ukURL = "http://127.0.0.1:\(fed.server("uk")!.port("web")!)/me"
            #expect(
                elsewhere.status == 200 && elsewhere.body.contains("kept by the United Kingdom chapter") && elsewhere.body.contains(ukURL))
            let harryForm: [(String, String)] = [
                ("csrf", marcPage.formToken!), ("name", "Hacked"), ("visibility", "public"),
            ]
            #expect(try await harry.post("/me", harryForm).status == 403)
            #expect(try await harry.post("/me/erase", [("csrf", "x"), ("confirm", "yes")]).status == 403)

            // Nothing was written; the records are as they were.
            #expect(try await fed.store("fr").heads() == before)
            #expect(try await fed.store("fr").record(.member, id: ids["marc"]!)?.values["name"] == "Marc Petit")
            #expect(try await fed.store("fr").record(.member, id: ids["harry"]!)?.values["name"] == "Harry Jones")

            // The session cookie is HttpOnly and SameSite.
            let fresh = browser()
            let invite = try fed.store("fr").invite(member: ids["zoe"]!, lifetime: 60, random: SecretToken.random(32))
            let opened = try await fresh.post("/signin", [("token", invite.token)])
            let cookie = try #require(opened.headers["Set-Cookie"].first { $0.hasPrefix("aces_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"))
        }
    }

    @Test func myDataListsEveryFieldAndChangeAndDownloadsAsJSONAndVCard() async throws {
        try await with { fed, ids, browser in
            let id = ids["zoe"]!
            _ = try Editor(directory: fed.node("fr"), store: try fed.store("fr")).updateMember(id, ["organisation": "Agence Q9X"])
            let zoe = browser()
            try await zoe.signIn(try fed.store("fr"), member: id)
            let page = try await zoe.get("/me")
            #expect(try await zoe.post("/me", Self.form(page, ["city": "Nantes"])).status == 303)

            let data = try await zoe.get("/me/data")
            #expect(data.status == 200)
            for f in RecordKind.member.fields { #expect(data.body.contains("<code>\(f.name)</code>"), "field \(f.name)") }
            #expect(data.body.contains("Agence Q9X") && data.body.contains("Nantes") && data.body.contains("zoe-q9x@example.fr"))
            #expect(data.body.contains(">you<") && data.body.contains(">chapter admins<"))
            #expect(data.body.contains("United Kingdom") && data.body.contains("Germany"))
            #expect(data.body.contains("Session") && data.body.contains("Sign-in link"))
            #expect(try await zoe.get("/me/data?lang=fr").body.contains("Mes données"))

            let json = try await zoe.get("/me/data.json")
            #expect(json.status == 200 && json.headers.first(name: "Content-Type") == "application/json")
            #expect(json.headers.first(name: "Content-Disposition")?.hasPrefix("attachment") == true)
            let doc = try #require(json.json?.objectValue)
            let record = try #require(doc["record"]?.objectValue)
            #expect(Set(record.keys) == Set(RecordKind.member.fields.map(\.name)))
            #expect(record["city"] == "Nantes" && record["email"] == "zoe-q9x@example.fr")
            let history = try #require(doc["history"]?.arrayValue)
            #expect(history.count == 3)
            #expect(history.compactMap { $0.objectValue?["by"]?.stringValue } == ["admin", "admin", "member"])
            #expect(doc["held_by"]?.arrayValue?.count == 3 && (doc["sign_ins"]?.arrayValue?.count ?? 0) >= 2)

            let card = try await zoe.get("/me/data.vcf")
            #expect(card.status == 200 && card.headers.first(name: "Content-Type")?.hasPrefix("text/vcard") == true)
            let lines = card.body.replacingOccurrences(of: "\r\n ", with: "").components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == "BEGIN:VCARD" && lines.last == "END:VCARD")
            for l in lines { #expect(l.contains(":"), "not a content line: \(l.prefix(20))") }
            #expect(lines.contains("FN:Zoë Martin") && lines.contains { $0.hasPrefix("EMAIL") && $0.hasSuffix(":zoe-q9x@example.fr") })

            // Admins see the member's own edit, by the CLI's store read and the admin API.
            let token = try fed.store("fr").createAdminToken(label: "t", random: SecretToken.random(36)).token
            let (status, body) = try await httpGet(zoe.base + "/admin/v1/members/\(id)/history", token: token)
            #expect(status == 200 && body.contains("\"by\":\"member\""))
            #expect(try await zoe.get("/me/data.json").status == 200)
            #expect(try await browser().get("/me/data.json").status == 403)
        }
    }

    @Test func anErasureTheMemberAsksForLeavesNoByteOfThemOnAnyNode() async throws {
        try await with { fed, ids, browser in
            let id = ids["zoe"]!
            let zoe = browser()
            try await zoe.signIn(try fed.store("fr"), member: id)
            let page = try await zoe.get("/me")
            #expect(try await zoe.post("/me", Self.form(page, ["bio": "Secret bio q9x-7", "city": "Brest-q9x"])).status == 303)
            let confirm = try await zoe.get("/me/erase")
            #expect(confirm.status == 200 && confirm.body.contains("Erase my data"))
            // The second step needs the box ticked.
            let unticked = try await zoe.post("/me/erase", [("csrf", confirm.formToken!)])
            #expect(unticked.status == 400)
            #expect(try await fed.store("fr").record(.member, id: id)?.removed == false)
            let done = try await zoe.post("/me/erase", [("csrf", confirm.formToken!), ("confirm", "yes")])
            #expect(done.status == 200 && done.body.contains("Your data is erased") && zoe.cookies["aces_session"] == nil)

            #expect(try await fed.converge(["fr", "uk", "de"]))
            for c in ["fr", "uk", "de"] {
                let node = fed.node(c)
                let store = try node.openStore()
                #expect(try await store.record(.member, id: id)?.state.erased == true, "on \(c)")
                try await store.checkpoint()
                var bytes = Data()
                for suffix in ["", "-wal"] { bytes.append(FileManager.default.contents(atPath: node.databasePath + suffix) ?? Data()) }
                for secret in ["zoe-q9x@example.fr", "Zoë Martin", "Secret bio q9x-7", "Brest-q9x"] {
                    #expect(bytes.range(of: Data(secret.utf8)) == nil, "'\(secret)' is still in \(c)'s files")
                }
            }
        }
    }

    @Test func underReviewTheErasureWaitsForTheAdminsAndWritesAreRateLimited() async throws {
        try await with(
            ["fr", "uk"],
            configure: { fed in
                try fed.reconfigure("fr") { $0.directory = .init(memberErasure: "review", memberWritesPerMinute: 3) }
            }
        ) { fed, ids, browser in
            let id = ids["zoe"]!
            let zoe = browser()
            try await zoe.signIn(try fed.store("fr"), member: id)
            let confirm = try await zoe.get("/me/erase")
            let asked = try await zoe.post("/me/erase", [("csrf", confirm.formToken!), ("confirm", "yes")])
            #expect(asked.status == 303)
            #expect(try await zoe.get("/me/erase").body.contains("Your erasure request is with your chapter"))
            #expect(try await fed.store("fr").record(.member, id: id)?.removed == false)

            let token = try fed.store("fr").createAdminToken(label: "t", random: SecretToken.random(36)).token
            let (status, listed) = try await httpGet(zoe.base + "/admin/v1/erasure-requests", token: token)
            #expect(status == 200 && listed.contains(id) && listed.contains("pending"))

            // The budget is 3 writes a minute: the erasure request was one.
            let page = try await zoe.get("/me")
            #expect(try await zoe.post("/me", Self.form(page, ["city": "A"])).status == 303)
            #expect(try await zoe.post("/me", Self.form(page, ["city": "B"])).status == 303)
            let limited = try await zoe.post("/me", Self.form(page, ["city": "C"]))
            #expect(limited.status == 429 && limited.body.contains("at most 3 per minute"))
            #expect(try await fed.store("fr").record(.member, id: id)?.values["city"] == "B")
            // Reads of "my data" (a scan of the log) have a budget of their own.
            for _ in 0..<3 { #expect(try await zoe.get("/me/data").status == 200) }
            #expect(try await zoe.get("/me/data.json").status == 429)

            // The admin carries it out as `aces member erase` does; the request shows it.
            _ = try Editor(directory: fed.node("fr"), store: try fed.store("fr")).eraseMember(id, reason: "member request")
            #expect(try await fed.store("fr").erasureRequests(pendingOnly: false).first?.state == "erased")
            #expect(try await fed.store("fr").erasureRequests(pendingOnly: true).isEmpty)
        }
    }

    @Test func theDirectorySettingsAreChecked() throws {
        let base = "chapter = \"fr\"\n[[keys]]\nid = \"fr-1\"\npublic_key = \"x\"\nfile = \"k\"\nvalid_from = 0\n"
        let ok = try NodeConfig.parse(base + "[directory]\nmember_erasure = \"review\"\nmember_writes_per_minute = 5\n")
        #expect(ok.directory?.reviewsErasures == true && ok.directory?.writesPerMinute == 5)
        #expect(try NodeConfig.parse(base).directory?.writesPerMinute ?? 10 == 10)
        for (setting, why) in [
            ("member_erasure = \"later\"", "directory.member_erasure must be \"immediate\" or \"review\""),
            ("member_writes_per_minute = 0", "directory.member_writes_per_minute must be from 1 to 1000"),
            ("member_writes = 5", "unknown setting 'member_writes' in [directory]"),
        ] {
            do {
                _ = try NodeConfig.parse(base + "[directory]\n\(setting)\n")
                Issue.record("accepted \(setting)")
            } catch { #expect("\(error)".contains(why), "\(error)") }
        }
    }
}
