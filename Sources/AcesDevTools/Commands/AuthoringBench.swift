import AcesCore
import AcesServer
import AcesStore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

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
            let ports = LocalFederation.freePorts(4)
            let nodes = try LocalFederation.create(
                at: dir, chapters: [ChapterID("fr")!, ChapterID("de")!], ports: [(ports[0], ports[1]), (ports[2], ports[3])],
                syncInterval: 3600)
            let fr = nodes[0], de = nodes[1]
            let rate = try ImportBench(members: members).run(into: fr)
            let head = try await fr.openStore().heads().first { $0.origin == fr.chapter }?.seq ?? 0
            var deConfig = de.config
            deConfig.sync?.timeoutSeconds = 600
            _ = try de.saving(deConfig)

            let server = try NodeServer(directory: fr, logger: logger)
            let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
            let task = Task { try await group.run() }
            _ = await server.waitUntilListening()
            // Waited for off the concurrency pool, whose two threads the serving node needs.
            let child = try await ChildProcess.runAsync(["sync", "--data", de.path, "--peer", "fr", "--json"])
            await group.triggerGracefulShutdown()
            _ = try? await task.value
            guard child.status == 0, let report = try JSONParser.parse(child.stdout).arrayValue?.first,
                let seconds = report["seconds"]?.doubleValue, let applied = report["applied"]?["fr"]?.intValue, Int64(applied) == head
            else { throw ValidationError("the catch-up of the import did not complete: \(child.stdout) \(child.stderr)") }
            guard try await fr.openStore().stateDigest() == de.openStore().stateDigest() else {
                throw ValidationError("the node that caught up with the import does not hold the importer's state")
            }
            if round > 0 {
                authoring.values.append(rate)
                perEntry.values.append(Double(members) / Double(max(head, 1)))
                catchup.values.append(Double(members) / seconds)
                bytes.values.append((report["bytes"]?.doubleValue ?? 0) / Double(members))
                rss.values.append(report["peak_rss_mb"]?.doubleValue ?? 0)
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
        return [authoring, perEntry, catchup, bytes, rss]
    }
}
