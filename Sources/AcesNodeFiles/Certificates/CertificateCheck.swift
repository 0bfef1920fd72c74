import AcesCore
import Foundation
import X509

/// Checks a node's TLS files, and explains a peer's certificate, in sentences an operator can act on:
/// outside its validity window (not yet valid is said as such, never as expired), not signed by the
/// federation CA, not matching its private key, naming another chapter, a key others can read.
public enum CertificateCheck {
    /// A certificate due to expire within this many days raises a warning.
    public static let warningDays = 30

    /// What was found in a node's TLS files: the sentences that refuse them, the warnings, and when
    /// the certificate ends (nil when it could not be read).
    public struct Report: Sendable {
        public var problems: [String] = []
        public var warnings: [String] = []
        public var notValidAfter: Date?
    }

    /// Checks the certificate, private key and CA files of a node of `chapter`, as they are at `now`.
    public static func files(certificate: String, privateKey: String, ca: String, chapter: ChapterID, now: Date = Date()) -> Report {
        var report = Report()
        if let problem = KeyFile.permissionProblem(privateKey, what: "TLS private key") { report.problems.append(problem) }
        let caCert: Certificate
        let cert: Certificate
        do {
            caCert = try read(ca, what: "federation CA certificate")
            cert = try read(certificate, what: "TLS certificate")
        } catch {
            report.problems.append(error.message)
            return report
        }
        report.notValidAfter = cert.notValidAfter
        guard let keyText = try? String(contentsOfFile: privateKey, encoding: .utf8) else {
            report.problems.append("the TLS private key file \(privateKey) cannot be read: check that it exists and its owner")
            return report
        }
        if let key = try? Certificate.PrivateKey(pemEncoded: keyText) {
            if key.publicKey != cert.publicKey {
                report.problems.append(
                    "the TLS private key \(privateKey) does not belong to the certificate \(certificate): install the key that was issued with it"
                )
            }
        } else {
            report.problems.append("the TLS private key file \(privateKey) does not hold a PEM private key")
        }
        if let why = signedProblem(cert, by: caCert) {
            report.problems.append(
                "the TLS certificate \(certificate) \(why) in \(ca): ask the federation CA for a certificate and install it with 'aces certs install'"
            )
        }
        if let named = FederationCA.chapter(of: cert), named != chapter {
            report.problems.append(
                "the TLS certificate \(certificate) names chapter '\(named)', not this node's '\(chapter)': install \(chapter)'s certificate"
            )
        } else if FederationCA.chapter(of: cert) == nil {
            report.problems.append(
                "the TLS certificate \(certificate) names no chapter: ask the federation CA for a certificate for '\(chapter)'")
        }
        if let why = validityProblem(cert, now: now) {
            report.problems.append("the TLS certificate \(certificate) \(why)")
        } else if let soon = expiryWarning(cert.notValidAfter, now: now) {
            report.warnings.append("this node's TLS certificate \(soon)")
        }
        if let why = validityProblem(caCert, now: now) { report.problems.append("the federation CA certificate \(ca) \(why)") }
        return report
    }

    /// Why `certificate` cannot be used at `now`, as the end of a sentence ("expired on 2026-11-30: …"); nil when it can.
    public static func validityProblem(_ certificate: Certificate, now: Date = Date()) -> String? {
        if now < certificate.notValidBefore {
            return
                "is not valid until \(day(certificate.notValidBefore)) (UTC): check this machine's clock, or ask the federation CA for one valid now"
        }
        if now >= certificate.notValidAfter {
            return "expired on \(day(certificate.notValidAfter)): ask the federation CA for a new one"
        }
        return nil
    }

    /// "expires on 2026-12-20, in 18 days: …" when `notValidAfter` is within ``warningDays`` of `now`.
    public static func expiryWarning(_ notValidAfter: Date, now: Date = Date()) -> String? {
        let days = Int(notValidAfter.timeIntervalSince(now) / 86_400)
        guard now < notValidAfter, days < warningDays else { return nil }
        return "expires on \(day(notValidAfter)), in \(days) day\(days == 1 ? "" : "s"): ask the federation CA for a new one"
    }

    /// Why `certificate` is not one `ca` signed ("is not signed by the federation CA"); nil when it is.
    static func signedProblem(_ certificate: Certificate, by ca: Certificate) -> String? {
        guard certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate) else {
            return "is not signed by the federation CA"
        }
        return nil
    }

    /// What is wrong with a peer's certificate, as a sentence naming the peer, the cause and the fix;
    /// nil when nothing this node checks is wrong with it.
    public static func explainPeer(_ peer: ChapterID, certificate: Certificate, ca: Certificate, now: Date = Date()) -> String? {
        if signedProblem(certificate, by: ca) != nil {
            return "\(peer)'s certificate is not signed by this federation's CA: \(peer) must install a certificate from the federation CA"
        }
        if now < certificate.notValidBefore {
            return
                "\(peer)'s certificate is not valid until \(day(certificate.notValidBefore)) (UTC): \(peer)'s operator must install one valid now, or this machine's clock is wrong"
        }
        if now >= certificate.notValidAfter {
            return "\(peer)'s certificate expired on \(day(certificate.notValidAfter)): ask the federation CA for a new one"
        }
        if let named = FederationCA.chapter(of: certificate), named != peer {
            return "\(peer)'s URL answers with the certificate of '\(named)': check federation_url in \(peer)'s roster file"
        }
        return nil
    }

    /// A day as `2026-11-30` (UTC).
    public static func day(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: date)
    }

    public struct Problem: Error {
        public let message: String
    }

    /// The first certificate of a PEM file, or a sentence naming the file.
    public static func read(_ file: String, what: String) throws(Problem) -> Certificate {
        guard FileManager.default.fileExists(atPath: file) else { throw Problem(message: "the \(what) file \(file) does not exist") }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let certificate = try? Certificate(pemEncoded: FederationCA.firstPEMBlock(text))
        else { throw Problem(message: "the \(what) file \(file) does not hold a PEM certificate") }
        return certificate
    }
}

/// Private key files: only their owner may read them.
public enum KeyFile {
    /// "the … file … is readable by group or others (mode 644); run 'chmod 600 …'", or nil when only its owner can read it
    /// (or it is missing: that is said elsewhere).
    public static func permissionProblem(_ file: String, what: String) -> String? {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: file),
            let mode = (attrs[.posixPermissions] as? NSNumber)?.intValue
        else { return nil }
        guard mode & 0o077 != 0 else { return nil }
        return "the \(what) file \(file) is readable by group or others (mode \(String(mode, radix: 8))); run 'chmod 600 \(file)'"
    }
}
