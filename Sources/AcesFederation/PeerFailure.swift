import AcesCore
import AcesNodeFiles
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import X509

/// Why a peer could not be talked to, as one sentence naming the peer, the cause and the fix
/// ("uk's certificate expired on 2026-11-30: ask the federation CA for a new one"), never a
/// library's error dump or a build path. For operators only: `aces peers`, `aces sync`, the logs
/// and the dashboard shown with an admin token; public pages say only that a peer is unreachable.
enum PeerFailure {
    /// What went wrong, read from the error's type (and, for TLS, BoringSSL's reason code).
    enum Cause: Equatable {
        case refused, timeout, unknownHost, noRoute, closed
        /// This node does not accept the peer's certificate.
        case peerCertificate
        /// The peer's certificate does not name the host of its URL.
        case hostname
        /// The peer refused this node's certificate, with what its TLS alert says.
        case ourCertificate(String)
        case other(String)
    }

    /// The sentence for `error`; for a certificate this node does not accept, `diagnosis` fetches
    /// it without verifying it and says what is wrong with it.
    static func sentence(
        _ error: any Error, peer: ChapterID, url: String, timeout: String, diagnosis: PeerDiagnosis? = nil
    ) async -> String {
        switch cause(of: error) {
        case .refused: return "\(peer) is unreachable: it refused the connection at \(url): is its node running?"
        case .timeout:
            return
                "\(peer) is unreachable: no answer from \(url) within \(timeout) s: is its node running, and does its firewall let this node in?"
        case .unknownHost: return "\(peer) is unreachable: the host of \(url) is unknown: check federation_url in \(peer)'s roster file"
        case .noRoute: return "\(peer) is unreachable: there is no route to \(url): check this machine's network and \(peer)'s address"
        case .closed:
            return
                "\(peer) closed the connection at \(url) before answering: if it lasts, run 'aces config check' here and ask \(peer)'s operator to read its logs"
        case .hostname:
            return
                "\(peer)'s certificate does not name the host of \(url): the federation CA must issue it with that --host, or federation_url in \(peer)'s roster file is wrong"
        case .ourCertificate(let why):
            return
                "\(peer) refused this node's certificate (\(why)): run 'aces config check' here; if it passes, \(peer) trusts another federation CA"
        case .peerCertificate:
            if let explained = await diagnosis?.explain(url: url) { return explained }
            return
                "\(peer)'s certificate at \(url) is not accepted by this node (not signed by the federation CA, or not valid now): ask \(peer)'s operator to run 'aces config check'"
        case .other(let kind):
            return
                "\(peer) could not be reached at \(url) (\(kind)): check that its node runs and that 'aces config check' passes on both nodes"
        }
    }

    /// The cause of a transport error, by its type.
    static func cause(of error: any Error) -> Cause {
        switch error {
        case let e as NIOSSLError:
            switch e {
            case .handshakeFailed(let b): return cause(of: b)
            case .uncleanShutdown: return .closed
            default: return .other("TLS failed")
            }
        case let e as BoringSSLError:
            let reasons: [Int]
            switch e {
            case .sslError(let stack), .unknownError(let stack): reasons = stack.compactMap(reason)
            default: reasons = []
            }
            for r in reasons {
                switch r {
                case 125: return .peerCertificate  // CERTIFICATE_VERIFY_FAILED
                case 1045: return .ourCertificate("it says this node's certificate expired")
                case 1048: return .ourCertificate("it says this node's certificate is not signed by its CA")
                case 1044: return .ourCertificate("it says this node's certificate is revoked")
                case 1116: return .ourCertificate("this node sent no certificate")
                case 1042, 1043, 1046, 1049: return .ourCertificate("it does not accept this node's certificate")
                default: continue
                }
            }
            return .other("TLS handshake failed")
        case let e as NIOSSLExtraError where e == .failedToValidateHostname:
            return .hostname
        case let e as NIOConnectionError:
            if let first = e.connectionErrors.first { return cause(of: first.error) }
            return e.dnsAError != nil || e.dnsAAAAError != nil ? .unknownHost : .other("connection failed")
        case let e as IOError:
            switch e.errnoCode {
            case ECONNREFUSED: return .refused
            case ETIMEDOUT: return .timeout
            case EHOSTUNREACH, ENETUNREACH: return .noRoute
            case ECONNRESET, EPIPE: return .closed
            default: return .other("network error \(e.errnoCode)")
            }
        case let e as HTTPClientError:
            switch e {
            case .connectTimeout, .readTimeout, .deadlineExceeded, .getConnectionFromPoolTimeout, .writeTimeout: return .timeout
            case .remoteConnectionClosed: return .closed
            default: return .other("HTTP client error")
            }
        case let e as ChannelError:
            if case .connectTimeout = e { return .timeout }
            return e == .eof || e == .ioOnClosedChannel || e == .alreadyClosed ? .closed : .other("connection error")
        default:
            return .other(String(describing: type(of: error)))
        }
    }

    /// BoringSSL's reason code in an error of its stack: the low 12 bits of the packed code that its
    /// description starts with ("Error: 268435581 …"). NIOSSL keeps the code itself private.
    static func reason(_ error: BoringSSLInternalError) -> Int? {
        let text = String(describing: error)
        guard text.hasPrefix("Error: ") else { return nil }
        let digits = text.dropFirst(7).prefix { $0.isNumber }
        return UInt32(digits).map { Int($0 & 0xFFF) }
    }
}

/// Fetches a peer's certificate without verifying it, to say what is wrong with it after a
/// handshake failed on it: expired (and when), not yet valid, not signed by the federation CA,
/// another chapter's. Runs only after a failure, on NIO's event loops.
struct PeerDiagnosis: Sendable {
    let tls: TLSMaterial
    let peer: ChapterID

    func explain(url: String) async -> String? {
        guard let ca = tls.ca.first, let caCertificate = try? Certificate(derEncoded: try ca.toDERBytes()),
            let presented = await certificate(url: url)
        else { return nil }
        return CertificateCheck.explainPeer(peer, certificate: presented, ca: caCertificate)
    }

    /// The certificate the peer's URL presents, unverified.
    func certificate(url: String) async -> Certificate? {
        guard let u = URL(string: url), let host = u.host else { return nil }
        return await certificate(host: host, port: u.port ?? 443)
    }

    /// The certificate `host:port` presents to this node's client certificate, or nil when none
    /// arrives within a few seconds.
    func certificate(host: String, port: Int) async -> Certificate? {
        var config = TLSConfiguration.makeClientConfiguration()
        config.certificateVerification = .none
        config.certificateChain = tls.certificate.map { .certificate($0) }
        config.privateKey = .privateKey(tls.privateKey)
        config.shutdownTimeout = TLSMaterial.closeWait
        return await PresentedCertificate.of(host: host, port: port, configuration: config)
    }
}

/// The certificate a TLS server presents, unverified: what a peer's failure is explained from,
/// and what a test of certificate rotation looks at.
public enum PresentedCertificate {
    /// Connects to `host:port` with `configuration`, completes the handshake and returns the
    /// server's certificate; nil when none arrives within `timeout`.
    public static func of(
        host: String, port: Int, configuration: TLSConfiguration, timeout: TimeAmount = .seconds(3)
    ) async -> Certificate? {
        guard let context = try? NIOSSLContext(configuration: configuration) else { return nil }
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: NIOSSLCertificate?.self)
        let deadline = promise.futureResult.eventLoop.scheduleTask(in: timeout) { promise.succeed(nil) }
        let isAddress = FederationCA.ipAddressBytes(host) != nil
        let channel = try? await ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: context, serverHostname: isAddress ? nil : host))
                    try channel.pipeline.syncOperations.addHandler(PresentedCertificateHandler(promise))
                }
            }
            .connect(host: host, port: port).get()
        if channel == nil { promise.succeed(nil) }
        let presented = try? await promise.futureResult.get()
        deadline.cancel()
        try? await channel?.close()
        guard let presented, let der = try? presented.toDERBytes() else { return nil }
        return try? Certificate(derEncoded: der)
    }
}

/// Completes with the server's certificate once the handshake completes; nil if it fails first.
private final class PresentedCertificateHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<NIOSSLCertificate?>

    init(_ promise: EventLoopPromise<NIOSSLCertificate?>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            promise.succeed(try? context.channel.pipeline.syncOperations.nioSSL_peerCertificate())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.succeed(nil)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.succeed(nil)
        context.fireChannelInactive()
    }
}
