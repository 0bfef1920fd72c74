import AcesNodeFiles
import Foundation
import NIOCore
import NIOSSL

/// The TLS settings of a node's federation traffic: its certificate and key, and the
/// federation CA every peer's certificate must chain to.
public struct TLSMaterial: Sendable {
    public let certificate: [NIOSSLCertificate]
    public let privateKey: NIOSSLPrivateKey
    public let ca: [NIOSSLCertificate]
    /// When set, every handshake takes the certificate and key as they are on disk now (see ``ReloadingTLS``).
    public var reloading: ReloadingTLS?

    /// Reads the three PEM files; one clear sentence names the file that is missing or wrong.
    public init(certificate: String, privateKey: String, ca: String) throws {
        func load<T>(_ file: String, _ what: String, _ f: (String) throws -> T) throws -> T {
            guard FileManager.default.fileExists(atPath: file) else { throw NodeError.config("the \(what) file \(file) does not exist") }
            do { return try f(file) } catch { throw NodeError.config("the \(what) file \(file) is not valid PEM (\(error))") }
        }
        self.certificate = try load(certificate, "certificate") { try NIOSSLCertificate.fromPEMFile($0) }
        self.privateKey = try load(privateKey, "private key") { try NIOSSLPrivateKey(file: $0, format: .pem) }
        self.ca = try load(ca, "federation CA") { try NIOSSLCertificate.fromPEMFile($0) }
        guard !self.certificate.isEmpty, !self.ca.isEmpty else { throw NodeError.config("a certificate file holds no certificate") }
    }

    /// How long a closing connection waits for the other side's TLS close_notify before it just
    /// closes: NIOSSL's default of 5 s made every `serve` take 5 s to stop while a peer held an
    /// idle connection to it.
    static let closeWait = TimeAmount.milliseconds(300)

    /// The listener's configuration: a client certificate chaining to the federation CA is required.
    public var server: TLSConfiguration {
        var c = TLSConfiguration.makeServerConfigurationWithMTLS(
            certificateChain: certificate.map { .certificate($0) }, privateKey: .privateKey(privateKey), trustRoots: .certificates(ca))
        c.minimumTLSVersion = .tlsv12
        c.shutdownTimeout = TLSMaterial.closeWait
        c.sslContextCallback = reloading?.callback
        return c
    }

    /// The client's configuration: presents this node's certificate, trusts only the federation CA.
    public var client: TLSConfiguration {
        var c = TLSConfiguration.makeClientConfiguration()
        c.certificateChain = certificate.map { .certificate($0) }
        c.privateKey = .privateKey(privateKey)
        c.trustRoots = .certificates(ca)
        c.minimumTLSVersion = .tlsv12
        c.shutdownTimeout = TLSMaterial.closeWait
        c.sslContextCallback = reloading?.callback
        return c
    }
}
