import AcesCore
import Foundation
import NIOSSL
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension FederationCA {
    /// The chapter a peer certificate names (the CN, which must be a valid chapter id and match the aces:chapter: URI SAN when present); nil otherwise.
    ///
    /// This reads names only: it does not check the signature or the validity period. Call it on a certificate
    /// the TLS handshake has already verified against the federation CA, for example the result of
    /// `channel.nioSSL_peerCertificate()` on a server that requires client certificates.
    /// Also nil for a CA certificate, a subject with more than one CN, or a certificate that cannot be parsed.
    public static func chapter(of certificate: NIOSSLCertificate) -> ChapterID? {
        guard let der = try? certificate.toDERBytes(), let parsed = try? Certificate(derEncoded: der) else { return nil }
        return chapter(of: parsed)
    }

    /// The chapter a PEM certificate names, by the same rules as ``chapter(of:)-(NIOSSLCertificate)``; nil otherwise.
    /// When the text holds several certificates (a chain), the first one is read.
    public static func chapter(ofPEM pem: String) -> ChapterID? {
        guard let parsed = try? Certificate(pemEncoded: firstPEMBlock(pem)) else { return nil }
        return chapter(of: parsed)
    }

    /// The chapter a parsed certificate names; nil when it names none or names it inconsistently.
    public static func chapter(of certificate: Certificate) -> ChapterID? {
        if case .isCertificateAuthority = (try? certificate.extensions.basicConstraints) ?? .notCertificateAuthority { return nil }
        let commonNames = certificate.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }
        guard commonNames.count == 1, let cn = String(commonNames[0].value), let chapter = ChapterID(cn) else { return nil }
        let names: SubjectAlternativeNames?
        do {
            names = try certificate.extensions.subjectAlternativeNames
        } catch {
            return nil
        }
        for name in names ?? SubjectAlternativeNames() {
            guard case .uniformResourceIdentifier(let uri) = name,
                uri.lowercased().hasPrefix(chapterURIPrefix)
            else { continue }
            guard uri.dropFirst(chapterURIPrefix.count) == chapter.rawValue[...] else { return nil }
        }
        return chapter
    }

    /// The text up to the end of the first PEM block, so a chain file parses as its first certificate.
    static func firstPEMBlock(_ pem: String) -> String {
        let end = "-----END CERTIFICATE-----"
        guard let range = pem.range(of: end) else { return pem }
        return String(pem[..<range.upperBound])
    }

    /// Subject alternative names for `hosts`: IP addresses as `iPAddress` (4 or 16 bytes), the rest as `dNSName`.
    /// Duplicates are dropped; IPv6 literals may be written in brackets (`[::1]`).
    static func subjectAlternativeNames(hosts: [String]) throws -> [GeneralName] {
        var names: [GeneralName] = []
        for raw in hosts {
            var host = raw.trimmingCharacters(in: .whitespaces)
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            let name: GeneralName
            if let bytes = ipAddressBytes(host) {
                name = .ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes)))
            } else if isDNSName(host) {
                name = .dnsName(host.lowercased())
            } else {
                throw CertificateError("'\(raw)' is neither a DNS name nor an IP address")
            }
            if !names.contains(name) { names.append(name) }
        }
        return names
    }

    /// The 4 (IPv4) or 16 (IPv6) bytes of an IP address literal; nil when `host` is not one.
    public static func ipAddressBytes(_ host: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// A host name of letters, digits and '-' labels separated by dots (an optional leading `*.` wildcard), at most 253 characters.
    static func isDNSName(_ host: String) -> Bool {
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.first == "*", labels.count > 2 { labels.removeFirst() }
        guard !host.isEmpty, host.utf8.count <= 253 else { return false }
        return labels.allSatisfy { label in
            (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                && label.utf8.allSatisfy { b in
                    (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b)
                        || b == UInt8(ascii: "-")
                }
        }
    }
}
