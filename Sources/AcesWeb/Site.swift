import AcesCore
import AcesHTTP
import AcesNodeFiles
import AcesStore
import AcesWorkflows
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// What the public pages of one node share: its replica, its chapter and the roster.
struct Site: Sendable {
    let store: Store
    let chapter: ChapterID
    let chapters: [ChapterProfile]
    /// The public base URL, without a trailing slash (for feeds and links to copy).
    let baseURL: String
    /// Whether the public URL is HTTPS (cookies are then marked Secure).
    let secure: Bool
    /// Calendar feeds as last rendered.
    let feeds = FeedCache()
    /// The write path of members' own edits and erasures.
    let editor: Editor
    /// Members' profile writes per minute.
    let memberWrites: WriteLimiter

    init(store: Store, directory: NodeDirectory) throws {
        self.store = store
        self.editor = Editor(directory: directory, store: store)
        self.memberWrites = WriteLimiter(perMinute: directory.config.directory?.writesPerMinute ?? 10)
        self.chapter = directory.chapter
        self.chapters = try directory.roster()?.chapters ?? []
        let url = directory.config.web?.url ?? "http://localhost"
        self.baseURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        self.secure = url.hasPrefix("https://")
    }

    func profile(_ id: String?) -> ChapterProfile? { chapters.first { $0.id == id } }

    /// A chapter's name in a language: its country's name there, else the roster's name.
    func chapterName(_ id: String?, _ lang: Language) -> String {
        guard let p = profile(id) else { return id ?? "" }
        return lang == .en ? p.name : lang.country(p.country)
    }

    static let sessionCookie = "aces_session"
    static let languageCookie = "aces_lang"

    /// Who is asking: a signed-in member with a live session, whose record is still active, or a visitor.
    func viewer(_ request: Request) async throws -> Viewer {
        guard let token = request.cookies[Site.sessionCookie]?.value, !token.isEmpty else { return .visitor }
        guard let id = try await store.sessionMember(token), let r = try await store.record(.member, id: id), !r.removed,
            r.values["status"] == "active", let c = r.values["chapter"]?.stringValue.flatMap(ChapterID.init)
        else { return .visitor }
        return .member(id: id, chapter: c)
    }

    /// The token every form of a signed-in member's pages carries: a digest of the session's
    /// secret, so another site, which cannot read the HttpOnly cookie, cannot know it.
    static func formToken(session: String) -> String { Base64URL.encode(SecretToken.digest("aces-form:" + session)) }

    /// Whether a posted form token is the one of `session` (checked by the crypto library, in constant time).
    static func formTokenMatches(_ sent: String?, session: String) -> Bool {
        guard let sent, sent.utf8.count <= 64, let bytes = Base64URL.decode(sent), bytes.count == 32 else { return false }
        return SecretToken.matches("aces-form:" + session, digest: bytes)
    }
}

/// Everything a page needs to know about the request it answers.
struct PageRequest: Sendable {
    let site: Site
    let language: Language
    let viewer: Viewer
    let params: Parameters
    let path: String
    /// Set when `?lang=` chose the language, so the choice is remembered.
    let rememberLanguage: Bool

    var t: Strings { language.strings }

    init(_ request: Request, site: Site, ignoringQuery: Bool = false) async throws {
        self.site = site
        self.path = request.uri.path
        self.params = ignoringQuery ? try Parameters(nil) : try Parameters(request.uri.query)
        let asked = params["lang"].flatMap(Language.init(rawValue:))
        self.language = Language.choose(
            query: asked?.rawValue, cookie: request.cookies[Site.languageCookie]?.value,
            acceptLanguage: request.headers[.acceptLanguage])
        self.rememberLanguage = asked != nil
        self.viewer = try await site.viewer(request)
    }

    /// The request's context for an error page: its query is ignored if it cannot be read.
    static func lenient(_ request: Request, site: Site) async throws -> PageRequest {
        do { return try await PageRequest(request, site: site) } catch is WebError {
            return try await PageRequest(request, site: site, ignoringQuery: true)
        }
    }

    /// This page's URL with some parameters replaced (nil removes one).
    func link(_ changes: [String: String?]) -> String {
        var pairs = params.values.filter { changes[$0.key] == nil && $0.key != "lang" }
        for (k, v) in changes { if let v { pairs[k] = v } }
        let q = Parameters.encode(pairs.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return q.isEmpty ? path : path + "?" + q
    }
}

extension Response {
    /// A complete HTML page.
    static func page(_ html: HTML, _ req: PageRequest, status: HTTPResponse.Status = .ok) -> Response {
        var headers: HTTPFields = [
            .contentType: "text/html; charset=utf-8",
            .contentLanguage: req.language.rawValue,
            .cacheControl: "private, no-cache",
            .vary: "Cookie, Accept-Language",
        ]
        headers.append(contentsOf: Response.securityHeaders)
        var r = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html.text)))
        if req.rememberLanguage {
            r.setCookie(
                Cookie(
                    name: Site.languageCookie, value: req.language.rawValue, maxAge: 365 * 86400, path: "/", secure: req.site.secure,
                    httpOnly: true, sameSite: .lax))
        }
        return r
    }

    /// Text in a given media type, for feeds and cards. Its entity tag is a digest of the text, so
    /// a client that has it gets `304` (see `ConformingResponder`) until the text changes.
    static func text(_ text: String, type: String, filename: String? = nil) -> Response {
        .text(RenderedText(text), type: type, filename: filename)
    }

    /// `text(_:type:filename:)` for a text whose bytes and tag were made once (a cached feed).
    static func text(_ rendered: RenderedText, type: String, filename: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: type, .cacheControl: "private, max-age=300", .vary: "Cookie", .eTag: rendered.tag]
        if let filename { headers[.contentDisposition] = "inline; filename=\"\(filename)\"" }
        headers.append(contentsOf: Response.securityHeaders)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: rendered.bytes))
    }

    /// A redirect after a form (303) or to a moved record (301).
    static func redirect(_ location: String, status: HTTPResponse.Status = .seeOther) -> Response {
        Response(status: status, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// A text answer's bytes and entity tag (a digest of the text), made once.
struct RenderedText: Sendable {
    let bytes: ByteBuffer
    let tag: String

    init(_ text: String) {
        bytes = ByteBuffer(string: text)
        tag = HTTPConformance.entityTag(text)
    }
}
