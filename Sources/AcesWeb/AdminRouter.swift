import AcesCore
import AcesFederation
import AcesHTTP
import AcesStore
import AcesWorkflows
import Foundation
import Hummingbird
import NIOCore

/// `/admin/v1/…`: a chapter admin's writes over HTTP, with a bearer token from
/// `aces admin token create`. Every write goes through `Editor`, the CLI's own path, so each
/// becomes a signed entry.
enum AdminRouter {
    /// The largest request body the admin API reads.
    static let maxBody = 64 * 1024

    static func add(to router: Router<BasicRequestContext>, site: Site, editor: Editor) {
        for kind in RecordKind.allCases {
            let base = "/admin/v1/\(kind.rawValue)s"
            router.post(RouterPath(base)) { request, _ -> Response in
                try await admin(request, site) {
                    let body = try await object(request)
                    let r = try await WriteQueue.run { kind == .member ? try editor.addMember(body) : try editor.addEvent(body) }
                    var res = HTTPAnswer.json(full(r), status: .created)
                    res.headers[.location] = "\(base)/\(r.id)"
                    return res
                }
            }
            router.get(RouterPath(base + "/:id")) { request, context -> Response in
                try await admin(request, site) {
                    let id = try recordID(context)
                    guard let r = try await site.store.record(kind, id: id), !r.removed else { throw StoreError.notFound(kind, id) }
                    return HTTPAnswer.json(full(r))
                }
            }
            router.patch(RouterPath(base + "/:id")) { request, context -> Response in
                try await admin(request, site) {
                    let id = try recordID(context)
                    let body = try await object(request)
                    let r = try await WriteQueue.run {
                        kind == .member ? try editor.updateMember(id, body) : try editor.updateEvent(id, body)
                    }
                    return HTTPAnswer.json(full(r))
                }
            }
            router.delete(RouterPath(base + "/:id")) { request, context -> Response in
                try await admin(request, site) {
                    let id = try recordID(context)
                    try await WriteQueue.run { try editor.remove(kind, id: id) }
                    return Response(status: .noContent)
                }
            }
        }
        router.post("/admin/v1/members/:id/erase") { request, context -> Response in
            try await admin(request, site) {
                let id = try recordID(context)
                let body = try await object(request)
                guard let reason = body["reason"]?.stringValue, body.count == 1 else {
                    throw WebError.badRequest("send {\"reason\": \"…\"} saying why the member is erased (no personal data)")
                }
                let e = try await WriteQueue.run { try editor.eraseMember(id, reason: reason) }
                return HTTPAnswer.json(["id": .string(id), "entry": .string(e.envelope.version.description)])
            }
        }
        router.get("/admin/v1/members/:id/history") { request, context -> Response in
            try await admin(request, site) {
                let id = try recordID(context)
                let changes = try await site.store.history(.member, id: id)
                guard !changes.isEmpty else { throw StoreError.notFound(.member, id) }
                return HTTPAnswer.json(["id": .string(id), "changes": .array(changes.map(\.json))])
            }
        }
        router.get("/admin/v1/erasure-requests") { request, _ -> Response in
            try await admin(request, site) {
                let all = try Parameters(request.uri.query)["all"] == "true"
                return HTTPAnswer.json(["items": .array(try await site.store.erasureRequests(pendingOnly: !all).map(\.json))])
            }
        }
        router.post("/admin/v1/erasure-requests/:id/decline") { request, context -> Response in
            try await admin(request, site) {
                let id = try recordID(context)
                guard try await WriteQueue.run({ try site.store.declineErasure(of: id) }) else {
                    throw WebError(status: .notFound, description: "member \(id) has no pending erasure request")
                }
                return Response(status: .noContent)
            }
        }
        router.post("/admin/v1/events/:id/cancel") { request, context -> Response in
            try await admin(request, site) {
                let id = try recordID(context)
                return HTTPAnswer.json(full(try await WriteQueue.run { try editor.cancelEvent(id) }))
            }
        }
    }

    /// Checks the bearer token, runs the handler and maps its errors to 4xx with one sentence.
    static func admin(_ request: Request, _ site: Site, _ body: () async throws -> Response) async throws -> Response {
        guard try await hasToken(request, site) else { return APIRouter.error(.unauthorized, WebError.unauthorized.description) }
        var answer: Response?
        let mapped = try await APIRouter.api {
            answer = try await body()
            return .status(.ok, nil)
        }
        return answer ?? mapped
    }

    /// Whether the request carries a valid admin token (`Authorization: Bearer …`).
    static func hasToken(_ request: Request, _ site: Site) async throws -> Bool {
        let header = request.headers[.authorization] ?? ""
        guard header.hasPrefix("Bearer ") else { return false }
        return try await site.store.adminTokenID(String(header.dropFirst(7))) != nil
    }

    static func recordID(_ context: BasicRequestContext) throws(WebError) -> String {
        let id = context.parameters.get("id") ?? ""
        guard RecordID.isValid(id) else { throw .notFound }
        return id
    }

    /// The request's body: one JSON object of at most `maxBody` bytes.
    static func object(_ request: Request) async throws -> [String: JSONValue] {
        guard let type = request.headers[.contentType], type.lowercased().hasPrefix("application/json") else {
            throw WebError(status: .unsupportedMediaType, description: "send the body as application/json")
        }
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBody)
        } catch let e as HTTPError where e.status == .contentTooLarge {
            throw WebError(status: .contentTooLarge, description: "the body is larger than \(maxBody / 1024) KiB")
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(buffer.readableBytesView, maxDepth: 8)
        } catch {
            throw WebError.badRequest("the body is not valid JSON (\(error))")
        }
        guard case .object(let o) = value else { throw WebError.badRequest("the body must be a JSON object of field values") }
        return o
    }

    /// Everything the admin sees of a record: all values, conflicts and revision.
    static func full(_ r: Record) -> JSONValue {
        guard case .object(var o) = r.json else { return r.json }
        o["conflicts"] = .array(r.conflictedFields.map { .string($0) })
        o["revision"] = .number(Double(r.revision))
        return .object(o)
    }
}
