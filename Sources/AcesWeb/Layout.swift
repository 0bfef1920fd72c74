import AcesStore
import Foundation

/// The frame of every page: header with navigation, language switch and sign-in state, footer.
enum Layout {
    enum Section { case directory, calendar, other }

    static func page(_ req: PageRequest, title: String, section: Section, main: HTML) -> HTML {
        let t = req.t
        func nav(_ href: String, _ label: String, _ s: Section) -> HTML {
            s == section ? "<a href=\"\(href)\" aria-current=\"page\">\(label)</a>" : "<a href=\"\(href)\">\(label)</a>"
        }
        let account: HTML
        if case .member = req.viewer {
            account = """
                <a href="/me" class="me">\(req.language.profile.myProfile)</a>\
                <form method="post" action="/signout" class="signout"><span class="badge">\(t.signedIn)</span> \
                <button type="submit" class="link">\(t.signOut)</button></form>
                """
        } else {
            account = ""
        }
        let other = t.otherLanguage
        return """
            <!doctype html>
            <html lang="\(req.language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · \(t.siteName)</title>
            <link rel="stylesheet" href="/static/aces.css">
            <link rel="icon" href="/favicon.svg" type="image/svg+xml">
            <link rel="alternate" type="text/calendar" href="/events.ics" title="\(t.calendar)">
            </head>
            <body>
            <a class="skip" href="#main">\(t.skip)</a>
            <header class="site">
            <div class="wrap bar">
            <a class="brand" href="/"><span class="mark" aria-hidden="true">A</span><span class="brand-text"><strong>\(t.siteName)</strong><small>\(t.tagline)</small></span></a>
            <nav aria-label="\(t.siteName)">\(nav("/", t.directory, .directory))\(nav("/events", t.calendar, .calendar))</nav>
            <div class="tools">\(account)<a class="lang" href="\(req.link(["lang": other]))" hreflang="\(other)" lang="\(other)">\(t.otherLanguageName)</a></div>
            </div>
            </header>
            <main id="main" class="wrap">
            \(main)
            </main>
            <footer class="site"><div class="wrap">
            <p>\(t.footer(req.site.chapterName(req.site.chapter.rawValue, req.language)))</p>
            <p><a href="/api/v1/openapi.json">\(t.api)</a> · <a href="/events.ics">\(t.calendar) (.ics)</a> · \
            <a href="/federation">\(req.language == .fr ? "Santé de la fédération" : "Federation health")</a></p>
            </div></footer>
            </body>
            </html>

            """
    }

    /// Previous / next links and "Page 2 of 5"; nothing when everything fits on one page.
    static func pager(_ req: PageRequest, page: Int, of pages: Int) -> HTML {
        guard pages > 1 else { return "" }
        let t = req.t
        let prev: HTML =
            page > 1 ? "<a rel=\"prev\" href=\"\(req.link(["page": String(page - 1)]))\">← \(t.previous)</a>" : "<span></span>"
        let next: HTML =
            page < pages ? "<a rel=\"next\" href=\"\(req.link(["page": String(page + 1)]))\">\(t.next) →</a>" : "<span></span>"
        return "<nav class=\"pager\" aria-label=\"\(t.page(page, pages))\">\(prev)<span>\(t.page(page, pages))</span>\(next)</nav>"
    }

    /// A page that says what went wrong, in the visitor's language.
    static func error(_ req: PageRequest, _ e: WebError) -> HTML {
        let title = e.status == .notFound ? req.t.notFound : req.t.badRequest
        let text = e.status == .notFound ? req.t.notFoundText : e.sentence(req.language)
        return page(
            req, title: title, section: .other,
            main: """
                <section class="notice">
                <h1>\(title)</h1>
                <p>\(text)</p>
                <p><a href="/">\(req.t.backToDirectory)</a></p>
                </section>
                """)
    }
}
