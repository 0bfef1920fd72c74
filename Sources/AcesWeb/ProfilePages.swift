import AcesCore
import AcesStore
import Foundation

/// A signed-in member's own pages: `/me` (edit my profile), `/me/data` (my data) and
/// `/me/erase` (erase me). Every form carries the session's form token.
enum ProfilePages {
    /// The edit form, with the values to show (the record's, or what was just sent) and an error.
    static func edit(
        _ req: PageRequest, record r: Record, session: String, values: [String: String]? = nil, error: String? = nil, saved: Bool = false
    ) -> HTML {
        let t = req.t
        let p = req.language.profile
        let v = values ?? formValues(r)
        func text(_ name: String, _ label: String, max: Int, hint: String? = nil, required: Bool = false) -> HTML {
            let describe: HTML = hint.map { "<small id=\"\(name)-hint\">\($0)</small>" } ?? ""
            let aria: HTML = hint == nil ? "" : " aria-describedby=\"\(name)-hint\""
            let invalid: HTML = error?.hasPrefix(name + ":") == true ? " aria-invalid=\"true\"" : ""
            return """
                <div class="field"><label for="\(name)">\(label)\(required ? " *" : "")</label>\
                <input id="\(name)" name="\(name)" value="\(v[name] ?? "")" maxlength="\(max)"\(required ? " required" : "" as HTML)\(aria)\(invalid)>\(describe)</div>
                """
        }
        let visibility = v["visibility"] ?? "members"
        let choices: [HTML] = [("public", p.visibilityPublic), ("members", p.visibilityMembers), ("chapter", p.visibilityChapter)].map {
            value, label in
            "<label class=\"choice\"><input type=\"radio\" name=\"visibility\" value=\"\(value)\"\(value == visibility ? " checked" : "" as HTML)> \(label)</label>"
        }
        let shown = v["email_shown"] == "yes"
        let notice: HTML =
            if let error {
                "<div class=\"alert\" role=\"alert\"><strong>\(p.invalid):</strong> \(req.language.fieldError(error))</div>"
            } else if saved {
                "<div class=\"alert ok\" role=\"status\">\(p.saved)</div>"
            } else { "" }
        let main: HTML = """
            <p class="back"><a href="/members/\(r.id)">← \(r.values["name"]?.stringValue ?? t.backToDirectory)</a></p>
            <section class="panel">
            <h1>\(p.editProfile)</h1>
            <p class="lead">\(p.editIntro)</p>
            \(notice)
            <form class="profile-form" method="post" action="/me">
            <input type="hidden" name="csrf" value="\(Site.formToken(session: session))">
            <p class="hint">\(p.fieldsHint("*"))</p>
            <div class="grid">
            \(text("name", p.name, max: 200, required: true))
            \(text("organisation", t.organisation, max: 200))
            \(text("role", t.role, max: 200))
            \(text("city", t.city, max: 120))
            \(text("country", t.country, max: 2, hint: p.countryHint))
            </div>
            <div class="field"><label for="bio">\(p.bio)</label><textarea id="bio" name="bio" rows="6" aria-describedby="bio-hint">\(v["bio"] ?? "")</textarea><small id="bio-hint">\(p.bioHint)</small></div>
            <div class="field"><label for="links">\(t.links)</label><textarea id="links" name="links" rows="3" aria-describedby="links-hint">\(v["links"] ?? "")</textarea><small id="links-hint">\(p.linksHint)</small></div>
            <fieldset class="choices"><legend>\(p.visibility)</legend>\(choices)</fieldset>
            <div class="field check"><label class="choice"><input type="checkbox" name="email_shown" value="yes"\(shown ? " checked" : "" as HTML) aria-describedby="email-hint"> \(p.emailShown)</label><small id="email-hint">\(p.emailShownHint)</small></div>
            <div class="actions"><button type="submit">\(p.save)</button> <a href="/members/\(r.id)">\(t.backToDirectory)</a></div>
            </form>
            </section>
            <nav class="panel more" aria-label="\(p.myProfile)"><a href="/me/data">\(p.myData)</a> · <a href="/me/erase">\(p.eraseLink)</a></nav>
            """
        return Layout.page(req, title: p.editProfile, section: .other, main: main)
    }

    /// The record's values as the form shows them.
    static func formValues(_ r: Record) -> [String: String] {
        var out = [String: String]()
        for f in ["name", "organisation", "role", "city", "country", "bio", "visibility"] { out[f] = r.values[f]?.stringValue ?? "" }
        out["links"] = (r.values["links"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: "\n")
        out["email_shown"] = r.values["email_visibility"]?.stringValue == "hidden" ? "" : "yes"
        return out
    }

    /// The form's fields as values for the shared validation (`Editor.validated`): blank clears,
    /// links one per line, the email box as `email_visibility`. Unchanged `email_visibility` is left
    /// out, so a member who never touched it writes nothing for it.
    static func rawValues(_ form: [String: String], current r: Record) -> [String: JSONValue] {
        var raw = [String: JSONValue]()
        for f in ["name", "organisation", "role", "city", "country", "bio", "visibility"] {
            let s = (form[f] ?? "").replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            raw[f] = s.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? .null : .string(s)
        }
        let links = (form["links"] ?? "").split(whereSeparator: { $0.isWhitespace }).map { JSONValue.string(String($0)) }
        raw["links"] = links.isEmpty ? .null : .array(links)
        let hidden = form["email_shown"] != "yes"
        if hidden != (r.values["email_visibility"]?.stringValue == "hidden") { raw["email_visibility"] = hidden ? "hidden" : "members" }
        return raw
    }

    /// The page a member whose record another chapter's node keeps sees instead of a form.
    static func elsewhere(_ req: PageRequest, record r: Record) -> HTML {
        let p = req.language.profile
        let chapter = r.values["chapter"]?.stringValue
        let url = req.site.profile(chapter)?.publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        let link: HTML = url.map { "<p><a class=\"button\" href=\"\($0)/me\">\(p.openThere)</a></p>" } ?? ""
        return Layout.page(
            req, title: p.myProfile, section: .other,
            main: """
                <section class="notice">
                <h1>\(p.myProfile)</h1>
                <p>\(p.otherChapter(req.site.chapterName(chapter, req.language)))</p>
                \(link)
                </section>
                """)
    }

    /// "My data": every field, who holds it, every change, the sign-ins; downloads.
    static func data(_ req: PageRequest, _ d: MyData) -> HTML {
        let t = req.t
        let p = req.language.profile
        let fields: [HTML] = d.record.kind.fields.map { f in
            let value = d.record.values[f.name].map(displayValue) ?? p.noValue
            return "<tr><th scope=\"row\"><code>\(f.name)</code></th><td>\(value)</td></tr>"
        }
        let holders: [HTML] = d.holders.map { h in
            let state = h.isThisNode ? p.thisNode : h.holdsLatest ? p.holdsLatest : p.notKnown
            return
                "<li><strong>\(req.site.chapterName(h.chapter, req.language))</strong> <span class=\"muted\">(\(h.chapter))</span> — \(state)</li>"
        }
        let changes: [HTML] = d.history.map { c in
            let what: String =
                switch c.action {
                case "set": c.fields.filter { $0 != LogOperation.removedField }.joined(separator: ", ")
                default: c.action
                }
            return """
                <tr><td data-label="\(p.when)">\(when(c.millis, req.language))</td><td data-label="\(p.chapterCol)">\(req.site.chapterName(c.version.origin.rawValue, req.language)) <span class="muted">\(c.version.description)</span></td>\
                <td data-label="\(p.by)">\(c.byMember ? p.byMember : p.byAdmin)</td><td data-label="\(p.change)">\(what)</td></tr>
                """
        }
        let access: [HTML] = d.access.map { a in
            let live = a.revokedAt == nil && a.expiresAt > Date()
            return """
                <tr><td>\(a.kind == "session" ? p.session : p.link)</td><td data-label="\(p.created)">\(when(a.createdAt, req.language))</td>\
                <td data-label="\(p.expires)">\(when(a.expiresAt, req.language))</td><td>\(live ? p.live : p.ended)</td></tr>
                """
        }
        let main: HTML = """
            <p class="back"><a href="/me">← \(p.editProfile)</a></p>
            <h1>\(p.myData)</h1>
            <p class="lead">\(p.myDataIntro)</p>
            <p class="downloads"><a class="button" href="/me/data.json">\(p.downloadJSON)</a> <a class="button secondary" href="/me/data.vcf">\(p.downloadVCard)</a></p>
            <section class="panel"><h2>\(p.record)</h2>
            <div class="table-wrap"><table class="data"><thead><tr><th scope="col">\(p.field)</th><th scope="col">\(p.value)</th></tr></thead><tbody>\(fields)</tbody></table></div>
            </section>
            <section class="panel"><h2>\(p.holders)</h2><p class="hint">\(p.holdersIntro)</p><ul class="holders">\(holders)</ul></section>
            <section class="panel"><h2>\(p.history)</h2><p class="hint">\(p.historyIntro)</p>
            <div class="table-wrap"><table class="data"><thead><tr><th scope="col">\(p.when)</th><th scope="col">\(p.chapterCol)</th><th scope="col">\(p.by)</th><th scope="col">\(p.change)</th></tr></thead><tbody>\(changes)</tbody></table></div>
            </section>
            <section class="panel"><h2>\(p.access)</h2><p class="hint">\(p.accessIntro)</p>
            <div class="table-wrap"><table class="data"><thead><tr><th scope="col"></th><th scope="col">\(p.created)</th><th scope="col">\(p.expires)</th><th scope="col"></th></tr></thead><tbody>\(access)</tbody></table></div>
            </section>
            <p><a href="/me/erase">\(p.eraseLink)</a> · <a href="/">\(t.backToDirectory)</a></p>
            """
        return Layout.page(req, title: p.myData, section: .other, main: main)
    }

    /// "Erase me": the confirmation form, or the state of a request.
    static func erase(_ req: PageRequest, session: String?, request: ErasureRequest?, done: Bool = false) -> HTML {
        let p = req.language.profile
        let body: HTML
        if done {
            body = "<p role=\"status\">\(p.erased)</p><p><a href=\"/\">\(req.t.backToDirectory)</a></p>"
        } else if request?.state == "pending" {
            body = "<p role=\"status\" class=\"alert\">\(p.eraseQueued)</p><p><a href=\"/me\">\(p.editProfile)</a></p>"
        } else {
            let declined: HTML = request?.state == "declined" ? "<p class=\"alert\">\(p.eraseDeclined)</p>" : ""
            body = """
                \(declined)
                <p>\(p.eraseIntro)</p>
                <form method="post" action="/me/erase">
                <input type="hidden" name="csrf" value="\(session.map { Site.formToken(session: $0) } ?? "")">
                <div class="field check"><label class="choice"><input type="checkbox" name="confirm" value="yes" required> \(p.eraseConfirm)</label></div>
                <div class="actions"><button type="submit" class="danger">\(p.eraseButton)</button> <a href="/me">\(p.editProfile)</a></div>
                </form>
                """
        }
        return Layout.page(req, title: p.erase, section: .other, main: "<section class=\"notice\"><h1>\(p.erase)</h1>\(body)</section>")
    }

    static func displayValue(_ v: JSONValue) -> String {
        if case .array(let items) = v { return items.compactMap(\.stringValue).joined(separator: "\n") }
        return v.stringValue ?? String(decoding: CanonicalJSON.encode(v), as: UTF8.self)
    }

    static func when(_ millis: Int64, _ lang: Language) -> String { when(Date(timeIntervalSince1970: Double(millis) / 1000), lang) }

    static func when(_ date: Date, _ lang: Language) -> String {
        date.formatted(Date.FormatStyle(date: .abbreviated, time: .shortened, timeZone: TimeZone(identifier: "UTC")!).locale(lang.locale))
            + " UTC"
    }
}

/// Everything "my data" shows, gathered once for the page and the downloads.
struct MyData: Sendable {
    struct Holder: Sendable {
        let chapter: String
        let isThisNode: Bool
        let holdsLatest: Bool
    }
    let record: Record
    let holders: [Holder]
    let history: [RecordChange]
    let access: [AccessGrant]
    let erasure: ErasureRequest?

    static func gather(_ id: String, record: Record, site: Site) async throws -> MyData {
        let history = try await site.store.history(.member, id: id)
        let latest = history.last?.version
        let peers = try await site.store.peerStatuses()
        let holders: [Holder] = site.chapters.map { c in
            let isThis = c.id == site.chapter.rawValue
            let peer = peers.first { $0.chapter == c.id }
            let holds = latest.map { v in peer.map { ($0.heads[v.origin.rawValue] ?? 0) >= v.seq } ?? false } ?? false
            return Holder(chapter: c.id, isThisNode: isThis, holdsLatest: isThis || holds)
        }
        return MyData(
            record: record, holders: holders, history: history, access: try await site.store.access(of: id),
            erasure: try await site.store.erasureRequest(of: id))
    }

    var json: JSONValue {
        var fields = [String: JSONValue]()
        for f in record.kind.fields { fields[f.name] = record.values[f.name] ?? .null }
        return [
            "id": .string(record.id), "record": .object(fields),
            "held_by": .array(
                holders.map {
                    ["chapter": .string($0.chapter), "this_node": .bool($0.isThisNode), "holds_latest_change": .bool($0.holdsLatest)]
                }),
            "history": .array(history.map(\.json)), "sign_ins": .array(access.map { $0.json() }),
            "erasure_request": erasure?.json ?? .null,
        ]
    }
}
