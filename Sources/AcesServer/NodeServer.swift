import AcesCore
import AcesFederation
import AcesHTTP
import AcesNodeFiles
import AcesStore
import AcesWeb
import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// A running node: the federation listener (mutual TLS), the public listener, and the sync
/// loops, as one service. SIGTERM/SIGINT (through a ServiceGroup) drain and stop it.
///
/// ```swift
/// let node = try NodeServer(directory: try NodeDirectory.open("/var/lib/aces"), logger: logger)
/// try await ServiceGroup(services: [node], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
/// ```
public final class NodeServer: Service, Sendable {
    public let directory: NodeDirectory
    public let store: Store
    public let syncer: Syncer
    let http: HTTPClient
    let services: [any Service]
    /// The metrics label of each service's listener.
    let listeners: [String]
    public let metrics: NodeMetrics
    let logger: Logger
    private let ports = NIOLockedValueBox<[String: Int]>([:])

    /// What this node serves: its listeners, and whether it has a federation listener.
    public let serving: ServingState

    public init(directory: NodeDirectory, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        let store = try directory.openStore()
        self.store = store
        _ = try directory.signingKey()  // refuse to start with a key file others can read
        // A node made by 'aces init' alone serves its directory on the public listener only.
        let fed = directory.config.federation
        let web = directory.config.web ?? NodeConfig.WebConfig.standard
        guard let webAddress = HostPort(web.listen), fed.map({ HostPort($0.listen) != nil }) ?? true else {
            throw NodeError.config("aces.toml: a listen address is not host:port")
        }
        let fedAddress = fed.flatMap { HostPort($0.listen) }
        // Refuse at once, with one sentence, rather than failing inside the running servers.
        for a in [fedAddress, webAddress].compactMap({ $0 }) where !PortCheck.canListen(host: a.host, port: a.port) {
            throw NodeError.config(
                "cannot listen on \(a.host):\(a.port): the port is in use (another node or program?); change 'listen' in aces.toml")
        }
        var tls: TLSMaterial?
        if let fed {
            var material = try directory.tlsMaterial()
            material.reloading = ReloadingTLS(
                certificate: directory.resolve(fed.certificate), privateKey: directory.resolve(fed.privateKey),
                ca: directory.resolve(fed.ca), chapter: directory.chapter, logger: logger)
            tls = material
        }
        let federationServer = try tls.map { tls in
            try HTTPServerBuilder.tls(
                .http1(
                    configuration: NodeServer.limits(
                        idle: fed?.idleTimeoutSeconds, request: fed?.requestTimeoutSeconds, fallback: NodeServer.federationIdleTimeout)),
                tlsConfiguration: tls.server)
        }
        let chapter = directory.chapter
        // An HTTP client must be shut down once made: past it, only the public router may throw,
        // and it shuts the client down when it does.
        let metrics = NodeMetrics(chapter: chapter)
        self.metrics = metrics
        let dashboard = FederationDashboard()
        let (syncer, http) = try FederationClient.make(directory: directory, store: store, tls: tls, logger: logger, metrics: metrics)
        let serving = ServingState(
            web: web, federation: fed, tls: tls?.reloading, peers: syncer.peerChapters.count,
            unreachableSeconds: directory.config.sync?.unreachableSeconds ?? ServingState.defaultUnreachableSeconds)
        self.serving = serving
        metrics.serving = serving
        let publicRouter: ConformingRouter<BasicRequestContext>
        do {
            publicRouter = try PublicRouter.make(
                directory: directory, store: store, metrics: metrics, dashboard: dashboard, serving: serving)
        } catch {
            try? http.syncShutdown()
            throw error
        }
        self.syncer = syncer
        self.http = http
        dashboard.connect(syncer.peers, metrics: metrics)
        let live = syncer.live
        live.onChange { dashboard.connect(syncer.peers, metrics: metrics) }

        let ports = self.ports
        var services: [any Service] = []
        var names: [String] = []
        if let federationServer, let fedAddress {
            services.append(
                Application(
                    router: FederationRouter.make(
                        chapter: chapter, store: store, roster: { live.roster }, onNotify: { syncer.trigger($0) }, logger: logger,
                        metrics: metrics, live: live),
                    server: federationServer,
                    configuration: .init(address: .hostname(fedAddress.host, port: fedAddress.port), serverName: "aces-federation"),
                    onServerRunning: { channel in ports.withLockedValue { $0["federation"] = channel.localAddress?.port } },
                    logger: logger))
            names.append("federation")
        }
        let publicApp = Application(
            router: publicRouter,
            server: .http1(
                configuration: NodeServer.limits(
                    idle: web.idleTimeoutSeconds, request: web.requestTimeoutSeconds, fallback: NodeServer.publicIdleTimeout)),
            configuration: .init(address: .hostname(webAddress.host, port: webAddress.port), serverName: "aces"),
            onServerRunning: { channel in ports.withLockedValue { $0["web"] = channel.localAddress?.port } },
            logger: logger)
        services.append(publicApp)
        names.append("public")
        self.services = services
        listeners = names
    }

    /// A listener's time limits (see docs/SECURITY.md): a connection silent for `idle` seconds
    /// is closed, and so is one whose request has not fully arrived, or whose answer is not being
    /// taken, for `request` seconds; `fallback` for either when not configured. A connection that
    /// is not to be kept (HTTP/1.0 without keep-alive, `Connection: close`) closes after its answer.
    public static func limits(idle: Int?, request: Int?, fallback: TimeAmount) -> HTTP1Channel.Configuration {
        func amount(_ seconds: Int?) -> TimeAmount { seconds.map { .seconds(Int64($0)) } ?? fallback }
        let limit = amount(request)
        return .init(
            additionalChannelHandlers: [RequestDeadlineHandler(limit: limit), PersistentConnectionInstaller()], idleTimeout: amount(idle))
    }

    /// A public connection silent this long is closed.
    public static let publicIdleTimeout = TimeAmount.seconds(30)
    /// A federation connection silent this long is closed (peers reconnect for each pass).
    public static let federationIdleTimeout = TimeAmount.seconds(60)

    public func run() async throws {
        let metrics = self.metrics
        try await withThrowingDiscardingTaskGroup { group in
            for (s, listener) in zip(services, listeners) {
                // Its connections inherit the binding, so their metrics land in this node's registry.
                group.addTask { try await NodeMetrics.$serving.withValue((metrics, listener)) { try await s.run() } }
            }
            // Members a large transaction left unindexed (say, a catch-up cut short) become searchable.
            group.addTask {
                do { _ = try await self.store.indexPendingSearch() } catch {
                    self.logger.error("cannot index the members left pending", metadata: ["aces.error": "\(String(describing: error))"])
                }
            }
            // Spent sessions and links, and old quarantine evidence, leave the file (see [retention]).
            group.addTask { await cancelWhenGracefulShutdown { await self.retentionLoop() } }
            group.addTask {
                try? await cancelWhenGracefulShutdown { await self.syncer.run() }
                // Close our connections to peers at once, so their listeners can drain too.
                try? await self.http.shutdown()
            }
        }
    }

    /// How often the running node applies the retention policy.
    static let retentionInterval = Duration.seconds(6 * 3600)

    /// Applies the retention policy at start, then every `retentionInterval`, until cancelled.
    func retentionLoop() async {
        let policy = directory.config.retentionPolicy
        while !Task.isCancelled {
            do {
                let done = try await store.applyRetention(policy)
                if done.total > 0 {
                    logger.info(
                        "retention applied",
                        metadata: [
                            "aces.quarantine": "\(done.quarantine)", "aces.sessions": "\(done.sessions)", "aces.invites": "\(done.invites)",
                        ])
                }
            } catch {
                logger.error("cannot apply the retention policy", metadata: ["aces.error": "\(String(describing: error))"])
            }
            do { try await Task.sleep(for: NodeServer.retentionInterval) } catch { return }
        }
    }

    /// The bound port of a listener ("federation" or "web") once it is running.
    public func port(_ listener: String) -> Int? { ports.withLockedValue { $0[listener] } }

    /// Waits until both listeners accept connections (or `seconds` pass).
    public func waitUntilListening(seconds: Double = 30) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if (port("federation") != nil || serving.federation == nil) && port("web") != nil { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
