import AcesCore
import AcesFormats
import AcesStore
import Foundation
import Hummingbird
import NIOCore

/// The public listener's pages: directory, profiles, calendar, events, feeds, cards, sign-in.
enum WebRouter {
    static func add(to router: Router<BasicRequestContext>, site: Site, now: @escaping @Sendable () -> Date) {
        router.get("/") { request, _ -> Response in
            try await page(request, site) { req in try await DirectoryPages.search(req) }
        }
        router.get("/members/:file") { request, context -> Response in
            let file = context.parameters.get("file") ?? ""
            if file.hasSuffix(".vcf") {
                let req = try await PageRequest.lenient(request, site: site)
                let id = String(file.dropLast(4))
                guard RecordID.isValid(id), let r = try await site.store.member(id, as: req.viewer).record else {
                    return Response.page(Layout.error(req, .notFound), req, status: .notFound)
                }
                return .text(
                    VCard.render(Feeds.card(r, viewer: req.viewer, site: site)), type: "text/vcard; charset=utf-8", filename: "\(id).vcf")
            }
            return try await page(request, site) { req in
                guard RecordID.isValid(file) else { throw WebError.notFound }
                let found = try await site.store.member(file, as: req.viewer)
                if let survivor = found.mergedInto { throw Redirect(location: "/members/\(survivor)") }
                guard let r = found.record else { throw WebError.notFound }
                return DirectoryPages.profile(r, req)
            }
        }
        router.get("/events") { request, _ -> Response in
            try await page(request, site) { req in try await CalendarPages.upcoming(req, now: now()) }
        }
        router.get("/events.ics") { request, _ -> Response in
            let at = now()
            let body = try await site.feeds.feed("all", changes: try await site.store.changeCounter(), now: at) {
                let events = try await site.store.calendar(
                    CalendarQuery(from: at.addingTimeInterval(-Feeds.history), limit: Feeds.maxEvents))
                return Feeds.ics(events.records, name: "Aces", site: site)
            }
            return .text(body, type: "text/calendar; charset=utf-8", filename: "aces.ics")
        }
        router.get("/chapters/:chapter/events.ics") { request, context -> Response in
            guard let c = site.profile(context.parameters.get("chapter")), let id = c.chapter else {
                let req = try await PageRequest.lenient(request, site: site)
                return Response.page(Layout.error(req, .notFound), req, status: .notFound)
            }
            let at = now()
            let body = try await site.feeds.feed("chapter:\(c.id)", changes: try await site.store.changeCounter(), now: at) {
                let events = try await site.store.calendar(
                    CalendarQuery(chapter: id, from: at.addingTimeInterval(-Feeds.history), limit: Feeds.maxEvents))
                return Feeds.ics(events.records, name: "Aces \(c.name)", site: site)
            }
            return .text(body, type: "text/calendar; charset=utf-8", filename: "aces-\(c.id).ics")
        }
        router.get("/events/:file") { request, context -> Response in
            let file = context.parameters.get("file") ?? ""
            if file.hasSuffix(".ics") {
                let id = String(file.dropLast(4))
                guard RecordID.isValid(id), let r = try await site.store.record(.event, id: id), !r.removed else {
                    let req = try await PageRequest.lenient(request, site: site)
                    return Response.page(Layout.error(req, .notFound), req, status: .notFound)
                }
                return .text(
                    Feeds.ics([r], name: r.values["title"]?.stringValue ?? "Aces", site: site), type: "text/calendar; charset=utf-8",
                    filename: "\(id).ics")
            }
            return try await page(request, site) { req in
                guard RecordID.isValid(file), let r = try await site.store.record(.event, id: file), !r.removed else {
                    throw WebError.notFound
                }
                return CalendarPages.event(r, req)
            }
        }
        router.get("/static/aces.css") { _, _ -> Response in
            var headers: HTTPFields = [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"]
            headers.append(contentsOf: Response.securityHeaders)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: Stylesheet.css)))
        }
        router.get("/signin") { request, _ -> Response in
            try await page(request, site) { req in try await SignIn.confirm(req) }
        }
        router.post("/signin") { request, _ -> Response in
            try await SignIn.form(request, site: site, SignIn.open)
        }
        router.post("/signout") { request, _ -> Response in
            try await SignIn.form(request, site: site, SignIn.close)
        }
        ProfileRouter.add(to: router, site: site)
    }

    /// A thrown redirect (to a merged member's survivor).
    struct Redirect: Error { let location: String }

    /// Runs a page handler; its errors become a page in the visitor's language with the right status.
    static func page(_ request: Request, _ site: Site, _ body: (PageRequest) async throws -> HTML) async throws -> Response {
        let req: PageRequest
        do {
            req = try await PageRequest(request, site: site)
        } catch let e as WebError {
            let plain = try await PageRequest(request, site: site, ignoringQuery: true)
            return .page(Layout.error(plain, e), plain, status: e.status)
        }
        do {
            return .page(try await body(req), req)
        } catch let e as WebError {
            return .page(Layout.error(req, e), req, status: e.status)
        } catch let r as Redirect {
            return .redirect(r.location, status: .movedPermanently)
        }
    }
}
