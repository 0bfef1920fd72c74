import AcesCore
import AcesStore
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
        for a in [fedAddress, webAddress].compactMap({ $0 }) where !LocalFederation.canListen(host: a.host, port: a.port) {
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
        let roster = try directory.roster()
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

        let ports = self.ports
        var services: [any Service] = []
        if let federationServer, let fedAddress {
            services.append(
                Application(
                    router: FederationRouter.make(
                        chapter: chapter, store: store, roster: { roster }, onNotify: { syncer.trigger($0) }, logger: logger,
                        metrics: metrics),
                    server: federationServer,
                    configuration: .init(address: .hostname(fedAddress.host, port: fedAddress.port), serverName: "aces-federation"),
                    onServerRunning: { channel in ports.withLockedValue { $0["federation"] = channel.localAddress?.port } },
                    logger: logger))
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
        self.services = services
    }

    /// A listener's time limits (see docs/SECURITY.md): a connection silent for `idle` seconds
    /// is closed, and so is one whose request has not fully arrived, or whose answer is not being
    /// taken, for `request` seconds; `fallback` for either when not configured. A connection that
    /// is not to be kept (HTTP/1.0 without keep-alive, `Connection: close`) closes after its answer.
    static func limits(idle: Int?, request: Int?, fallback: TimeAmount) -> HTTP1Channel.Configuration {
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
        try await withThrowingDiscardingTaskGroup { group in
            for s in services { group.addTask { try await s.run() } }
            // Members a large transaction left unindexed (say, a catch-up cut short) become searchable.
            group.addTask { _ = try? await self.store.indexPendingSearch() }
            group.addTask {
                try? await cancelWhenGracefulShutdown { await self.syncer.run() }
                // Close our connections to peers at once, so their listeners can drain too.
                try? await self.http.shutdown()
            }
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

/// Builds the client side of federation: the HTTP client with this node's certificate and the syncer.
public enum FederationClient {
    public static func make(
        directory: NodeDirectory, store: Store, tls: TLSMaterial?, logger: Logger, metrics: NodeMetrics? = nil
    ) throws -> (Syncer, HTTPClient) {
        // A node without a federation listener (made by 'aces init' alone) syncs with no one.
        let roster: Roster
        if let r = try directory.roster() {
            roster = r
        } else if tls == nil {
            roster = Roster(chapters: [])
        } else {
            throw NodeError.config("aces.toml names no roster; set roster = \"path/to/chapters\"")
        }
        let sync = directory.config.sync ?? NodeConfig.SyncConfig()
        let keys = try directory.keyRing()
        let timeout = TimeAmount.milliseconds(Int64((sync.timeoutSeconds ?? 10) * 1000))
        var config = HTTPClient.Configuration(tlsConfiguration: tls?.client)
        // Connection attempts are retried until the connect timeout, so keep it short: a peer
        // that is down should cost seconds, not the whole read timeout.
        config.timeout = .init(connect: min(timeout, .seconds(3)), read: timeout)
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
        var peers = [ChapterID: PeerClient]()
        let wanted = sync.peers.map { Set($0) }
        for p in roster.chapters {
            guard let c = p.chapter, c != directory.chapter, let url = p.federationURL, wanted?.contains(p.id) ?? true else { continue }
            guard let tls else { continue }
            peers[c] = PeerClient(
                http: http, peer: c, baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, timeout: timeout,
                diagnosis: PeerDiagnosis(tls: tls, peer: c))
        }
        let syncer = Syncer(
            chapter: directory.chapter, store: store, keys: keys, peers: peers,
            interval: sync.intervalSeconds ?? 30, logger: logger, metrics: metrics)
        return (syncer, http)
    }
}

extension NodeDirectory {
    /// The node's federation certificate, key and CA, as configured.
    public func tlsMaterial() throws -> TLSMaterial {
        guard let f = config.federation else { throw NodeError.config("aces.toml has no [federation] section") }
        return try TLSMaterial(certificate: resolve(f.certificate), privateKey: resolve(f.privateKey), ca: resolve(f.ca))
    }
}
