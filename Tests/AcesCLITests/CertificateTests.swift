import AcesCore
import AcesNodeFiles
import AcesTestSupport
import Crypto
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import Testing
import X509

/// The federation's certificate tooling: CA, node certificates, the chapter a peer names, files and `aces certs`.
@Suite struct CertificateTests {
    let dir = TempDir()
    let fr = ChapterID("fr")!

    @Test func aLeafNamesItsChapterAndCarriesTheAgreedExtensions() async throws {
        let ca = try FederationCA.create()
        let leaf = try FederationCA.issue(chapter: fr, ca: ca)
        #expect(FederationCA.chapter(ofPEM: leaf.certificatePEM) == fr)
        #expect(FederationCA.chapter(of: try NIOSSLCertificate(bytes: Array(leaf.certificatePEM.utf8), format: .pem)) == fr)
        #expect(FederationCA.chapter(ofPEM: ca.certificatePEM) == nil, "a CA is not a node")
        #expect(FederationCA.chapter(ofPEM: "not a certificate") == nil)

        let cert = try Certificate(pemEncoded: leaf.certificatePEM)
        let caCert = try Certificate(pemEncoded: ca.certificatePEM)
        #expect(cert.subject.description == "CN=fr,O=Aces federation")
        #expect(cert.issuer == caCert.subject)
        #expect(try cert.extensions.basicConstraints == .notCertificateAuthority)
        #expect(try cert.extensions.keyUsage == KeyUsage(digitalSignature: true))
        #expect(try cert.extensions.extendedKeyUsage == ExtendedKeyUsage([.serverAuth, .clientAuth]))
        let sans = Array(try #require(try cert.extensions.subjectAlternativeNames))
        #expect(
            sans == [
                .dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1])),
                .ipAddress(ASN1OctetString(contentBytes: ArraySlice([UInt8](repeating: 0, count: 15) + [1]))),
                .uniformResourceIdentifier("aces:chapter:fr"),
            ])
        let twoYears = cert.notValidAfter.timeIntervalSince(cert.notValidBefore) / 86_400
        #expect((730...732).contains(twoYears.rounded()))
        #expect(try caCert.extensions.keyUsage == KeyUsage(keyCertSign: true, cRLSign: true))
        #expect(caCert.subject.description == "CN=Aces federation CA,O=Aces federation")
        #expect(caCert.notValidAfter.timeIntervalSince(caCert.notValidBefore) / 86_400 > 3_650)
        let second = try Certificate(pemEncoded: try FederationCA.issue(chapter: fr, ca: ca).certificatePEM)
        #expect(second.serialNumber != cert.serialNumber && cert.serialNumber.bytes.count >= 16, "serial numbers are random")
        #expect(!leaf.description.contains("PRIVATE"), "printing an issued certificate must not show the key")
    }

    @Test func aLeafVerifiesAgainstItsCAAndNotAgainstAnother() async throws {
        let ca = try FederationCA.create()
        let other = try FederationCA.create(name: "Rogue CA")
        let leaf = try Certificate(pemEncoded: try FederationCA.issue(chapter: fr, ca: ca).certificatePEM)
        let rogue = try Certificate(pemEncoded: try FederationCA.issue(chapter: fr, ca: other).certificatePEM)
        func verifies(_ leaf: Certificate) async throws -> Bool {
            var verifier = Verifier(rootCertificates: CertificateStore([try Certificate(pemEncoded: ca.certificatePEM)])) {
                RFC5280Policy()
            }
            if case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) { return true }
            return false
        }
        #expect(try await verifies(leaf))
        #expect(try await !verifies(rogue))
    }

    @Test func theLeafEndsWithTheCAAndHostsAreChecked() async throws {
        let now = Date()
        let ca = try FederationCA.create(now: now.addingTimeInterval(-9.5 * 365 * 86_400))
        let leaf = try Certificate(
            pemEncoded: try FederationCA.issue(chapter: fr, ca: ca, hosts: ["fr.aces.example", "[2001:db8::1]"]).certificatePEM)
        #expect(leaf.notValidAfter == (try Certificate(pemEncoded: ca.certificatePEM)).notValidAfter)
        #expect(Array(try #require(try leaf.extensions.subjectAlternativeNames)).count == 3)
        #expect(throws: AcesNodeFiles.CertificateError.self) { try FederationCA.issue(chapter: fr, ca: ca, hosts: ["bad host!"]) }
        let mismatched = IssuedCertificate(certificatePEM: ca.certificatePEM, privateKeyPEM: try FederationCA.create().privateKeyPEM)
        let error = #expect(throws: AcesNodeFiles.CertificateError.self) { try FederationCA.issue(chapter: fr, ca: mismatched) }
        #expect(error?.description.contains("does not belong") == true)
        #expect(error?.description.contains("PRIVATE") == false)
    }

    @Test func aURIThatNamesAnotherChapterIsRefused() async throws {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        func certificate(cn: String, uris: [String]) throws -> String {
            let name = try DistinguishedName { CommonName(cn) }
            let cert = try Certificate(
                version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: Date(),
                notValidAfter: Date().addingTimeInterval(3600), issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions { SubjectAlternativeNames(uris.map { .uniformResourceIdentifier($0) }) },
                issuerPrivateKey: key)
            return try cert.serializeAsPEM().pemString
        }
        #expect(FederationCA.chapter(ofPEM: try certificate(cn: "fr", uris: [])) == fr, "the URI is optional")
        #expect(FederationCA.chapter(ofPEM: try certificate(cn: "fr", uris: ["aces:chapter:uk"])) == nil)
        #expect(FederationCA.chapter(ofPEM: try certificate(cn: "fr", uris: ["aces:chapter:fr", "aces:chapter:uk"])) == nil)
        #expect(FederationCA.chapter(ofPEM: try certificate(cn: "France", uris: ["aces:chapter:fr"])) == nil)
    }

    @Test func writeCreatesAnOwnerOnlyKeyAndRefusesToOverwrite() async throws {
        let ca = try FederationCA.create()
        let cert = dir.file("ca.pem"), key = dir.file("ca-key.pem")
        try FederationCA.write(ca, certificate: cert, privateKey: key)
        #expect(try mode(key) == 0o600)
        #expect(try mode(cert) == 0o644)
        #expect(try String(contentsOfFile: key, encoding: .utf8) == ca.privateKeyPEM)
        #expect(FederationCA.chapter(ofPEM: try String(contentsOfFile: cert, encoding: .utf8)) == nil)

        let again = try FederationCA.create()
        let error = #expect(throws: AcesNodeFiles.CertificateError.self) {
            try FederationCA.write(again, certificate: cert, privateKey: key)
        }
        #expect(error?.description == "\(cert) already exists; remove it first to replace it")
        #expect(try String(contentsOfFile: key, encoding: .utf8) == ca.privateKeyPEM, "the old key is untouched")
        // Refused before anything is written, even when only one of the two files exists.
        let other = dir.file("other-key.pem")
        #expect(throws: AcesNodeFiles.CertificateError.self) { try FederationCA.write(again, certificate: cert, privateKey: other) }
        #expect(!FileManager.default.fileExists(atPath: other))

        #expect(try FederationCA.read(certificate: cert, privateKey: key).privateKeyPEM == ca.privateKeyPEM)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        #expect(throws: AcesNodeFiles.CertificateError.self) { try FederationCA.read(certificate: cert, privateKey: key) }
    }

    @Test func certsCommandsWriteTheFilesAndRefuseMistakes() async throws {
        let certs = dir.file("certs")
        let missing = try await AcesProcess.runAsync(["certs", "issue", "--chapter", "fr", "--dir", certs])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("run 'aces certs init-ca"))
        #expect(!FileManager.default.fileExists(atPath: certs))

        let created = try await AcesProcess.runAsync(["certs", "init-ca", "--dir", certs])
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try mode(certs + "/ca-key.pem") == 0o600)
        #expect(try await AcesProcess.runAsync(["certs", "init-ca", "--dir", certs]).stderr.contains("already exists"))

        let bad = try await AcesProcess.runAsync(["certs", "issue", "--chapter", "France", "--dir", certs])
        #expect(bad.status != 0 && bad.stderr.contains(ChapterID.rule))
        let badHost = try await AcesProcess.runAsync(["certs", "issue", "--chapter", "de", "--dir", certs, "--host", "no way"])
        #expect(badHost.status != 0 && !FileManager.default.fileExists(atPath: certs + "/de-key.pem"))

        let issued = try await AcesProcess.runAsync([
            "certs", "issue", "--chapter", "fr", "--dir", certs, "--host", "fr.aces.example", "--json",
        ])
        #expect(issued.status == 0, "\(issued.stderr)")
        #expect(try mode(certs + "/fr-key.pem") == 0o600)
        #expect(FederationCA.chapter(ofPEM: try String(contentsOfFile: certs + "/fr.pem", encoding: .utf8)) == fr)
        let twice = try await AcesProcess.runAsync(["certs", "issue", "--chapter", "fr", "--dir", certs])
        #expect(twice.status != 0 && twice.stderr.contains("already exists; remove it first"))
        for output in [created, issued, missing, bad, twice] { #expect(!(output.stdout + output.stderr).contains("PRIVATE KEY")) }
    }

    @Test func mutualTLSOverLoopbackNamesTheClientsChapter() async throws {
        let ca = try FederationCA.create()
        let server = try FederationCA.issue(chapter: ChapterID("uk")!, ca: ca)
        let client = try FederationCA.issue(chapter: fr, ca: ca)
        #expect(try await handshake(server: server, client: client, ca: ca) == fr)
        // Without a host name the client checks the server's IP address SAN (127.0.0.1).
        #expect(try await handshake(server: server, client: client, ca: ca, serverHostname: nil) == fr)
        let rogue = try FederationCA.issue(chapter: fr, ca: try FederationCA.create(name: "Rogue CA"))
        #expect(try await handshake(server: server, client: rogue, ca: ca) == nil)
    }

    // MARK: helpers

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    /// Connects `client` to `server` over loopback with mutual TLS; the chapter the server read from the client's
    /// certificate, or nil when the handshake failed.
    func handshake(
        server: IssuedCertificate, client: IssuedCertificate, ca: IssuedCertificate, serverHostname: String? = "localhost"
    ) async throws -> ChapterID? {
        func tls(_ issued: IssuedCertificate) throws -> (NIOSSLCertificate, NIOSSLPrivateKey) {
            (
                try NIOSSLCertificate(bytes: Array(issued.certificatePEM.utf8), format: .pem),
                try NIOSSLPrivateKey(bytes: Array(issued.privateKeyPEM.utf8), format: .pem)
            )
        }
        let root = try NIOSSLCertificate(bytes: Array(ca.certificatePEM.utf8), format: .pem)
        let (serverCert, serverKey) = try tls(server)
        let (clientCert, clientKey) = try tls(client)
        let serverContext = try NIOSSLContext(
            configuration: .makeServerConfigurationWithMTLS(
                certificateChain: [.certificate(serverCert)], privateKey: .privateKey(serverKey), trustRoots: .certificates([root])))
        var clientConfig = TLSConfiguration.makeClientConfiguration()
        clientConfig.certificateChain = [.certificate(clientCert)]
        clientConfig.privateKey = .privateKey(clientKey)
        clientConfig.trustRoots = .certificates([root])
        let clientContext = try NIOSSLContext(configuration: clientConfig)

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let peer = group.next().makePromise(of: ChapterID?.self)
        let listener = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: serverContext))
                    try channel.pipeline.syncOperations.addHandler(PeerChapter(peer))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let connection = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: clientContext, serverHostname: serverHostname))
                }
            }
            .connect(host: "127.0.0.1", port: listener.localAddress!.port!).get()
        // A guard against a handshake that hangs, started once connected: the time this task waits
        // for a thread of the concurrency pool on a loaded machine is not the handshake's.
        connection.eventLoop.scheduleTask(in: .seconds(30)) { peer.fail(ChannelError.connectTimeout(.seconds(30))) }
        let result = try await peer.futureResult.get()
        try? await connection.close()
        try? await listener.close()
        try await group.shutdownGracefully()
        return result
    }
}

/// Completes with the client's chapter when the server's handshake completes, nil when it fails or closes first.
final class PeerChapter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<ChapterID?>

    init(_ promise: EventLoopPromise<ChapterID?>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .handshakeCompleted = event as? TLSUserEvent {
            let certificate = try? context.channel.pipeline.syncOperations.nioSSL_peerCertificate()
            promise.succeed(certificate.flatMap { FederationCA.chapter(of: $0) })
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
