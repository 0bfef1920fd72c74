import AcesCore
import AcesStore
import ArgumentParser
import Foundation
import Logging

/// Scenario 2: importing N new members from a spreadsheet through `aces member import`'s own
/// code (`ImportBench`), then an empty node, in its own process, catching up with what the import
/// wrote over HTTPS with mutual TLS: so that a faster import never makes its readers slower. The
/// catch-up must end on the importer's state digest.
struct AuthoringBench {
    let members: Int
    let rounds: Int
    let root: String
    let logger: Logger

    func run() async throws -> [Figure] {
        var authoring = Figure(name: "authoring.entries_per_s", unit: "members/s", values: [])
        var perEntry = Figure(name: "authoring.members_per_entry", unit: "members", values: [])
        var catchup = Figure(name: "authoring.catchup_members_per_s", unit: "members/s", values: [])
        var bytes = Figure(name: "authoring.catchup_bytes_per_member", unit: "bytes", values: [])
        var rss = Figure(name: "authoring.catchup_peak_rss_mb", unit: "MB", values: [])
        for round in 0...rounds {
            let dir = root + "/authoring-\(round)"
            let (fr, de) = try PullPair.make(at: dir)
            let rate = try ImportBench(members: members).run(into: fr)
            let head = try await fr.openStore().heads().first { $0.origin == fr.chapter }?.seq ?? 0
            let pull = try await PullPair.pull(from: fr, into: de, expecting: head, logger: logger)
            guard try await fr.openStore().stateDigest() == de.openStore().stateDigest() else {
                throw ValidationError("the node that caught up with the import does not hold the importer's state")
            }
            if round > 0 {
                authoring.values.append(rate)
                perEntry.values.append(Double(members) / Double(max(head, 1)))
                catchup.values.append(Double(members) / pull.seconds)
                bytes.values.append(pull.bytes / Double(members))
                rss.values.append(pull.peakRSSMegabytes)
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
        return [authoring, perEntry, catchup, bytes, rss]
    }
}
