import AcesCore
import AcesNodeFiles
import Foundation

/// What a running node serves, as its health checks and pages need it: its listeners, its own
/// certificate as in use now, how many peers it pulls from, and since when it runs.
public final class ServingState: Sendable {
    /// `[sync] unreachable_seconds` when unset: `/readyz` fails after ten minutes without any peer.
    public static let defaultUnreachableSeconds: Double = 600

    public let web: NodeConfig.WebConfig
    public let federation: NodeConfig.FederationConfig?
    let tls: ReloadingTLS?
    public let peers: Int
    public let unreachableSeconds: Double
    public let startedAt = Date()

    public init(
        web: NodeConfig.WebConfig, federation: NodeConfig.FederationConfig?, tls: ReloadingTLS?, peers: Int, unreachableSeconds: Double
    ) {
        self.web = web
        self.federation = federation
        self.tls = tls
        self.peers = peers
        self.unreachableSeconds = unreachableSeconds
    }

    /// The first line a node logs: what it listens on, said plainly.
    public func summary(chapter: ChapterID) -> String {
        guard let federation else {
            return
                "node '\(chapter)' serves its public listener only, on \(web.listen) (\(web.url)): no federation listener and no peers, so it syncs with no one (add [federation] to aces.toml, see docs/OPERATIONS.md)"
        }
        return
            "node '\(chapter)' serves its public listener on \(web.listen) (\(web.url)) and its federation listener (mutual TLS) on \(federation.listen) (\(federation.url)), pulling from \(peers) peer(s)"
    }

    /// Why this node's own certificate cannot be used now ("expired on …"), nil when it can.
    public func certificateProblem(now: Date = Date()) -> String? {
        guard let window = tls?.validity else { return nil }
        if now < window.from { return "this node's TLS certificate is not valid until \(CertificateCheck.day(window.from)) (UTC)" }
        if now >= window.until {
            return "this node's TLS certificate expired on \(CertificateCheck.day(window.until)): ask the federation CA for a new one"
        }
        return nil
    }

    /// "this node's TLS certificate expires on …, in n days: …" within 30 days of its end.
    func certificateWarning(now: Date = Date()) -> String? {
        guard let window = tls?.validity, certificateProblem(now: now) == nil else { return nil }
        return CertificateCheck.expiryWarning(window.until, now: now).map { "this node's TLS certificate \($0)" }
    }

    /// When this node's certificate ends, if it has one.
    var certificateNotValidAfter: Date? { tls?.validity?.until }
}

extension NodeConfig.WebConfig {
    /// The public listener of a node whose aces.toml has no `[web]`: loopback port 8080, behind a reverse proxy.
    public static let standard = NodeConfig.WebConfig(listen: "127.0.0.1:8080", url: "http://127.0.0.1:8080")
}
