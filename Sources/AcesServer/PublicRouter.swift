import AcesCore
import AcesFederation
import AcesHTTP
import AcesNodeFiles
import AcesStore
import AcesWeb
import AcesWorkflows
import Foundation
import Hummingbird
import NIOCore

/// The public listener's routes: health, readiness and metrics around the site (`PublicSite`).
enum PublicRouter {
    static func make(
        directory: NodeDirectory, store: Store, metrics: NodeMetrics? = nil, dashboard: FederationDashboard? = nil,
        serving: ServingState? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> ConformingRouter<BasicRequestContext> {
        let router = Router()
        if metrics != nil { router.add(middleware: NodeMetrics.httpMiddleware()) }
        let site = try PublicSite(directory: directory, store: store)
        let roster = try directory.roster()
        router.get("/healthz") { _, _ -> Response in
            HTTPAnswer.plain("ok\n")
        }
        router.get("/readyz") { _, _ -> Response in
            let r = await Readiness.check(directory: directory, store: store, roster: roster, serving: serving)
            return HTTPAnswer.json(r.json, status: r.ready ? .ok : .serviceUnavailable)
        }
        if let metrics {
            // Counts of every member held, hidden ones too: for operators, with an admin token.
            router.get("/metrics") { request, _ -> Response in
                guard try await site.isAdmin(request) else { return PublicSite.unauthorized() }
                let text = try await metrics.render(store: store)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: text)))
            }
        }
        site.addRoutes(to: router, dashboard: dashboard, serving: serving, now: now)
        return ConformingRouter(router: router)
    }
}
