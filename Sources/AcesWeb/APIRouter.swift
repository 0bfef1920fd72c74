import AcesCore
import AcesFederation
import AcesHTTP
import AcesStore
import Foundation
import Hummingbird
import NIOCore

/// `/api/v1/…`: the directory and calendar as JSON, under the same visibility rules as the pages.
/// Described by `/api/v1/openapi.json` (see `OpenAPIDocument`).
enum APIRouter {
    static func add(to router: Router<BasicRequestContext>, site: Site, now: @escaping @Sendable () -> Date) {
        router.get("/api/v1/members") { request, _ -> Response in
            try await api {
                let p = try Parameters(request.uri.query)
                try p.only(["q", "chapter", "country", "limit", "cursor"])
                let query = DirectoryQuery(
                    viewer: try await site.viewer(request), text: try p.text("q", max: 200), chapter: try p.chapter(site.chapters)?.chapter,
                    country: try p.country(), limit: try p.int("limit", in: 1...100, fallback: 20), after: try cursor(p))
                let page = try await site.store.directory(query)
                return listing(page.records.map { member($0, viewer: query.viewer, site: site) }, page)
            }
        }
        router.get("/api/v1/members/:id") { request, context -> Response in
            try await api {
                try Parameters(request.uri.query).only([])
                let id = context.parameters.get("id") ?? ""
                let viewer = try await site.viewer(request)
                guard RecordID.isValid(id), let r = try await site.store.member(id, as: viewer).record else { throw WebError.notFound }
                return .json(member(r, viewer: viewer, site: site))
            }
        }
        router.get("/api/v1/events") { request, _ -> Response in
            try await api {
                let p = try Parameters(request.uri.query)
                try p.only(["chapter", "from", "to", "include_cancelled", "limit", "cursor"])
                var cancelled = true
                if let c = p["include_cancelled"] {
                    guard c == "true" || c == "false" else { throw WebError.badRequest("'include_cancelled' must be true or false") }
                    cancelled = c == "true"
                }
                let query = CalendarQuery(
                    chapter: try p.chapter(site.chapters)?.chapter, from: try instant(p, "from") ?? now(), until: try instant(p, "to"),
                    includeCancelled: cancelled, limit: try p.int("limit", in: 1...100, fallback: 20), after: try cursor(p))
                let page = try await site.store.calendar(query)
                return listing(page.records.map { event($0, site: site) }, page)
            }
        }
        router.get("/api/v1/events/:id") { request, context -> Response in
            try await api {
                try Parameters(request.uri.query).only([])
                let id = context.parameters.get("id") ?? ""
                guard RecordID.isValid(id), let r = try await site.store.record(.event, id: id), !r.removed else { throw WebError.notFound }
                return .json(event(r, site: site))
            }
        }
        router.get("/api/v1/chapters") { _, _ -> Response in
            HTTPAnswer.json(
                [
                    "items": .array(
                        site.chapters.map {
                            [
                                "id": .string($0.id), "name": .string($0.name), "country": .string($0.country),
                                "timezone": .string($0.timezone),
                            ]
                        })
                ])
        }
        router.get("/api/v1/openapi.json") { _, _ -> Response in
            HTTPAnswer.json(OpenAPIDocument.document(serverURL: site.baseURL))
        }
    }

    /// What an API handler returns.
    enum Answer {
        case json(JSONValue)
        case status(HTTPResponse.Status, JSONValue?)
    }

    /// Runs an API handler; its errors become `{"error": "…"}` with the matching 4xx status.
    static func api(_ body: () async throws -> Answer) async throws -> Response {
        do {
            switch try await body() {
            case .json(let v): return HTTPAnswer.json(v)
            case .status(let s, let v):
                guard let v else { return Response(status: s) }
                var r = HTTPAnswer.json(v)
                r.status = s
                return r
            }
        } catch let e as WebError {
            return error(e.status, e.description)
        } catch let e as StoreError {
            guard let status = status(of: e) else { throw e }
            return error(status, e.description)
        }
    }

    /// The HTTP status of a store error, by its case; nil for a failure of the node itself
    /// (a damaged file, an SQLite error), which is not the client's to fix.
    static func status(of e: StoreError) -> HTTPResponse.Status? {
        switch e {
        case .notFound: .notFound
        case .invalid: .badRequest
        case .duplicateEmail, .alreadyErased, .erased, .frozen, .tooManyHeads: .conflict
        case .notOwner: .forbidden
        case .restoreLocked, .busy: .serviceUnavailable
        case .notAReplica, .sqlite, .purgeIncomplete: nil
        }
    }

    static func error(_ status: HTTPResponse.Status, _ sentence: String) -> Response {
        var r = HTTPAnswer.json(["error": .string(sentence)])
        r.status = status
        if status == .unauthorized { r.headers[.wwwAuthenticate] = "Bearer realm=\"aces-admin\"" }
        return r
    }

    static func cursor(_ p: Parameters) throws(WebError) -> DirectoryCursor? {
        guard let c = p["cursor"], !c.isEmpty else { return nil }
        guard let cursor = DirectoryCursor(token: c) else { throw .badRequest("'cursor' is not a cursor this API returned") }
        return cursor
    }

    /// `from`/`to`: an instant (`2027-03-01T00:00:00Z`) or a day (`2027-03-01`, midnight UTC).
    static func instant(_ p: Parameters, _ name: String) throws(WebError) -> Date? {
        guard let v = p[name], !v.isEmpty else { return nil }
        if let d = Instant.parse(v) ?? Instant.parse(v + "T00:00:00Z") { return d }
        throw .badRequest("'\(name)' must be a day like 2027-03-01 or an instant like 2027-03-01T09:00:00Z")
    }

    static func listing(_ items: [JSONValue], _ page: ListingPage) -> Answer {
        .json([
            "items": .array(items), "total": .number(Double(page.total)), "total_is_exact": .bool(page.totalIsExact),
            "next_cursor": page.next.map { .string($0.token) } ?? .null,
        ])
    }

    /// A member as the API shows it to `viewer`: the email only to signed-in members, unless hidden.
    static func member(_ r: Record, viewer: Viewer, site: Site) -> JSONValue {
        var o: [String: JSONValue] = ["id": .string(r.id)]
        for f in ["chapter", "name", "organisation", "role", "city", "country", "bio"] { o[f] = r.values[f] ?? .null }
        o["links"] = r.values["links"] ?? .array([])
        if Feeds.showsEmail(r, to: viewer) { o["email"] = r.values["email"] ?? .null }
        o["profile_url"] = .string("\(site.baseURL)/members/\(r.id)")
        o["vcard_url"] = .string("\(site.baseURL)/members/\(r.id).vcf")
        return .object(o)
    }

    static func event(_ r: Record, site: Site) -> JSONValue {
        var o: [String: JSONValue] = ["id": .string(r.id)]
        for f in ["chapter", "title", "description", "start", "end", "timezone", "venue", "url", "capacity", "status"] {
            o[f] = r.values[f] ?? .null
        }
        if let clock = EventClock(r) {
            o["local_start"] = .string(clock.format("yyyy-MM-dd'T'HH:mm", clock.start, .en))
            o["local_end"] = .string(clock.format("yyyy-MM-dd'T'HH:mm", clock.end, .en))
            o["zone_abbreviation"] = .string(clock.zoneName)
        }
        o["sequence"] = .number(Double(max(0, r.revision - 1)))
        o["page_url"] = .string("\(site.baseURL)/events/\(r.id)")
        o["ics_url"] = .string("\(site.baseURL)/events/\(r.id).ics")
        return .object(o)
    }
}
