import AcesCore
import AcesFederation
import AcesHTTP
import AcesNodeFiles
import AcesStore
import AcesWorkflows
import Foundation
import Hummingbird

/// Everything the public listener shows a visitor, a member or an admin: the directory's and
/// calendar's pages, feeds and cards, "my profile", the JSON and admin APIs and the federation
/// dashboard. The server adds health, readiness and metrics around it.
public struct PublicSite: Sendable {
    let site: Site
    let directory: NodeDirectory

    public init(directory: NodeDirectory, store: Store) throws {
        site = try Site(store: store, directory: directory)
        self.directory = directory
    }

    /// Whether a request carries this node's admin token.
    public func isAdmin(_ request: Request) async throws -> Bool {
        try await AdminRouter.hasToken(request, site)
    }

    /// The API's answer to a request that needs the admin token and lacks it.
    public static func unauthorized() -> Response {
        APIRouter.error(.unauthorized, WebError.unauthorized.description)
    }

    /// Adds the site's routes to the public listener's router.
    public func addRoutes(
        to router: Router<BasicRequestContext>, dashboard: FederationDashboard?, serving: ServingState?,
        now: @escaping @Sendable () -> Date
    ) {
        let site = site
        let directory = directory
        let store = site.store
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
        AdminConflictsRouter.add(to: router, site: site, editor: Editor(directory: directory, store: store))
        SiteFiles.add(to: router, indexing: directory.config.web?.allowIndexing ?? false)
    }
}
