import AcesCore
import AcesStore
import Foundation
import HTTPTypes
import Hummingbird

/// Signing in with a personal link: `GET /signin?token=…` shows a button (so link scanners in
/// mail systems do not open sessions), `POST /signin` opens a session cookie, `POST /signout` ends it.
enum SignIn {
    static func confirm(_ req: PageRequest) async throws -> HTML {
        let t = req.t
        guard let token = req.params["token"], let member = try await req.site.store.inviteHolder(token),
            let r = try await req.site.store.record(.member, id: member)
        else {
            throw WebError(status: .forbidden, description: t.badLink)
        }
        let chapter = req.site.chapterName(r.values["chapter"]?.stringValue, req.language)
        return Layout.page(
            req, title: t.signIn, section: .other,
            main: """
                <section class="notice">
                <h1>\(t.signIn)</h1>
                <p>\(t.signInText(chapter))</p>
                <form method="post" action="/signin">
                <input type="hidden" name="token" value="\(token)">
                <button type="submit">\(t.signInButton)</button>
                </form>
                </section>
                """)
    }

    static func open(_ request: Request, site: Site) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 4096)
        let form = try? Parameters(String(buffer: body))
        guard let token = form?["token"], let opened = try await site.store.signIn(with: token, random: SecretToken.random(32)) else {
            let req = try await PageRequest(request, site: site, ignoringQuery: true)
            return .page(Layout.error(req, WebError(status: .forbidden, description: req.t.badLink)), req, status: .forbidden)
        }
        var r = Response.redirect("/")
        r.setCookie(
            Cookie(
                name: Site.sessionCookie, value: opened.session, maxAge: Int(Store.sessionLifetime), path: "/", secure: site.secure,
                httpOnly: true, sameSite: .lax))
        return r
    }

    static func close(_ request: Request, site: Site) async throws -> Response {
        if let token = request.cookies[Site.sessionCookie]?.value { try await site.store.signOut(token) }
        var r = Response.redirect("/")
        r.setCookie(endedSession(site))
        return r
    }

    /// The cookie that ends a session in the browser.
    static func endedSession(_ site: Site) -> Cookie {
        Cookie(name: Site.sessionCookie, value: "", maxAge: 0, path: "/", secure: site.secure, httpOnly: true, sameSite: .lax)
    }

    /// Whether a form was posted from this node's own pages, so another site cannot sign a
    /// visitor in as someone else (login CSRF) or out (see docs/SECURITY.md). `Sec-Fetch-Site`,
    /// when sent, must be `same-origin` (or `none`: the person typed or bookmarked it); `Origin`,
    /// when sent, must be this node's public URL (`[web] url`) or the host the form was sent to;
    /// without `Origin`, so must `Referer` when sent. A client that sends none of them is no
    /// browser acting for another site, and is let through (members' own forms also need the
    /// session's form token).
    static func fromThisSite(_ request: Request, site: Site) -> Bool {
        if let fetch = request.headers[secFetchSite]?.lowercased(), fetch != "same-origin" && fetch != "none" { return false }
        guard let origin = request.headers[.origin] ?? request.headers[.referer] else { return true }
        guard let url = URL(string: origin), let host = url.host?.lowercased() else { return false }  // "null" too
        let authority = url.port.map { "\(host):\($0)" } ?? host
        let own = URL(string: site.baseURL)
        if own?.scheme == url.scheme?.lowercased() && own?.host?.lowercased() == host && own?.port == url.port { return true }
        return request.head.authority?.lowercased() == authority
    }

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// Runs `action` (`open` or `close`) for a form from this node's pages; refuses any other with 403.
    static func form(
        _ request: Request, site: Site, _ action: (Request, Site) async throws -> Response
    ) async throws -> Response {
        guard fromThisSite(request, site: site) else {
            let req = try await PageRequest(request, site: site, ignoringQuery: true)
            return .page(Layout.error(req, WebError(status: .forbidden, description: req.t.crossSite)), req, status: .forbidden)
        }
        return try await action(request, site)
    }
}
