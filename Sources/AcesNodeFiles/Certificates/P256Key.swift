import AcesCore
import Crypto
import Foundation
import X509

/// A node's TLS key made on its own machine, and the certificate request the root signs.
struct P256Key {
    let key = P256.Signing.PrivateKey()

    var pem: String { key.pemRepresentation }

    /// A PKCS#10 request, CN=<chapter>, O=Aces federation, signed by this key.
    func request(chapter: ChapterID) throws -> String {
        let subject = try DistinguishedName {
            OrganizationName(FederationCA.organization)
            CommonName(chapter.rawValue)
        }
        let csr = try CertificateSigningRequest(
            version: .v1, subject: subject, privateKey: Certificate.PrivateKey(key), attributes: .init(),
            signatureAlgorithm: .ecdsaWithSHA256)
        return try csr.serializeAsPEM().pemString
    }
}
