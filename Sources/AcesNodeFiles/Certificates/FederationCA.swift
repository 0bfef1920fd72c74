import AcesCore
import Crypto
import Foundation
import SwiftASN1
import X509

/// PEM text of a certificate and its private key.
///
/// `description`, `debugDescription` and the reflection mirror leave the private key out, so printing or
/// dumping a value never shows key material.
public struct IssuedCertificate: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The certificate, one `-----BEGIN CERTIFICATE-----` block.
    public let certificatePEM: String
    /// The certificate's private key, PKCS#8 PEM. Keep it secret.
    public let privateKeyPEM: String

    /// Pairs a certificate with its private key, for example after reading both from files.
    public init(certificatePEM: String, privateKeyPEM: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// The certificate's subject; never the private key.
    public var description: String {
        let subject = (try? Certificate(pemEncoded: certificatePEM)).map { String(describing: $0.subject) } ?? "unreadable certificate"
        return "IssuedCertificate(\(subject), private key redacted)"
    }

    /// Same as `description`: the private key is never shown.
    public var debugDescription: String { description }

    /// A mirror without the private key, for `dump` and test failure messages.
    public var customMirror: Mirror {
        Mirror(self, children: ["certificatePEM": certificatePEM, "privateKeyPEM": "<redacted>"], displayStyle: .struct)
    }
}

/// Why a certificate could not be made, read or written: one sentence for a person, never key material.
public struct CertificateError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The sentence shown to the user.
    public let message: String

    /// An error with the sentence shown to the user.
    public init(_ message: String) { self.message = message }

    /// The sentence shown to the user.
    public var description: String { message }
}

/// The federation's certificate authority: creates the CA, issues node certificates and reads a peer's chapter.
///
/// Every node presents a certificate signed by the federation CA, for both the server and the client side of
/// mutual TLS. A node certificate names its chapter twice: the subject CN (`CN=fr, O=Aces federation`) and a URI
/// subject alternative name `aces:chapter:fr`. Keys are ECDSA P-256 (the simplest choice for TLS on both ends).
public enum FederationCA {
    /// The organisation (O) in every subject this tooling writes.
    public static let organization = "Aces federation"
    /// The URI subject alternative name prefix that names a node's chapter: `aces:chapter:<id>`.
    public static let chapterURIPrefix = "aces:chapter:"
    /// How far `notValidBefore` is set before `now`, so a peer whose clock runs a little slow accepts a new certificate.
    public static let clockSkewAllowance: TimeInterval = 5 * 60

    /// A new self-signed federation CA (P-256, 10 years, BasicConstraints CA, KeyUsage keyCertSign+cRLSign), subject CN=<name>, O=Aces federation.
    ///
    /// The CA may sign node certificates only (path length 0). Its serial number is random.
    public static func create(name: String = "Aces federation CA", now: Date = Date()) throws -> IssuedCertificate {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 64 else {
            throw CertificateError("the CA name must be 1 to 64 characters")
        }
        let key = P256.Signing.PrivateKey()
        let privateKey = Certificate.PrivateKey(key)
        // O before CN in the encoded sequence: printed (RFC 4514, last first) as "CN=…,O=Aces federation".
        let subject = try DistinguishedName {
            OrganizationName(organization)
            CommonName(trimmed)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: privateKey.publicKey)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: privateKey.publicKey,
            notValidBefore: now.addingTimeInterval(-clockSkewAllowance),
            notValidAfter: try adding(years: 10, to: now),
            issuer: subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: extensions,
            issuerPrivateKey: privateKey
        )
        return IssuedCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// A node certificate for `chapter` signed by the CA: P-256, 2 years (not after the CA), subject CN=<chapter id>, O=Aces federation,
    /// ExtendedKeyUsage serverAuth+clientAuth, KeyUsage digitalSignature, BasicConstraints not CA, SubjectAlternativeNames with DNS names and IP addresses
    /// from `hosts` (default ["localhost", "127.0.0.1", "::1"]), and also a URI SAN "aces:chapter:<id>". Serial numbers random.
    ///
    /// `validFrom` and `validUntil` replace the validity window when given, as they are (for tests and drills:
    /// an expired or a not-yet-valid certificate).
    ///
    /// Throws ``CertificateError`` when the CA files do not hold a CA certificate and its matching private key, when
    /// the CA has expired, or when a host is neither a DNS name nor an IP address.
    public static func issue(
        chapter: ChapterID, ca: IssuedCertificate, hosts: [String] = ["localhost", "127.0.0.1", "::1"], now: Date = Date(),
        validFrom: Date? = nil, validUntil: Date? = nil
    ) throws -> IssuedCertificate {
        let key = P256.Signing.PrivateKey()
        let certificate = try sign(
            publicKey: Certificate.PrivateKey(key).publicKey, chapter: chapter, ca: ca, hosts: hosts, now: now, validFrom: validFrom,
            validUntil: validUntil)
        return IssuedCertificate(certificatePEM: try certificate.serializeAsPEM().pemString, privateKeyPEM: key.pemRepresentation)
    }

    /// The node certificate `issue` describes, for a public key whose private half stays with the node.
    static func sign(
        publicKey: Certificate.PublicKey, chapter: ChapterID, ca: IssuedCertificate, hosts: [String], now: Date, validFrom: Date? = nil,
        validUntil: Date? = nil
    ) throws -> Certificate {
        let (caCertificate, caKey) = try loadCA(ca)
        guard now < caCertificate.notValidAfter else {
            throw CertificateError("the federation CA expired on \(caCertificate.notValidAfter); create a new CA")
        }
        let names = try subjectAlternativeNames(hosts: hosts) + [.uniformResourceIdentifier(chapterURIPrefix + chapter.rawValue)]
        let subject = try DistinguishedName {
            OrganizationName(organization)
            CommonName(chapter.rawValue)
        }
        let authorityKeyID =
            (try? caCertificate.extensions.subjectKeyIdentifier)?.keyIdentifier
            ?? SubjectKeyIdentifier(hash: caCertificate.publicKey).keyIdentifier
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true))
            try ExtendedKeyUsage([.serverAuth, .clientAuth])
            SubjectAlternativeNames(names)
            SubjectKeyIdentifier(hash: publicKey)
            AuthorityKeyIdentifier(keyIdentifier: authorityKeyID)
        }
        return try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: publicKey,
            notValidBefore: validFrom ?? max(now.addingTimeInterval(-clockSkewAllowance), caCertificate.notValidBefore),
            notValidAfter: try validUntil ?? min(adding(years: 2, to: now), caCertificate.notValidAfter),
            issuer: caCertificate.subject,
            subject: subject,
            signatureAlgorithm: try signatureAlgorithm(for: caKey),
            extensions: extensions,
            issuerPrivateKey: caKey
        )
    }

    /// The CA certificate and key from PEM text, checked: a CA certificate, and a key that belongs to it.
    static func loadCA(_ ca: IssuedCertificate) throws -> (Certificate, Certificate.PrivateKey) {
        let certificate: Certificate
        do {
            certificate = try Certificate(pemEncoded: ca.certificatePEM)
        } catch {
            throw CertificateError("the CA certificate is not a PEM certificate (\(error))")
        }
        let key: Certificate.PrivateKey
        do {
            key = try Certificate.PrivateKey(pemEncoded: ca.privateKeyPEM)
        } catch {
            // The underlying error is left out on purpose: it could quote the key text.
            throw CertificateError("the CA private key is not a PEM private key")
        }
        guard case .isCertificateAuthority = (try? certificate.extensions.basicConstraints) ?? .notCertificateAuthority else {
            throw CertificateError("the CA certificate (\(certificate.subject)) is not a certificate authority")
        }
        guard key.publicKey == certificate.publicKey else {
            throw CertificateError("the CA private key does not belong to the CA certificate (\(certificate.subject))")
        }
        return (certificate, key)
    }

    /// ECDSA with SHA-256 for a P-256 CA key; otherwise the key's first supported algorithm.
    static func signatureAlgorithm(for key: Certificate.PrivateKey) throws -> Certificate.SignatureAlgorithm {
        let supported = key.supportedSignatureAlgorithms
        if supported.contains(.ecdsaWithSHA256) { return .ecdsaWithSHA256 }
        guard let first = supported.first else { throw CertificateError("the CA private key cannot sign certificates") }
        return first
    }

    /// `date` plus whole calendar years (UTC).
    static func adding(years: Int, to date: Date) throws -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let result = calendar.date(byAdding: .year, value: years, to: date) else {
            throw CertificateError("cannot compute a validity period from \(date)")
        }
        return result
    }
}
