import AcesCore
import AcesNodeFiles
import AcesStore
import AsyncHTTPClient
import Logging
import NIOCore

/// Builds the client side of federation: the HTTP client with this node's certificate and the syncer.
public enum FederationClient {
    public static func make(
        directory: NodeDirectory, store: Store, tls: TLSMaterial?, logger: Logger, metrics: NodeMetrics? = nil
    ) throws -> (Syncer, HTTPClient) {
        let live = try LiveRoster(directory: directory, store: store, logger: logger)
        // A node without a federation listener (made by 'aces init' alone) syncs with no one.
        guard live.roster != nil || tls == nil else {
            throw NodeError.config("this node holds no roster: join with 'aces init --join BUNDLE', or set roster = \"path/to/chapters\"")
        }
        let sync = directory.config.sync ?? NodeConfig.SyncConfig()
        let timeout = TimeAmount.milliseconds(Int64((sync.timeoutSeconds ?? 10) * 1000))
        var config = HTTPClient.Configuration(tlsConfiguration: tls?.client)
        // Connection attempts are retried until the connect timeout, so keep it short: a peer
        // that is down should cost seconds, not the whole read timeout.
        config.timeout = .init(connect: min(timeout, .seconds(3)), read: timeout)
        let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
        let own = directory.chapter
        let syncer = Syncer(
            chapter: own, store: store, live: live,
            links: { roster in
                let topology = SyncTopology(roster: roster, own: own, peers: sync.peers, fanout: sync.fanout)
                func clients(_ ids: [ChapterID]) -> [ChapterID: PeerClient] {
                    var out = [ChapterID: PeerClient]()
                    guard let tls else { return out }
                    for c in ids {
                        guard let url = roster?.profile(c)?.federationURL else { continue }
                        out[c] = PeerClient(
                            http: http, peer: c, baseURL: url.hasSuffix("/") ? String(url.dropLast()) : url, timeout: timeout,
                            diagnosis: PeerDiagnosis(tls: tls, peer: c))
                    }
                    return out
                }
                return Syncer.Links(pull: clients(topology.pull), notify: clients(topology.notify))
            },
            interval: sync.intervalSeconds ?? 30, logger: logger, metrics: metrics)
        return (syncer, http)
    }
}

/// Whom a node pulls from and whom it tells of new entries, from the roster in force: every
/// other active chapter with a federation URL (the default), the chapters `[sync] peers` names,
/// or with `[sync] fanout = k` the chapters 1, 2, 4 … 2^(k-1) places after it in the roster's
/// ring of active chapters sorted by id. A fanout reaches every chapter in about log2(n) hops,
/// and a chapter that joins takes its place in the ring on every node as soon as the roster
/// that lists it arrives: nobody edits a peer list.
struct SyncTopology {
    var pull: [ChapterID]
    var notify: [ChapterID]

    init(roster: Roster?, own: ChapterID, peers: [String]?, fanout: Int?) {
        let ring = (roster?.active ?? []).filter { $0.federationURL != nil }.compactMap(\.chapter)
        let others = ring.filter { $0 != own }
        if let peers {
            pull = others.filter { peers.contains($0.rawValue) }
            notify = pull
        } else if let fanout, fanout > 0, let i = ring.firstIndex(of: own) {
            let n = ring.count
            let steps = (0..<min(fanout, 30)).map { 1 << $0 }.filter { $0 < n }
            pull = Array(Set(steps.map { ring[(i + $0) % n] })).sorted()
            // Those that pull from this node: told at once of its new entries.
            notify = Array(Set(steps.map { ring[((i - $0) % n + n) % n] })).sorted()
        } else {
            pull = others
            notify = others
        }
    }
}

extension NodeDirectory {
    /// The node's federation certificate, key and CA, as configured.
    public func tlsMaterial() throws -> TLSMaterial {
        guard let f = config.federation else { throw NodeError.config("aces.toml has no [federation] section") }
        return try TLSMaterial(certificate: resolve(f.certificate), privateKey: resolve(f.privateKey), ca: resolve(f.ca))
    }
}
