import AcesCore
import AcesStore
import Foundation

/// The member directory: the search page (the node's root) and one page per member.
enum DirectoryPages {
    static let pageSize = 24

    /// `/?q=…&chapter=…&country=…&page=…`
    static func search(_ req: PageRequest) async throws -> HTML {
        let t = req.t
        let q = try req.params.text("q", max: 200)
        let chapter = try req.params.chapter(req.site.chapters)
        let country = try req.params.country()
        let pageNumber = try req.params.int("page", in: 1...10_000, fallback: 1)
        let query = DirectoryQuery(
            viewer: req.viewer, text: q, chapter: chapter?.chapter, country: country, limit: pageSize,
            offset: (pageNumber - 1) * pageSize)
        let result = try await req.site.store.directory(query)
        let countries = try await req.site.store.directoryCountries(as: req.viewer)
        let pages = max(1, (result.total + pageSize - 1) / pageSize)
        if pageNumber > pages && result.total > 0 { throw WebError.notFound }

        let chapterOptions: [HTML] = req.site.chapters.map { c in
            let name = req.site.chapterName(c.id, req.language)
            return c.id == chapter?.id
                ? "<option value=\"\(c.id)\" selected>\(name)</option>" : "<option value=\"\(c.id)\">\(name)</option>"
        }
        let countryOptions: [HTML] = countries.map { code in
            let name = req.language.country(code)
            return code == country ? "<option value=\"\(code)\" selected>\(name)</option>" : "<option value=\"\(code)\">\(name)</option>"
        }
        let cards: [HTML] = result.records.map { card($0, req) }
        let list: HTML =
            cards.isEmpty
            ? "<p class=\"empty\">\(t.noMembers)</p>"
            : "<ul class=\"cards\">\(cards)</ul>"
        let pager = Layout.pager(req, page: pageNumber, of: pages)
        let hint: HTML = req.viewer == .visitor ? "<p class=\"hint\">\(t.signInHint)</p>" : ""
        let main: HTML = """
            <h1>\(t.directory)</h1>
            <form class="search" method="get" action="/" role="search">
            <fieldset>
            <legend class="visually-hidden">\(t.searchLegend)</legend>
            <div class="field grow">
            <label for="q">\(t.searchLabel)</label>
            <input id="q" name="q" type="search" value="\(q ?? "")" maxlength="200" autocomplete="off" aria-describedby="q-hint">
            <small id="q-hint">\(t.searchHint)</small>
            </div>
            <div class="field">
            <label for="chapter">\(t.chapter)</label>
            <select id="chapter" name="chapter"><option value="">\(t.allChapters)</option>\(chapterOptions)</select>
            </div>
            <div class="field">
            <label for="country">\(t.country)</label>
            <select id="country" name="country"><option value="">\(t.allCountries)</option>\(countryOptions)</select>
            </div>
            <div class="actions"><button type="submit">\(t.search)</button> <a href="/">\(t.clear)</a></div>
            </fieldset>
            </form>
            \(hint)
            <p class="count" role="status">\(result.totalIsExact ? t.members(result.total) : t.manyMembers)</p>
            \(list)
            \(pager)
            """
        return Layout.page(req, title: q.map { "\($0) · \(t.directory)" } ?? t.directory, section: .directory, main: main)
    }

    static func card(_ r: Record, _ req: PageRequest) -> HTML {
        let v = r.values
        let line = [v["role"]?.stringValue, v["organisation"]?.stringValue].compactMap { $0 }.joined(separator: " · ")
        let place = [v["city"]?.stringValue, v["country"]?.stringValue.map(req.language.country)].compactMap { $0 }.joined(separator: ", ")
        let name = v["name"]?.stringValue ?? r.id
        return """
            <li class="card">
            <h2><a href="/members/\(r.id)">\(name)</a></h2>
            \(line.isEmpty ? "" : "<p class=\"role\">\(line)</p>" as HTML)
            <p class="meta">\(place.isEmpty ? "" : "<span>\(place)</span>" as HTML)<span class="chip">\(req.site.chapterName(v["chapter"]?.stringValue, req.language))</span></p>
            </li>
            """
    }

    /// `/members/ID`
    static func profile(_ r: Record, _ req: PageRequest) -> HTML {
        let t = req.t
        let v = r.values
        let name = v["name"]?.stringValue ?? r.id
        var rows: [HTML] = []
        func row(_ label: String, _ value: HTML?) { if let value { rows.append("<dt>\(label)</dt><dd>\(value)</dd>") } }
        row(t.role, v["role"]?.stringValue.map { "\($0)" })
        row(t.organisation, v["organisation"]?.stringValue.map { "\($0)" })
        let place = [v["city"]?.stringValue, v["country"]?.stringValue.map(req.language.country)].compactMap { $0 }.joined(separator: ", ")
        row(t.city, place.isEmpty ? nil : "\(place)")
        row(
            t.chapter,
            "<a href=\"/?chapter=\(v["chapter"]?.stringValue ?? "")\">\(req.site.chapterName(v["chapter"]?.stringValue, req.language))</a>")
        if Feeds.showsEmail(r, to: req.viewer), let email = v["email"]?.stringValue {
            row(t.email, "<a href=\"mailto:\(email)\">\(email)</a>")
        }
        let links: [HTML] = (v["links"]?.arrayValue ?? []).compactMap(\.stringValue).map { url in
            "<li><a href=\"\(url)\" rel=\"nofollow ugc noopener\">\(displayURL(url))</a></li>"
        }
        if !links.isEmpty { row(t.links, "<ul class=\"links\">\(links)</ul>") }
        let note: HTML =
            switch v["visibility"]?.stringValue {
            case "members": "<p class=\"scope\">\(t.visibleToMembers)</p>"
            case "chapter": "<p class=\"scope\">\(t.visibleToChapter)</p>"
            default: ""
            }
        let bio: HTML = v["bio"]?.stringValue.map { "<section class=\"bio\"><h2>\(t.about)</h2>\(HTML.paragraphs($0))</section>" } ?? ""
        let main: HTML = """
            <p class="back"><a href="/">← \(t.backToDirectory)</a></p>
            <article class="profile">
            <header><h1>\(name)</h1>\(note)</header>
            <dl class="facts">\(rows)</dl>
            \(bio)
            <p><a class="button" href="/members/\(r.id).vcf">\(t.downloadCard)</a></p>
            </article>
            """
        return Layout.page(req, title: name, section: .directory, main: main)
    }

    /// A URL as people read it: without the scheme and a trailing slash.
    static func displayURL(_ url: String) -> String {
        var s = url
        for p in ["https://", "http://"] where s.hasPrefix(p) { s.removeFirst(p.count) }
        if s.hasSuffix("/") { s.removeLast() }
        return s.count > 60 ? String(s.prefix(57)) + "…" : s
    }
}
