import AcesCLI
import AcesCore
import AcesNodeFiles
import AcesServer
import AcesStore
import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure catch-up, authoring and propagation through the real code paths; print a table and optionally JSON.",
        discussion: """
            Run it from a release build: swift run -c release aces bench --entries 100000
            Catch-up: node fr holds N member changes (20% inserts, 80% updates, ~300 bytes of values each, \
            authored through the real write path); an empty node de pulls them all over HTTPS with mutual \
            TLS, in its own process. The same changes are upserted into a plain SQLite table in one \
            transaction as the floor we compare against.
            """)
    @Option(help: "Entries in the catch-up and authoring scenarios.") var entries = 100_000
    @Option(
        help: "Measured rounds per scenario (after a warm-up: a whole round for catch-up, 5 edits for propagation, 200 queries for search)."
    )
    var rounds = 3
    @Option(help: "Edits timed in the propagation scenario.") var edits = 200
    @Option(help: "Members in the search scenario.") var members = 100_000
    @Option(help: "Queries timed in the search scenario (after 200 warm-up queries).") var queries = 2_000
    @Option(help: "Comma-separated scenarios: catchup, authoring, propagation, search, web, federation (not run by default).")
    var scenarios = "catchup,authoring,propagation,search,web"
    @Option(help: "Chapters in the federation scenario (the last one joins while the others run).") var chapters = 30
    @Option(help: "Members each chapter authors at once in the federation scenario's burst.") var burst = 20
    @Option(help: "Peers each node pulls from in the federation scenario (the roster's ring, not a full mesh).") var fanout = 4
    @Option(help: "Seconds each load of the web scenario is measured (after a one-second warm-up).") var webSeconds = 3.0
    @Option(help: "Comma-separated numbers of concurrent connections in the web scenario.") var connections = "1,16,64"
    @Option(help: "Write the figures as JSON to this file.") var json: String?

    func validate() throws {
        guard (10...10_000_000).contains(entries) else { throw ValidationError("--entries must be from 10 to 10000000") }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be from 1 to 20") }
        guard (1...10_000).contains(edits) else { throw ValidationError("--edits must be from 1 to 10000") }
        guard (10...10_000_000).contains(members) else { throw ValidationError("--members must be from 10 to 10000000") }
        guard (1...1_000_000).contains(queries) else { throw ValidationError("--queries must be from 1 to 1000000") }
        for s in scenarios.split(separator: ",") where !["catchup", "authoring", "propagation", "search", "web", "federation"].contains(s) {
            throw ValidationError("--scenarios: unknown scenario '\(s)' (catchup, authoring, propagation, search, web, federation)")
        }
        guard (3...200).contains(chapters) else { throw ValidationError("--chapters must be from 3 to 200") }
        guard (1...100_000).contains(burst) else { throw ValidationError("--burst must be from 1 to 100000") }
        guard (1...16).contains(fanout) else { throw ValidationError("--fanout must be from 1 to 16") }
        guard (0.1...600).contains(webSeconds) else { throw ValidationError("--web-seconds must be from 0.1 to 600") }
        guard let c = connectionCounts, !c.isEmpty else {
            throw ValidationError("--connections must be whole numbers from 1 to 1024 separated by commas, such as 1,16,64")
        }
    }

    var connectionCounts: [Int]? {
        let counts = connections.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard counts.allSatisfy({ $0.map { (1...1024).contains($0) } ?? false }) else { return nil }
        return counts.compactMap { $0 }
    }

    func run() async throws {
        let root = NSTemporaryDirectory() + "aces-bench-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // ACES_BENCH_KEEP=1 keeps the nodes' files for a look with sqlite3 afterwards.
        let keep = ProcessInfo.processInfo.environment["ACES_BENCH_KEEP"] != nil
        defer { if keep { Out.line("Kept the benchmark's files in \(root)") } else { try? FileManager.default.removeItem(atPath: root) } }
        var logger = Logger(label: "aces-bench")
        logger.logLevel = .critical
        var figures = [Figure]()
        let wanted = Set(scenarios.split(separator: ",").map(String.init))
        if wanted.contains("catchup") {
            figures += try await CatchUpBench(entries: entries, rounds: rounds, root: root, logger: logger).run()
        }
        if wanted.contains("authoring") {
            figures += try await AuthoringBench(members: entries, rounds: rounds, root: root, logger: logger).run()
        }
        if wanted.contains("propagation") {
            figures += try await PropagationBench(edits: edits, rounds: rounds, root: root, logger: logger).run()
        }
        if wanted.contains("search") {
            let s = try await SearchBench(members: members, queries: queries, rounds: rounds, root: root, logger: logger).run()
            figures += [
                Figure(name: "search.p50_ms", unit: "ms", values: s.p50), Figure(name: "search.p99_ms", unit: "ms", values: s.p99),
                Figure(name: "search.store_p50_ms", unit: "ms", values: s.storeP50),
                Figure(name: "search.store_p99_ms", unit: "ms", values: s.storeP99),
                Figure(name: "search.mean_matches", unit: "members", values: [s.matches]),
            ]
        }
        if wanted.contains("federation") {
            figures += try await FederationBench(chapters: chapters, burst: burst, fanout: fanout, root: root, logger: logger).run()
        }
        if wanted.contains("web") {
            let bench = WebBench(
                members: members, connections: connectionCounts ?? [1, 16, 64], seconds: webSeconds, rounds: rounds, root: root,
                logger: logger, measure: BenchLoadCommand.measure)
            for cell in try await bench.run() {
                let name = "web.\(cell.target).c\(cell.connections)"
                figures += [
                    Figure(name: name + ".rps", unit: "requests/s", values: cell.node.map(\.requestsPerSecond)),
                    Figure(name: name + ".p50_ms", unit: "ms", values: cell.node.map(\.p50Milliseconds)),
                    Figure(name: name + ".p99_ms", unit: "ms", values: cell.node.map(\.p99Milliseconds)),
                    Figure(name: name + ".ceiling_rps", unit: "requests/s", values: cell.ceiling.map(\.requestsPerSecond)),
                    Figure(
                        name: name + ".ratio_to_ceiling", unit: "ratio",
                        values: zip(cell.node, cell.ceiling).map { $0.requestsPerSecond / max($1.requestsPerSecond, 1e-9) }),
                    Figure(name: name + ".errors", unit: "answers", values: cell.node.map { Double($0.errors) }),
                ]
            }
        }

        Out.line(
            "Aces benchmark: \(entries) entries, \(rounds) round(s) after a warm-up; \(ProcessInfo.processInfo.activeProcessorCount) cores")
        Out.table(
            ["FIGURE", "MEDIAN", "SPREAD", "UNIT"],
            figures.map { f in
                let s = Bench.summary(f.values)
                let fmt = f.unit == "ratio" ? "%.2f" : (s.median < 100 ? "%.1f" : "%.0f")
                return [f.name, String(format: fmt, s.median), String(format: fmt, s.spread), f.unit]
            })
        if let json {
            var obj = [String: JSONValue]()
            for f in figures {
                let s = Bench.summary(f.values)
                obj[f.name] = [
                    "median": .number(s.median), "spread": .number(s.spread), "unit": .string(f.unit),
                    "samples": .array(f.values.map { .number($0) }),
                ]
            }
            obj["entries"] = .number(Double(entries))
            obj["cores"] = .number(Double(ProcessInfo.processInfo.activeProcessorCount))
            try Data(CanonicalJSON.encode(.object(obj))).write(to: URL(fileURLWithPath: json))
        }
    }
}

/// Two fresh nodes, `fr` and `de`, and `de` catching up with `fr` as a new chapter would: `fr`
/// serves in this process, `de` pulls over HTTPS with mutual TLS in a process of its own
/// (`aces sync --json`), so its figures (time, bytes, peak memory) are its own.
enum PullPair {
    struct Pull {
        let seconds: Double
        let bytes: Double
        let peakRSSMegabytes: Double
    }

    static func make(at dir: String) throws -> (fr: NodeDirectory, de: NodeDirectory) {
        let ports = LocalFederation.freePorts(4)
        let nodes = try LocalFederation.create(
            at: dir, chapters: [ChapterID("fr")!, ChapterID("de")!], ports: [(ports[0], ports[1]), (ports[2], ports[3])],
            syncInterval: 3600)
        var deConfig = nodes[1].config
        deConfig.sync?.timeoutSeconds = 600
        return (nodes[0], try nodes[1].saving(deConfig))
    }

    /// Serves `fr` until `de` has pulled every entry; fails unless `de` applied exactly `expecting`.
    static func pull(from fr: NodeDirectory, into de: NodeDirectory, expecting: Int64, logger: Logger) async throws -> Pull {
        let server = try NodeServer(directory: fr, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        let task = Task { try await group.run() }
        _ = await server.waitUntilListening()
        // Waited for off the concurrency pool, whose two threads the serving node needs.
        let child = try await ChildProcess.runAsync(["sync", "--data", de.path, "--peer", fr.chapter.rawValue, "--json"])
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        guard child.status == 0, let report = try JSONParser.parse(child.stdout).arrayValue?.first,
            let seconds = report["seconds"]?.doubleValue, let applied = report["applied"]?[fr.chapter.rawValue]?.intValue,
            Int64(applied) == expecting
        else { throw ValidationError("the catch-up did not complete: \(child.stdout) \(child.stderr)") }
        return Pull(seconds: seconds, bytes: report["bytes"]?.doubleValue ?? 0, peakRSSMegabytes: report["peak_rss_mb"]?.doubleValue ?? 0)
    }
}

/// One reported figure with its samples.
struct Figure {
    let name: String
    let unit: String
    var values: [Double]
}

/// Scenario 1: catch-up over HTTPS into an empty node (in its own process), the plain SQLite
/// floor, and the source's authoring through the real write path.
struct CatchUpBench {
    let entries: Int
    let rounds: Int
    let root: String
    let logger: Logger

    func run() async throws -> [Figure] {
        var sourceAuthoring = Figure(name: "catchup.source_authoring_per_s", unit: "entries/s", values: [])
        var rate = Figure(name: "catchup.entries_per_s", unit: "entries/s", values: [])
        var ratio = Figure(name: "catchup.ratio_to_sqlite", unit: "ratio", values: [])
        var plainRate = Figure(name: "catchup.sqlite_upserts_per_s", unit: "upserts/s", values: [])
        var loggedRate = Figure(name: "catchup.sqlite_with_log_per_s", unit: "upserts/s", values: [])
        var loggedRatio = Figure(name: "catchup.ratio_to_sqlite_with_log", unit: "ratio", values: [])
        var bytes = Figure(name: "catchup.bytes_per_entry", unit: "bytes", values: [])
        var rss = Figure(name: "catchup.peak_rss_mb", unit: "MB", values: [])
        for round in 0...rounds {
            let dir = root + "/catchup-\(round)"
            let (fr, de) = try PullPair.make(at: dir)
            let a = try Workload(entries: entries).author(into: fr.openStore(), as: fr.author())
            let pull = try await PullPair.pull(from: fr, into: de, expecting: Int64(entries), logger: logger)
            let seconds = pull.seconds

            var changes = [(String, [String: JSONValue])]()
            changes.reserveCapacity(entries)
            var log = [[UInt8]]()
            log.reserveCapacity(entries)
            let store = try fr.openStore()
            var after: Int64 = 0
            while true {
                let batch = try store.entries(of: fr.chapter, after: after, limit: 5_000)
                if batch.isEmpty { break }
                for e in batch {
                    for (op, p) in zip(e.envelope.operations, e.payloads) { changes.append((op.id, p?.values ?? [:])) }
                    log.append(e.envelopeBytes + e.signature + CanonicalJSON.encode(e.payloadsJSON))
                }
                after = batch.last!.envelope.seq
            }
            let plain = try PlainUpsert.run(path: dir + "/plain.sqlite", changes: changes)
            let logged = try PlainUpsert.run(path: dir + "/plain-log.sqlite", changes: changes, log: log.count == changes.count ? log : nil)
            if round > 0 {
                sourceAuthoring.values.append(a)
                rate.values.append(Double(entries) / seconds)
                plainRate.values.append(Double(entries) / plain)
                ratio.values.append(plain / seconds)
                loggedRate.values.append(Double(entries) / logged)
                loggedRatio.values.append(logged / seconds)
                bytes.values.append(pull.bytes / Double(entries))
                rss.values.append(pull.peakRSSMegabytes)
            }
            try? FileManager.default.removeItem(atPath: dir)
        }
        return [rate, plainRate, ratio, loggedRate, loggedRatio, bytes, rss, sourceAuthoring]
    }
}

/// Scenario 3: three nodes in a line (fr <-> uk <-> de) on the normal notify path; one edit at
/// a time on fr; the time until de holds it.
struct PropagationBench {
    let edits: Int
    let rounds: Int
    let root: String
    let logger: Logger

    func run() async throws -> [Figure] {
        let dir = root + "/propagation"
        let p = LocalFederation.freePorts(6)
        let nodes = try LocalFederation.create(
            at: dir, chapters: ["fr", "uk", "de"].compactMap(ChapterID.init), ports: [(p[0], p[1]), (p[2], p[3]), (p[4], p[5])],
            syncInterval: 30)
        let line = ["fr": ["uk"], "uk": ["fr", "de"], "de": ["uk"]]
        var servers = [NodeServer]()
        for n in nodes {
            var c = n.config
            c.sync?.peers = line[n.chapter.rawValue]
            servers.append(try NodeServer(directory: try n.saving(c), logger: logger))
        }
        // One group: a graceful shutdown reaches every node at once (never a cancellation racing
        // a connection being accepted).
        let group = ServiceGroup(configuration: .init(services: [NodesService(servers: servers)], logger: logger))
        let task = Task { try await group.run() }
        for s in servers { _ = await s.waitUntilListening() }
        var p50 = Figure(name: "propagation.p50_ms", unit: "ms", values: [])
        var p99 = Figure(name: "propagation.p99_ms", unit: "ms", values: [])
        // Five edits warm up; then each round times `edits` edits.
        for round in 0..<rounds {
            var trips = [Double]()
            for i in 0..<(edits + (round == 0 ? 5 : 0)) {
                guard let t = try await Convergence.timeOneEdit(from: servers[0], to: [servers[2]]) else {
                    await group.triggerGracefulShutdown()
                    _ = try? await task.value
                    throw ValidationError("an edit did not reach de within 30 s")
                }
                if round > 0 || i >= 5 { trips.append(t * 1000) }
            }
            let sorted = trips.sorted()
            func pct(_ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            p50.values.append(pct(0.5))
            p99.values.append(pct(0.99))
        }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return [p50, p99]
    }
}

/// Runs this executable again as a child process.
enum ChildProcess {
    static func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Bundle.main.executablePath ?? CommandLine.arguments[0])
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }
}

extension ChildProcess {
    /// `run`, waited for on a thread of its own rather than on the concurrency pool.
    static func runAsync(_ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try run(args) }) }
        }
    }
}

/// The web scenario's load generator, in a process of its own so that it does not take the
/// measured node's threads: prints one JSON object with the figures.
struct BenchLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-load", abstract: "Load one URL on loopback with keep-alive connections (for aces bench).",
        shouldDisplay: false)
    @Option(help: "Port on 127.0.0.1.") var port: Int
    @Option(help: "Path and query to GET.") var path: String
    @Option(help: "Concurrent connections.") var connections = 16
    @Option(help: "Seconds measured after the warm-up.") var seconds = 3.0
    @Option(help: "Seconds of warm-up.") var warmup = 1.0

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be from 1 to 65535") }
        guard path.hasPrefix("/") else { throw ValidationError("--path must start with /") }
        guard (1...4096).contains(connections) else { throw ValidationError("--connections must be from 1 to 4096") }
        guard seconds > 0, warmup >= 0 else { throw ValidationError("--seconds must be positive and --warmup not negative") }
    }

    func run() async throws {
        let r = try await HTTPLoad(
            host: "127.0.0.1", port: port, path: path, connections: connections, warmup: warmup, seconds: seconds
        ).run()
        let json: JSONValue = [
            "requests": .number(Double(r.requests)), "errors": .number(Double(r.errors)), "body_bytes": .number(Double(r.bodyBytes)),
            "seconds": .number(r.seconds), "p50_ms": .number(r.p50Milliseconds), "p99_ms": .number(r.p99Milliseconds),
        ]
        Out.line(String(decoding: CanonicalJSON.encode(json), as: UTF8.self))
    }

    /// Runs one load in a child process and reads its figures.
    @Sendable static func measure(_ load: HTTPLoad) async throws -> HTTPLoad.Result {
        let child = try await ChildProcess.runAsync([
            "bench-load", "--port", "\(load.port)", "--path", load.path, "--connections", "\(load.connections)",
            "--seconds", "\(load.seconds)", "--warmup", "\(load.warmup)",
        ])
        guard child.status == 0, let v = try? JSONParser.parse(Array(child.stdout.utf8)), let requests = v["requests"]?.intValue else {
            throw ValidationError("the load generator failed: \(child.stderr.prefix(300))")
        }
        return HTTPLoad.Result(
            requests: requests, errors: v["errors"]?.intValue ?? 0, bodyBytes: v["body_bytes"]?.intValue ?? 0,
            seconds: v["seconds"]?.doubleValue ?? load.seconds, p50Milliseconds: v["p50_ms"]?.doubleValue ?? 0,
            p99Milliseconds: v["p99_ms"]?.doubleValue ?? 0)
    }
}

/// Fills a node with the benchmark's workload, for profiling one side of a catch-up by hand.
struct BenchSeedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-seed", abstract: "Author the benchmark workload into a node (for profiling).", shouldDisplay: false)
    @OptionGroup var node: NodeOptions
    @Option(help: "Entries to author.") var entries = 100_000
    @Option(help: "Entries per transaction.") var chunk = 5_000
    @Flag(help: "Print 'ack SEQ' after each committed transaction (for crash tests).") var ack = false

    func validate() throws {
        guard entries > 0, chunk > 0 else { throw ValidationError("--entries and --chunk must be positive") }
    }

    func run() throws {
        let dir = try node.node()
        let store = try dir.openStore()
        let author = try dir.author()
        if !ack {
            let rate = try Workload(entries: entries).author(into: store, as: author, chunk: chunk)
            return Out.line(String(format: "authored %d entries at %.0f entries/s", entries, rate))
        }
        try Workload(entries: entries).author(into: store, as: author, chunk: chunk) { seq in
            FileHandle.standardOutput.write(Data("ack \(seq)\n".utf8))
        }
    }
}
