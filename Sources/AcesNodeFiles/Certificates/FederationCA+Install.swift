import AcesCore
import Foundation
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension NodeDirectory {
    /// Replaces the node's TLS certificate and key with `issued`, after the checks `aces serve`
    /// makes (signed by the federation CA the node uses, for this chapter, valid now, the key
    /// matching): a bad certificate is refused with its sentence and nothing is written. Each
    /// file is written beside its target, with the target's owner, and renamed over it (key first, mode 0600), so a
    /// running node never reads half a file; it takes the pair for its next connections.
    public func installCertificate(_ issued: IssuedCertificate, now: Date = Date()) throws {
        guard let f = config.federation else {
            throw NodeError.config("this node has no [federation] in aces.toml, so no TLS certificate to replace")
        }
        let certificate = resolve(f.certificate)
        let key = resolve(f.privateKey)
        let staging = path + "/.certificate-check"
        try? FileManager.default.removeItem(atPath: staging)
        try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(atPath: staging) }
        try FederationCA.write(issued, certificate: staging + "/new.pem", privateKey: staging + "/new-key.pem")
        let report = CertificateCheck.files(
            certificate: staging + "/new.pem", privateKey: staging + "/new-key.pem", ca: resolve(f.ca), chapter: chapter, now: now)
        if let problem = report.problems.first {
            throw NodeError.config(
                "the new certificate is refused, nothing was replaced: \(problem.replacingOccurrences(of: staging + "/new-key.pem", with: "(new key)").replacingOccurrences(of: staging + "/new.pem", with: "(new certificate)"))"
            )
        }
        for (file, text, mode) in [(key, issued.privateKeyPEM, mode_t(0o600)), (certificate, issued.certificatePEM, mode_t(0o644))] {
            let temporary = file + ".new"
            _ = unlink(temporary)
            try FederationCA.createExclusively(temporary, contents: Array(text.utf8), mode: mode)
            // Keep the owner of the file it replaces (run as root for a node that runs as 'aces').
            var old = stat()
            if stat(file, &old) == 0 { _ = chown(temporary, old.st_uid, old.st_gid) }
            guard rename(temporary, file) == 0 else {
                let why = String(cString: strerror(errno))
                _ = unlink(temporary)
                throw NodeError.config("cannot replace \(file): \(why)")
            }
        }
    }

    /// The DNS names and IP addresses the node's current certificate names, to issue its next one for the same hosts.
    public func certificateHosts() -> [String] {
        guard let f = config.federation, let text = try? String(contentsOfFile: resolve(f.certificate), encoding: .utf8),
            let cert = try? Certificate(pemEncoded: FederationCA.firstPEMBlock(text)),
            let names = try? cert.extensions.subjectAlternativeNames
        else { return [] }
        return names.compactMap { name in
            switch name {
            case .dnsName(let d): return d
            case .ipAddress(let bytes):
                let b = Array(bytes.bytes)
                if b.count == 4 { return b.map(String.init).joined(separator: ".") }
                guard b.count == 16 else { return nil }
                var address = in6_addr()
                withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: b) }
                var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
                return String(cString: buffer)
            default: return nil
            }
        }
    }
}
