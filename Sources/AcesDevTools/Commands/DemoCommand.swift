import AcesCore
import AcesServer
import AcesStore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start a three-chapter federation (fr, uk, de) in one process with sample data, and show it syncing.",
        discussion: "Creates the federation in a temporary folder (or --dir), seeds members and events, and runs until Ctrl-C.")
    @Option(help: "Folder for the federation (default: a new temporary folder).") var dir: String?
    @Option(help: "Members to create across the three chapters.") var members = 300
    @Option(help: "First port; chapter i listens on base+2i (web) and base+2i+1 (federation).") var basePort = 7100
    @Option(help: "Stop by itself after this many seconds (default: run until Ctrl-C).") var seconds: Double?

    func validate() throws {
        guard (3...100_000).contains(members) else { throw ValidationError("--members must be from 3 to 100000") }
        guard (1024...65_000).contains(basePort) else { throw ValidationError("--base-port must be from 1024 to 65000") }
        if let seconds, seconds <= 0 { throw ValidationError("--seconds must be positive") }
    }

    func run() async throws {
        for port in basePort..<(basePort + 6) where !PortCheck.canListen(host: "127.0.0.1", port: port) {
            throw ValidationError("port \(port) is in use; choose other ports with --base-port (the demo uses six from it)")
        }
        let base = dir ?? (NSTemporaryDirectory() + "aces-demo-" + UUID().uuidString.prefix(8).lowercased())
        let chapters = ["fr", "uk", "de"].compactMap(ChapterID.init)
        let nodes = try LocalFederation.create(at: base, chapters: chapters, basePort: basePort, syncInterval: 10)
        say("Federation of \(chapters.count) chapters in \(base)")
        for (i, node) in nodes.enumerated() {
            let author = try node.author()
            var sample = SampleData(seed: UInt64(i + 1))
            let count = members / nodes.count
            let start = Date()
            try node.openStore().authorMany(as: author, count: count + 4) { _, k in
                if k < count {
                    return [
                        .set(
                            .member, id: RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin),
                            values: sample.member(chapter: node.chapter, n: k))
                    ]
                }
                return [
                    .set(
                        .event, id: RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin),
                        values: sample.event(chapter: node.chapter, from: Date(), daysAhead: 5 + (k - count) * 11 + i * 3))
                ]
            }
            say(
                "  \(node.chapter): authored \(count) members and 4 events as signed entries in \(Int(Date().timeIntervalSince(start) * 1000)) ms"
            )
        }
        var logger = Logger(label: "aces-demo")
        logger.logLevel = ProcessInfo.processInfo.environment["ACES_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        var servers = [NodeServer]()
        for node in nodes {
            var l = logger
            l[metadataKey: "aces.chapter"] = "\(node.chapter)"
            servers.append(try NodeServer(directory: node, logger: l))
        }
        // The nodes stop together: each holds connections to the others, so stopping them one
        // by one would make each wait for its peers' connections to close.
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: NodesService(servers: servers)),
            .init(service: DemoMonitor(servers: servers, seconds: seconds), successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        say("Stopped. The data stays in \(base).")
    }
}

/// Several nodes run as one service, so a graceful shutdown reaches them all at once.
struct NodesService: Service {
    let servers: [NodeServer]
    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for s in servers { group.addTask { try await s.run() } }
        }
    }
}

/// Shows the federation converging, times one edit's trip through it, and prints where to look.
/// The first SIGTERM or Ctrl-C stops it whatever it is doing, `--seconds` or not.
struct DemoMonitor: Service {
    let servers: [NodeServer]
    let seconds: Double?

    func run() async throws {
        do { try await cancelWhenGracefulShutdown { try await show() } } catch is CancellationError {}
    }

    private func show() async throws {
        for s in servers { _ = await s.waitUntilListening() }
        let start = Date()
        let converged = try await Convergence.wait(servers.map(\.store), seconds: 60)
        say(
            converged
                ? "All three nodes hold the same state (digest \(try await servers[0].store.stateDigest().hex.prefix(16))…) after \(Int(Date().timeIntervalSince(start) * 1000)) ms."
                : "The nodes have not converged after 60 s; see 'aces peers'.")
        if converged, let trip = try await Convergence.timeOneEdit(from: servers[0], to: Array(servers.dropFirst())) {
            say("One edit on \(servers[0].directory.chapter) reached every other node in \(Int(trip * 1000)) ms.")
        }
        say()
        for s in servers {
            let d = s.directory
            let web = d.config.web?.url ?? ""
            say("  \(d.chapter)  directory \(web)/    calendar \(web)/events    feed \(web)/events.ics")
            say("      API \(web)/api/v1/members?q=lyon    status \(web)/api/v1/status")
            say("      aces member list --data \(d.path)    aces peers --data \(d.path)")
        }
        say()
        say(seconds == nil ? "Press Ctrl-C to stop." : "Stopping after \(Int(seconds!)) s.")
        if let seconds {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        } else {
            try await gracefulShutdown()
        }
    }
}

/// Prints a line of the demo and flushes it at once, so it is there even when standard output
/// is a pipe or a file (block-buffered otherwise) and the demo is stopped.
private func say(_ line: String = "") {
    print(line)
    fflush(nil)
}
