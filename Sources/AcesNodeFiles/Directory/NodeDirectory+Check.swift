import AcesCore
import Foundation

/// What `aces config check` and `aces serve` found in a node's files before it serves.
public struct ConfigReport: Sendable {
    /// Each mistake that stops the node, one sentence each.
    public var problems: [String] = []
    /// What works now but needs an operator soon (a certificate about to expire).
    public var warnings: [String] = []
    /// When the node's own TLS certificate ends, if it has one that could be read.
    public var certificateNotValidAfter: Date?

    public var isValid: Bool { problems.isEmpty }
}

extension NodeDirectory {
    /// Checks what `aces.toml` names, beyond its own syntax (which opening the directory checked):
    /// the roster files (unknown settings included), `[sync] peers` against the roster, the signing
    /// and TLS key files' permissions, and the TLS certificate (validity window, signed by the
    /// federation CA, matching its key, naming this chapter). Reads files: call it before serving,
    /// never from a request.
    public func check(now: Date = Date()) -> ConfigReport {
        var report = ConfigReport()
        for k in config.keys {
            guard let file = k.file else { continue }
            if let problem = KeyFile.permissionProblem(resolve(file), what: "signing key") { report.problems.append(problem) }
        }
        if report.problems.isEmpty {
            do { _ = try signingKey() } catch { report.problems.append("\(error)") }
        }
        var roster: Roster?
        do { roster = try self.roster() } catch { report.problems.append("\(error)") }
        if let peers = config.sync?.peers {
            if let roster {
                let known = Set(roster.chapters.map(\.id))
                for peer in peers where !known.contains(peer) {
                    report.problems.append(
                        "aces.toml: sync.peers names '\(peer)', which is not a chapter of the roster (\(known.sorted().joined(separator: ", "))); remove it or add its roster file"
                    )
                }
            } else if config.roster == nil, !peers.isEmpty {
                report.problems.append("aces.toml: sync.peers names chapters but aces.toml names no roster; add roster = 'chapters'")
            }
        }
        if let f = config.federation {
            let tls = CertificateCheck.files(
                certificate: resolve(f.certificate), privateKey: resolve(f.privateKey), ca: resolve(f.ca), chapter: chapter, now: now)
            report.problems += tls.problems
            report.warnings += tls.warnings
            report.certificateNotValidAfter = tls.notValidAfter
        }
        return report
    }
}
