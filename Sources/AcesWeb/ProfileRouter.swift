import AcesCore
import AcesFormats
import AcesStore
import AcesWorkflows
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `/me…`: a signed-in member's own profile, data and erasure (docs/DIRECTORY.md). Every write
/// needs the session cookie, the session's form token, a form sent from this node's own pages
/// (`Origin`, `Referer`, `Sec-Fetch-Site`) and room in the member's per-minute budget; it can
/// only ever name the signed-in member's own record, which no form field can change.
enum ProfileRouter {
    /// The largest form body read (a bio of 4,000 bytes and 10 links, percent-encoded).
    static let maxForm = 64 * 1024

    /// The signed-in member, their session's secret and their record.
    struct Member {
        let id: String
        let session: String
        let record: Record
    }

    static func add(to router: Router<BasicRequestContext>, site: Site) {
        router.get("/me") { request, _ -> Response in
            try await page(request, site) { req, m in
                guard Editor.editsHere(m.record, chapter: site.chapter) else {
                    return .page(ProfilePages.elsewhere(req, record: m.record), req)
                }
                return .page(ProfilePages.edit(req, record: m.record, session: m.session, saved: req.params["saved"] == "1"), req)
            }
        }
        router.post("/me") { request, _ -> Response in
            try await write(request, site) { req, m, form in
                try form.only(["csrf", "name", "organisation", "role", "city", "country", "bio", "links", "visibility", "email_shown"])
                let raw = ProfilePages.rawValues(form.values, current: m.record)
                do {
                    _ = try await WriteQueue.run { try site.editor.updateOwnProfile(m.id, raw) }
                } catch StoreError.invalid(let why) {
                    let html = ProfilePages.edit(req, record: m.record, session: m.session, values: form.values, error: why)
                    return .page(html, req, status: .badRequest)
                }
                return .redirect("/me?saved=1")
            }
        }
        router.get("/me/data") { request, _ -> Response in
            try await page(request, site) { req, m in
                guard site.memberWrites.allow("data:" + m.id) else { return tooMany(req, site) }
                return .page(ProfilePages.data(req, try await MyData.gather(m.id, record: m.record, site: site)), req)
            }
        }
        router.get("/me/data.json") { request, _ -> Response in
            try await page(request, site) { req, m in
                guard site.memberWrites.allow("data:" + m.id) else { return tooMany(req, site) }
                let d = try await MyData.gather(m.id, record: m.record, site: site)
                return download(CanonicalJSON.encode(d.json), type: "application/json", filename: "my-aces-data.json")
            }
        }
        router.get("/me/data.vcf") { request, _ -> Response in
            try await page(request, site) { _, m in
                let viewer = Viewer.member(id: m.id, chapter: site.chapter)
                let card = VCard.render(Feeds.card(m.record, viewer: viewer, site: site))
                return download(Array(card.utf8), type: "text/vcard; charset=utf-8", filename: "\(m.id).vcf")
            }
        }
        router.get("/me/erase") { request, _ -> Response in
            try await page(request, site) { req, m in
                guard Editor.editsHere(m.record, chapter: site.chapter) else {
                    return .page(ProfilePages.elsewhere(req, record: m.record), req)
                }
                return .page(ProfilePages.erase(req, session: m.session, request: try await site.store.erasureRequest(of: m.id)), req)
            }
        }
        router.post("/me/erase") { request, _ -> Response in
            try await write(request, site) { req, m, form in
                try form.only(["csrf", "confirm"])
                guard form["confirm"] == "yes" else {
                    return .page(ProfilePages.erase(req, session: m.session, request: nil), req, status: .badRequest)
                }
                let erased = try await WriteQueue.run { try site.editor.eraseOnRequest(m.id) }
                guard erased else { return .redirect("/me/erase") }
                var r = Response.page(ProfilePages.erase(req, session: nil, request: nil, done: true), req)
                r.setCookie(SignIn.endedSession(site))
                return r
            }
        }
    }

    /// The signed-in member of a request, or nil.
    static func member(_ request: Request, _ site: Site) async throws -> Member? {
        guard case .member(let id, _) = try await site.viewer(request), let session = request.cookies[Site.sessionCookie]?.value,
            let r = try await site.store.record(.member, id: id), !r.removed
        else { return nil }
        return Member(id: id, session: session, record: r)
    }

    /// Runs a page of the signed-in member; a visitor is asked to sign in (403).
    static func page(_ request: Request, _ site: Site, _ body: (PageRequest, Member) async throws -> Response) async throws -> Response {
        let req: PageRequest
        do { req = try await PageRequest(request, site: site) } catch let e as WebError {
            let plain = try await PageRequest(request, site: site, ignoringQuery: true)
            return .page(Layout.error(plain, e), plain, status: e.status)
        }
        guard let m = try await member(request, site) else { return refuse(req, req.language.profile.signInFirst) }
        var r = try await body(req, m)
        r.headers[.cacheControl] = "no-store"
        return r
    }

    /// Runs a form post of the signed-in member after every check a write needs.
    static func write(
        _ request: Request, _ site: Site, _ body: (PageRequest, Member, Parameters) async throws -> Response
    ) async throws -> Response {
        let req = try await PageRequest(request, site: site, ignoringQuery: true)
        let p = req.language.profile
        guard let m = try await member(request, site) else { return refuse(req, p.signInFirst) }
        var request = request
        let form: Parameters
        do {
            form = try Parameters(String(buffer: try await request.collectBody(upTo: maxForm)), maxLength: maxForm)
        } catch let e as WebError {
            return .page(Layout.error(req, e), req, status: e.status)
        } catch {
            return .page(Layout.error(req, .badRequest("the form is larger than 64 KiB")), req, status: .contentTooLarge)
        }
        guard SignIn.fromThisSite(request, site: site), Site.formTokenMatches(form["csrf"], session: m.session) else {
            return refuse(req, p.crossSite)
        }
        guard Editor.editsHere(m.record, chapter: site.chapter) else {
            return .page(ProfilePages.elsewhere(req, record: m.record), req, status: .forbidden)
        }
        guard site.memberWrites.allow(m.id) else { return tooMany(req, site) }
        do {
            return try await body(req, m, form)
        } catch let e as WebError {
            return .page(Layout.error(req, e), req, status: e.status)
        }
    }

    /// `429`: the member made more than `[directory] member_writes_per_minute` writes (or reads of
    /// "my data", which scan the log) in the last minute.
    static func tooMany(_ req: PageRequest, _ site: Site) -> Response {
        let n = site.memberWrites.perMinute
        let e = WebError(status: .tooManyRequests, description: ProfileStrings.english.tooMany(n), french: ProfileStrings.french.tooMany(n))
        var r = Response.page(Layout.error(req, e), req, status: .tooManyRequests)
        r.headers[.retryAfter] = "60"
        return r
    }

    static func refuse(_ req: PageRequest, _ sentence: String) -> Response {
        .page(Layout.error(req, WebError(status: .forbidden, description: sentence, french: sentence)), req, status: .forbidden)
    }

    /// Personal data to download: never cached, saved as a file.
    static func download(_ bytes: [UInt8], type: String, filename: String) -> Response {
        var headers: HTTPFields = [
            .contentType: type, .cacheControl: "no-store", .contentDisposition: "attachment; filename=\"\(filename)\"",
        ]
        headers.append(contentsOf: Response.securityHeaders)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
