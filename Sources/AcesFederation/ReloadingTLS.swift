import AcesCore
import AcesNodeFiles
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// The node's TLS certificate and key as they are on disk now: a running node takes a rotated
/// certificate (`aces certs install` or `aces certs rotate`) for every new connection, server and
/// client side, without a restart, as it takes a rotated signing key.
///
/// NIOSSL builds one `NIOSSLContext` per listener and per HTTP client, and a context cannot be
/// changed once built; but its `sslContextCallback`, which BoringSSL calls on every handshake
/// (on the server after the client's hello, on the client when the server asks for its
/// certificate), may hand that one connection another certificate chain and key. Each call looks
/// at the two files' stamps (inode, size, time, mode) and reads them again only when they changed,
/// on NIO's thread pool. New files are taken only once they pass the same checks as at start
/// (`CertificateCheck`): until then the node keeps the certificate it has, and logs why at warning.
/// Connections already open keep the certificate they were opened with until they close.
public final class ReloadingTLS: Sendable {
    let certificateFile: String
    let privateKeyFile: String
    let caFile: String
    let chapter: ChapterID
    let logger: Logger

    private struct State {
        /// Nil while the files read at start are still the ones in use.
        var override: NIOSSLContextConfigurationOverride?
        /// The stamps of the files in use, and of the last files looked at (taken or refused).
        var stamps: [FileStamp]
        var seen: [FileStamp]
        var notValidAfter: Date?
        var notValidBefore: Date?
    }
    private let state: NIOLockedValueBox<State>

    public init(certificate: String, privateKey: String, ca: String, chapter: ChapterID, logger: Logger) {
        certificateFile = certificate
        privateKeyFile = privateKey
        caFile = ca
        self.chapter = chapter
        self.logger = logger
        let stamps = [FileStamp(certificate), FileStamp(privateKey)]
        let window = try? CertificateCheck.read(certificate, what: "TLS certificate")
        state = NIOLockedValueBox(
            State(override: nil, stamps: stamps, seen: stamps, notValidAfter: window?.notValidAfter, notValidBefore: window?.notValidBefore)
        )
    }

    /// When the certificate in use ends, and starts.
    public var validity: (from: Date, until: Date)? {
        state.withLockedValue { s in s.notValidBefore.flatMap { from in s.notValidAfter.map { (from, $0) } } }
    }

    /// For `TLSConfiguration.sslContextCallback`.
    var callback: NIOSSLContextCallback {
        { [self] _, promise in
            let now = [FileStamp(certificateFile), FileStamp(privateKeyFile)]
            let current: NIOSSLContextConfigurationOverride? = state.withLockedValue { s in
                s.seen == now ? (s.override ?? .noChanges) : nil
            }
            if let current { return promise.succeed(current) }
            NIOThreadPool.singleton.runIfActive(eventLoop: promise.futureResult.eventLoop) { self.reload(now) }.cascade(to: promise)
        }
    }

    /// Reads the files again; takes them if they pass the checks, else keeps what is in use.
    func reload(_ stamps: [FileStamp]) -> NIOSSLContextConfigurationOverride {
        let report = CertificateCheck.files(certificate: certificateFile, privateKey: privateKeyFile, ca: caFile, chapter: chapter)
        var loaded: (chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)?
        var problems = report.problems
        if problems.isEmpty {
            do {
                loaded = (try NIOSSLCertificate.fromPEMFile(certificateFile), try NIOSSLPrivateKey(file: privateKeyFile, format: .pem))
            } catch {
                problems.append("the TLS certificate \(certificateFile) or its key \(privateKeyFile) cannot be loaded")
            }
        }
        let window = try? CertificateCheck.read(certificateFile, what: "TLS certificate")
        return state.withLockedValue { s in
            s.seen = stamps
            guard let loaded, !loaded.chain.isEmpty else {
                logger.warning(
                    "the new TLS certificate is not used, the node keeps the one it has: \(problems.joined(separator: "; "))",
                    metadata: ["aces.file": "\(certificateFile)"])
                return s.override ?? .noChanges
            }
            var o = NIOSSLContextConfigurationOverride()
            o.certificateChain = loaded.chain.map { .certificate($0) }
            o.privateKey = .privateKey(loaded.key)
            s.override = o
            s.stamps = stamps
            s.notValidAfter = window?.notValidAfter
            s.notValidBefore = window?.notValidBefore
            logger.notice(
                "took the new TLS certificate for new connections",
                metadata: [
                    "aces.file": "\(certificateFile)", "aces.not_after": "\(window.map { CertificateCheck.day($0.notValidAfter) } ?? "?")",
                ])
            return o
        }
    }
}
