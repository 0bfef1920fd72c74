import AcesCore
import AcesFederation
import AcesHTTP
import AcesNodeFiles
import AcesStore
import AcesWorkflows
import Foundation
import Hummingbird
import NIOCore

/// The public listener's routes: health, the directory and calendar pages, feeds and cards,
/// the JSON API and the admin API.
enum PublicRouter {
    static func make(
        directory: NodeDirectory, store: Store, metrics: NodeMetrics? = nil, dashboard: FederationDashboard? = nil,
        serving: ServingState? = nil, now: @escaping @Sendable () -> Date = { Date() }
    ) throws -> ConformingRouter<BasicRequestContext> {
        let router = Router()
        if metrics != nil { router.add(middleware: NodeMetrics.httpMiddleware()) }
        let site = try Site(store: store, directory: directory)
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
                guard try await AdminRouter.hasToken(request, site) else {
                    return APIRouter.error(.unauthorized, WebError.unauthorized.description)
                }
                let text = try await metrics.render(store: store)
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: text)))
            }
        }
        // What any visitor may know: which chapter's node this is, and that it answers. Entry
        // counts per origin would count writes to members the visitor may not see.
        router.get("/api/v1/status") { _, _ -> Response in
            HTTPAnswer.json(["chapter": .string(directory.chapter.rawValue), "status": "up"])
        }
        if let dashboard {
            router.get("/federation") { request, _ -> Response in
                // Why a peer fails is for operators (an admin token); anyone else sees only whether it is reachable.
                let showCauses = try await AdminRouter.hasToken(request, site)
                return try await WebRouter.page(request, site) { req in
                    let rows = await dashboard.gather(chapter: directory.chapter, store: store)
                    return DashboardPage.render(
                        req, rows: rows, own: directory.chapter, peers: try await store.peerStatuses(), showCauses: showCauses,
                        warnings: dashboard.warnings(rows: rows, own: directory.chapter, serving: serving))
                }
            }
        }
        WebRouter.add(to: router, site: site, now: now)
        APIRouter.add(to: router, site: site, now: now)
        AdminRouter.add(to: router, site: site, editor: Editor(directory: directory, store: store))
        SiteFiles.add(to: router, indexing: directory.config.web?.allowIndexing ?? false)
        return ConformingRouter(router: router)
    }
}
