import AcesCore
import AcesFederation
import AcesNodeFiles
import AcesServer
import AcesStore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

struct RosterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: "The federation's signed roster: create it, approve a chapter that joins, retire one, install, show, export.",
        discussion: """
            The federation CA's holder is the roster's root: 'init', 'approve' and 'retire' sign with the roster key kept \
            beside the CA (--dir certs). Nodes verify every version with the root key and pass it on with sync. \
            Example: aces roster approve es.request --dir certs --data /var/lib/aces > es.bundle
            """,
        subcommands: [
            InitRoot.self, Approve.self, Retire.self, Install.self, Show.self, Export.self, Publish.self,
        ])

    struct Publish: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write this node's public signing keys and URLs into its chapter's roster file.")
        @OptionGroup var node: NodeOptions

        func run() throws {
            let dir = try node.node()
            try dir.publishToRoster()
            Out.line("Updated \(dir.resolve(dir.config.roster ?? "chapters"))/\(dir.chapter).toml")
        }
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the node: federation listener (mutual TLS), public listener and sync with peers.",
        discussion:
            "Stops cleanly on SIGTERM or SIGINT (Ctrl-C). The CLI keeps working on the same data directory while it runs. One serve runs per data directory: a second one refuses, naming the process that runs."
    )
    @OptionGroup var node: NodeOptions
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = "info"
    @Option(help: "Log format: text (for people) or json (one object per line, for log shippers).") var logFormat = "text"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be trace, debug, info, notice, warning, error or critical")
        }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
    }

    func run() async throws {
        let dir = try node.node()
        // The same checks, and sentences, as 'aces config check', before anything listens.
        let report = dir.check()
        guard report.isValid else { throw CLIError(report.problems.joined(separator: "\n")) }
        let lock = try dir.lockForServing()
        defer { withExtendedLifetime(lock) {} }
        if logFormat == "json" { LoggingSystem.bootstrap { JSONLogHandler(label: $0) } }
        var logger = Logger(label: "aces")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        logger[metadataKey: "aces.chapter"] = "\(dir.chapter)"
        let server = try NodeServer(directory: dir, logger: logger)
        let group = ServiceGroup(services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        logger.notice("\(server.serving.summary(chapter: dir.chapter))")
        for w in report.warnings { logger.warning("\(w)") }
        Out.line(
            "Node '\(dir.chapter)': web \(server.serving.web.url)  federation \(dir.config.federation?.url ?? "none (public listener only)")"
        )
        try await group.run()
    }
}

struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync", abstract: "Run one sync pass with every peer (or one) now and print what moved.")
    @OptionGroup var node: NodeOptions
    @Option(help: "Only this peer.") var peer: String?
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let peer, ChapterID(peer) == nil { throw ValidationError("--peer: \(ChapterID.rule)") }
    }

    func run() async throws {
        let dir = try node.node()
        let store = try dir.openStore()
        var logger = Logger(label: "aces")
        logger.logLevel = .warning
        let (syncer, http) = try FederationClient.make(directory: dir, store: store, tls: try dir.tlsMaterial(), logger: logger)
        var results: [(ChapterID, Result<Syncer.PullReport, SyncError>)] = []
        let started = DispatchTime.now().uptimeNanoseconds
        if let p = peer.flatMap(ChapterID.init) {
            guard syncer.peerChapters.contains(p) else {
                try await http.shutdown()
                throw ValidationError(
                    "'\(p)' is not a peer of this node (peers: \(syncer.peerChapters.map(\.rawValue).joined(separator: ", ")))")
            }
            do { results = [(p, .success(try await syncer.pull(from: p)))] } catch let e as SyncError { results = [(p, .failure(e))] }
        } else {
            results = await syncer.syncAll()
        }
        try await http.shutdown()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        if output.json {
            Out.json(
                .array(
                    results.map { peer, r in
                        switch r {
                        case .success(let rep):
                            [
                                "peer": .string(peer.rawValue), "seconds": .number(seconds), "bytes": .number(Double(rep.bytes)),
                                "peak_rss_mb": .number(ProcessMemory.peakRSSMegabytes()),
                                "applied": .object(
                                    Dictionary(uniqueKeysWithValues: rep.applied.map { ($0.key.rawValue, .number(Double($0.value))) })),
                                "refused": .object(
                                    Dictionary(uniqueKeysWithValues: rep.refused.map { ($0.key.rawValue, .string($0.value.description)) })),
                            ]
                        case .failure(let e): ["peer": .string(peer.rawValue), "error": .string(e.description)]
                        }
                    }))
        } else {
            for (peer, r) in results {
                switch r {
                case .success(let rep):
                    let moved = rep.applied.sorted { $0.key < $1.key }.map { "\($0.key) +\($0.value)" }.joined(separator: ", ")
                    Out.line("\(peer): \(moved.isEmpty ? "up to date" : moved)")
                    for (o, e) in rep.refused { Out.line("\(peer): refused \(o): \(e)") }
                case .failure(.failed(let sentence)): Out.line(sentence)
                case .failure(let e): Out.line("\(peer): \(e)")
                }
            }
        }
        let failed = results.contains { _, r in
            switch r {
            case .success(let rep): !rep.refused.isEmpty
            case .failure: true
            }
        }
        if failed { throw ExitCode(2) }
    }
}

struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers", abstract: "Per peer: last success, last error, clock skew and lag per origin; origins frozen after a fork.")
    @OptionGroup var node: NodeOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let dir = try node.node()
        let store = try dir.openStore()
        let statuses = try store.peerStatuses()
        // Origins frozen here after a fork, with the peer that brought the rival entry.
        let forks = try store.forks()
        let withheld = try store.withheldCounts().byPeer
        let stripped = try store.withheld(limit: 1_000)
        let refusedByPeer = try store.refusedOperationCounts().byPeer
        let refusedOps = try store.refusedOperations(limit: 1_000)
        /// The operations `peer` sent that change records their origin does not own.
        func refusedFrom(_ peer: String) -> [String] {
            refusedOps.filter { $0.peer == peer }.map { "\($0.origin):\($0.seq) (\($0.reason))" }
        }
        /// The entries (`origin:seq`, oldest first) `peer` sent with operations stripped of their payload.
        func strippedBy(_ peer: String) -> [String] {
            var seen = Set<String>()
            return stripped.filter { $0.peer == peer }.map { "\($0.origin):\($0.seq)" }.filter { seen.insert($0).inserted }
        }
        func time(_ d: Date?) -> String { d.map { Instant.format($0) } ?? "never" }
        if output.json {
            Out.json(
                .array(
                    statuses.map { s in
                        [
                            "peer": .string(s.chapter), "last_attempt": s.lastAttempt.map { .string(Instant.format($0)) } ?? .null,
                            "last_success": s.lastSuccess.map { .string(Instant.format($0)) } ?? .null,
                            "last_error": s.lastError.map { .string($0) } ?? .null, "failures": .number(Double(s.failures)),
                            "skew_ms": s.skewMillis.map { .number(Double($0)) } ?? .null,
                            "lag": .object(s.lag.mapValues { .number(Double($0)) }), "received": .number(Double(s.received)),
                            "versions": .array(s.versions.map { .number(Double($0)) }),
                            "roster": s.rosterVersion.map { .number(Double($0)) } ?? .null,
                            "forks": .array(
                                forks.filter { $0.peer == s.chapter }.map {
                                    ["origin": .string($0.origin.rawValue), "seq": .number(Double($0.seq))]
                                }),
                            "withheld": .number(Double(withheld[s.chapter] ?? 0)),
                            "withheld_entries": .array(strippedBy(s.chapter).prefix(100).map { .string($0) }),
                            "refused_operations": .number(Double(refusedByPeer[s.chapter] ?? 0)),
                        ]
                    }))
            return
        }
        for f in forks {
            Out.line(
                "ALARM  origin '\(f.origin)' is frozen after a fork at \(f.origin):\(f.seq)\(f.peer.map { " (rival entry from \($0))" } ?? ""): nothing more of it is applied here; see 'aces status'"
            )
        }
        if statuses.isEmpty {
            if let pid = dir.servingProcess() {
                if dir.config.federation == nil {
                    return Out.line(
                        "'aces serve' runs (process \(pid)); this node has no [federation] in aces.toml, so it syncs with no one.")
                }
                return Out.line("'aces serve' runs (process \(pid)) but has not finished a pass with any peer yet; look again in a moment.")
            }
            return Out.line("No sync has run yet, and no 'aces serve' runs on \(dir.path) (start it, or run 'aces sync').")
        }
        // A peer that retired from the roster in force is no longer synced: say so rather than show its last pass as current.
        let retired = Set((try? dir.roster())?.retired ?? [])
        Out.table(
            ["PEER", "LAST SUCCESS", "ROSTER", "SKEW", "LAG", "LAST ERROR"],
            statuses.map { s in
                [
                    s.chapter, time(s.lastSuccess), s.rosterVersion.map { "v\($0)" } ?? "-", s.skewMillis.map { "\($0) ms" } ?? "",
                    s.lag.isEmpty ? "0" : s.lag.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                    retired.contains(s.chapter) ? "retired from the federation: no longer synced" : s.lastError ?? "",
                ]
            })
        // A peer that does not read the version this node writes holds its entries until upgraded.
        for s in statuses where !s.versions.isEmpty && !s.versions.contains(Envelope.formatVersion) {
            Out.line(
                "\(s.chapter) reads protocol versions \(s.versions.map(String.init).joined(separator: ", ")): it holds this node's version-\(Envelope.formatVersion) entries until it is upgraded"
            )
        }
        // Operations that change another chapter's records: refused, kept as evidence.
        for s in statuses {
            guard let n = refusedByPeer[s.chapter], n > 0 else { continue }
            let ops = refusedFrom(s.chapter)
            Out.line(
                "\(s.chapter) sent \(n) operation(s) refused for ownership (kept as evidence, not applied): "
                    + ops.prefix(5).joined(separator: "; ") + (ops.count > 5 ? "; …" : ""))
        }
        // Operations a peer sent without their payload wait, unapplied, for another peer to send it.
        for s in statuses {
            guard let n = withheld[s.chapter], n > 0 else { continue }
            let entries = strippedBy(s.chapter)
            Out.line(
                "\(s.chapter) sent \(n) operation(s) without their payload, waiting for another peer to send it: "
                    + entries.prefix(10).joined(separator: ", ") + (entries.count > 10 ? ", …" : ""))
        }
    }
}
