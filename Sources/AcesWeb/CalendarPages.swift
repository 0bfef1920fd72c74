import AcesCore
import AcesStore
import Foundation

/// The calendar: upcoming events by month, and one page per event.
enum CalendarPages {
    static let pageSize = 30

    /// `/events?chapter=…&page=…`
    static func upcoming(_ req: PageRequest, now: Date) async throws -> HTML {
        let t = req.t
        let chapter = try req.params.chapter(req.site.chapters)
        let pageNumber = try req.params.int("page", in: 1...10_000, fallback: 1)
        let query = CalendarQuery(chapter: chapter?.chapter, from: now, limit: pageSize, offset: (pageNumber - 1) * pageSize)
        let result = try await req.site.store.calendar(query)
        let pages = max(1, (result.total + pageSize - 1) / pageSize)
        if pageNumber > pages && result.total > 0 { throw WebError.notFound }

        var months: [(String, String, [HTML])] = []
        for r in result.records {
            guard let clock = EventClock(r) else { continue }
            if months.last?.0 != clock.monthKey { months.append((clock.monthKey, clock.monthTitle(req.language), [])) }
            months[months.count - 1].2.append(item(r, clock, req))
        }
        let sections: [HTML] = months.map { key, title, items in
            "<section class=\"month\" aria-labelledby=\"m-\(key)\"><h2 id=\"m-\(key)\">\(title)</h2><ol class=\"events\">\(items)</ol></section>"
        }
        let chapterLinks: [HTML] =
            [chapter == nil ? "<a href=\"/events\" aria-current=\"true\">\(t.allChapters)</a>" : "<a href=\"/events\">\(t.allChapters)</a>"]
            + req.site.chapters.map { c in
                let name = req.site.chapterName(c.id, req.language)
                return c.id == chapter?.id
                    ? "<a href=\"/events?chapter=\(c.id)\" aria-current=\"true\">\(name)</a>"
                    : "<a href=\"/events?chapter=\(c.id)\">\(name)</a>"
            }
        let feedPath = chapter.map { "/chapters/\($0.id)/events.ics" } ?? "/events.ics"
        let feedURL = req.site.baseURL + feedPath
        let webcal = feedURL.replacingOccurrences(of: "https://", with: "webcal://").replacingOccurrences(of: "http://", with: "webcal://")
        let pager = Layout.pager(req, page: pageNumber, of: pages)
        let main: HTML = """
            <h1>\(t.upcoming)</h1>
            <nav class="filters" aria-label="\(t.chapter)">\(chapterLinks)</nav>
            \(sections.isEmpty ? "<p class=\"empty\">\(t.noEvents)</p>" as HTML : sections.joined())
            \(pager)
            <aside class="subscribe">
            <h2>\(t.subscribe)</h2>
            <p>\(t.subscribeHint)</p>
            <p><code>\(feedURL)</code></p>
            <p><a class="button" href="\(webcal)">\(t.subscribe)</a> <a href="\(feedPath)">.ics</a></p>
            </aside>
            """
        return Layout.page(req, title: t.calendar, section: .calendar, main: main)
    }

    static func item(_ r: Record, _ clock: EventClock, _ req: PageRequest) -> HTML {
        let t = req.t
        let cancelled = r.values["status"] == "cancelled"
        let title = r.values["title"]?.stringValue ?? r.id
        let badge: HTML = cancelled ? " <span class=\"badge cancelled\">\(t.cancelled)</span>" : ""
        let venue: HTML = r.values["venue"]?.stringValue.map { "<span>\($0)</span>" } ?? ""
        return """
            <li class="event\(cancelled ? " is-cancelled" : "")">
            <div class="date" aria-hidden="true"><span class="day">\(clock.format("d", clock.start, req.language))</span><span class="dow">\(clock.format("EEE", clock.start, req.language))</span></div>
            <div class="body">
            <h3><a href="/events/\(r.id)">\(title)</a>\(badge)</h3>
            <p class="meta"><time datetime="\(Instant.format(clock.start))">\(clock.when(req.language))</time></p>
            <p class="meta">\(venue)<span class="chip">\(req.site.chapterName(r.values["chapter"]?.stringValue, req.language))</span></p>
            </div>
            </li>
            """
    }

    /// `/events/ID`
    static func event(_ r: Record, _ req: PageRequest) -> HTML {
        let t = req.t
        let v = r.values
        let title = v["title"]?.stringValue ?? r.id
        let cancelled = v["status"] == "cancelled"
        var rows: [HTML] = []
        func row(_ label: String, _ value: HTML?) { if let value { rows.append("<dt>\(label)</dt><dd>\(value)</dd>") } }
        if let clock = EventClock(r) {
            row(t.when, "<time datetime=\"\(Instant.format(clock.start))\">\(clock.when(req.language))</time>")
        }
        row(t.venue, v["venue"]?.stringValue.map { "\($0)" })
        row(
            t.organisedBy,
            "<a href=\"/events?chapter=\(v["chapter"]?.stringValue ?? "")\">\(req.site.chapterName(v["chapter"]?.stringValue, req.language))</a>"
        )
        row(t.places, v["capacity"]?.intValue.map { "\($0)" })
        row(t.eventPage, v["url"]?.stringValue.map { "<a href=\"\($0)\" rel=\"nofollow noopener\">\(DirectoryPages.displayURL($0))</a>" })
        let badge: HTML = cancelled ? "<p class=\"badge cancelled\">\(t.cancelled)</p>" : ""
        let main: HTML = """
            <p class="back"><a href="/events">← \(t.backToCalendar)</a></p>
            <article class="event-page\(cancelled ? " is-cancelled" : "")">
            <header>\(badge)<h1>\(title)</h1></header>
            <dl class="facts">\(rows)</dl>
            \(v["description"]?.stringValue.map { HTML.paragraphs($0) } ?? "")
            <p><a class="button" href="/events/\(r.id).ics">\(t.addToCalendar)</a></p>
            </article>
            """
        return Layout.page(req, title: title, section: .calendar, main: main)
    }
}
