import AcesCore
import AcesStore
import Foundation
import Hummingbird
import NIOCore

/// The public listener's routes: health now; the directory and calendar pages build on it.
enum PublicRouter {
    static func make(directory: NodeDirectory, store: Store) -> Router<BasicRequestContext> {
        let router = Router()
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
        return router
    }
}

extension FederationRouter {
    static func plain(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
