import AcesCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A listener's router with what HTTP clients expect of every answer (RFC 9110), whatever the
/// route: `HEAD` wherever `GET` is answered, `405` with `Allow` for a
/// known address asked with another method (an unknown address stays `404`), `304` when a
/// conditional `GET` names the current `ETag`, `nosniff` and the Content-Security-Policy on
/// every answer (errors included), and `Cache-Control: private` with `Vary: Cookie` on every
/// answer that does not say it may be shared, since what a page or the API shows depends on who
/// is signed in.
public struct ConformingRouter<Context: RequestContext>: HTTPResponderBuilder {
    let router: Router<Context>
    /// Whether refusals are `{"error": …}` on every path (the federation listener), or only under `/api/`.
    var jsonEverywhere = false

    public init(router: Router<Context>, jsonEverywhere: Bool = false) {
        self.router = router
        self.jsonEverywhere = jsonEverywhere
    }

    public func buildResponder() -> ConformingResponder<Context> {
        var table = [(path: RouterPath, methods: Set<HTTPRequest.Method>)]()
        for route in router.routes {
            if let i = table.firstIndex(where: { $0.path.description == route.path.description }) {
                table[i].methods.insert(route.method)
            } else {
                table.append((route.path, [route.method]))
            }
        }
        return ConformingResponder(inner: router.buildResponder(), routes: table, jsonEverywhere: jsonEverywhere)
    }
}

public struct ConformingResponder<Context: RequestContext>: HTTPResponder {
    let inner: RouterResponder<Context>
    let routes: [(path: RouterPath, methods: Set<HTTPRequest.Method>)]
    let jsonEverywhere: Bool

    public func respond(to request: Request, context: Context) async throws -> Response {
        var response: Response
        do {
            // HEAD is answered as GET, without the body (below).
            var routed = request
            if request.method == .head {
                var head = request.head
                head.method = .get
                routed = Request(head: head, body: request.body)
            }
            response = try await inner.respond(to: routed, context: context)
        } catch {
            // The router turned every HTTP error into an answer already: this is a fault of ours
            // (or the node stopping). Only the error's type is logged: it may quote a record.
            if !(error is CancellationError) {
                context.logger.error("request failed", metadata: ["error.type": .string(String(reflecting: type(of: error)))])
            }
            response = refusal(request, .internalServerError, "The node could not answer this request; try again later.")
        }
        // No route answers OPTIONS itself, so a 404 to it at a known address is the router's.
        if response.status == .notFound, let allowed = allowedMethods(request.uri.path),
            request.method == .options || !allowed.contains(request.method)
        {
            let list = allowed.map(\.rawValue).sorted().joined(separator: ", ")
            if request.method == .options {
                response = Response(status: .noContent)
            } else {
                response = refusal(request, .methodNotAllowed, "This address answers \(list), not \(request.method.rawValue).")
            }
            response.headers[.allow] = list
        }
        if response.status == .ok, request.method == .get || request.method == .head, let tag = response.headers[.eTag],
            let asked = request.headers[.ifNoneMatch], HTTPConformance.matches(asked, tag)
        {
            var headers = response.headers
            headers[.contentLength] = nil
            headers[.contentType] = nil
            headers[.contentDisposition] = nil
            response = Response(status: .notModified, headers: headers)
        }
        // An answer to HEAD has no body (NIO refuses to write one). A streamed body's length is
        // unknown: an empty stream keeps Hummingbird from claiming `Content-Length: 0`.
        if request.method == .head {
            let streamed = response.body.contentLength == nil
            response = Response(
                status: response.status, headers: response.headers,
                body: streamed ? ResponseBody { writer in try await writer.finish(nil) } : ResponseBody())
        }
        HTTPConformance.complete(&response.headers)
        return response
    }

    /// The methods a known address answers (with `HEAD` wherever `GET` is, and `OPTIONS`), or nil for an unknown address.
    func allowedMethods(_ path: String) -> Set<HTTPRequest.Method>? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var methods = Set<HTTPRequest.Method>()
        for route in routes where route.path.components.count == parts.count {
            if zip(route.path.components, parts).allSatisfy({ $0 ~= $1 }) { methods.formUnion(route.methods) }
        }
        guard !methods.isEmpty else { return nil }
        if methods.contains(.get) { methods.insert(.head) }
        methods.insert(.options)
        return methods
    }

    func refusal(_ request: Request, _ status: HTTPResponse.Status, _ sentence: String) -> Response {
        if jsonEverywhere || request.uri.path.hasPrefix("/api/") { return HTTPAnswer.problem(status, sentence) }
        return HTTPAnswer.plain(sentence + "\n", status: status)
    }
}

public enum HTTPConformance {
    /// A strong entity tag for a body: the same bytes, the same tag, so two viewers who are shown
    /// different content (a member sees emails on a card) get different tags.
    public static func entityTag(_ body: String) -> String {
        "\"" + String(Digest32.sha256(Array(body.utf8)).hex.prefix(32)) + "\""
    }

    /// Whether an `If-None-Match` value names `tag` (weak comparison, RFC 9110 §13.1.2).
    static func matches(_ ifNoneMatch: String, _ tag: String) -> Bool {
        func opaque(_ t: Substring) -> Substring {
            let t = t.trimmingCharacters(in: .whitespaces)[...]
            return t.hasPrefix("W/") ? t.dropFirst(2) : t
        }
        if ifNoneMatch.trimmingCharacters(in: .whitespaces) == "*" { return true }
        return ifNoneMatch.split(separator: ",").contains { opaque($0) == opaque(tag[...]) }
    }

    /// Adds the headers every answer carries, unless the handler chose its own.
    static func complete(_ headers: inout HTTPFields) {
        for field in Response.securityHeaders where headers[field.name] == nil { headers.append(field) }
        guard let cache = headers[.cacheControl] else {
            headers[.cacheControl] = "private, no-cache"
            headers[.vary] = varying(headers[.vary])
            return
        }
        if !cache.contains("public") { headers[.vary] = varying(headers[.vary]) }
    }

    /// A `Vary` value that includes `Cookie`.
    static func varying(_ vary: String?) -> String {
        guard let vary, !vary.isEmpty else { return "Cookie" }
        let names = vary.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        return names.contains("cookie") || names.contains("*") ? vary : vary + ", Cookie"
    }
}
