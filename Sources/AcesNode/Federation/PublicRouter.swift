import AcesCore
import AcesStore
import Foundation
import Hummingbird
import NIOCore

/// The public listener's routes: health, the directory and calendar pages, feeds and cards,
/// the JSON API and the admin API.
enum PublicRouter {
    static func make(
        directory: NodeDirectory, store: Store, now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> Router<BasicRequestContext> {
        let router = Router()
        let site = try Site(store: store, directory: directory)
        router.get("/healthz") { _, _ -> Response in
            FederationRouter.plain("ok\n")
        }
        router.get("/api/v1/status") { _, _ -> Response in
            let heads = try await store.heads()
            return FederationRouter.json([
                "chapter": .string(directory.chapter.rawValue),
                "origins": .array(
                    heads.map { ["origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq)), "head": .string($0.hash.hex)] }),
            ])
        }
        WebRouter.add(to: router, site: site, now: now)
        APIRouter.add(to: router, site: site, now: now)
        AdminRouter.add(to: router, site: site, editor: Editor(directory: directory, store: store))
        return router
    }
}

extension FederationRouter {
    static func plain(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
