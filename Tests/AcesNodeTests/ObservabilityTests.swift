import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

/// What an operator watches: /metrics (with an admin token, read by the reference Prometheus parser),
/// /readyz, /healthz.
@Suite(.serialized) struct ObservabilityTests {
    /// Whether Debian's `python3-prometheus-client` (the reference parser) is installed.
    static let referenceParserPresent: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = ["-c", "import prometheus_client.parser"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    /// Parses Prometheus text into `name{labels} value` lines, sorted: with the reference client
    /// library's parser where it is installed. Without it, CI fails (its .ci/run installs it), and
    /// elsewhere the lines are read by a plain reader, with a warning that the reference check did
    /// not run.
    func parse(_ text: String) throws -> [String] {
        guard Self.referenceParserPresent else {
            let missing = "python3-prometheus-client is not installed: /metrics was not checked by the reference Prometheus parser"
            if ProcessInfo.processInfo.environment["CI"] != nil { Issue.record("\(missing) (CI installs it in .ci/run)") }
            FileHandle.standardError.write(Data("warning: \(missing); install it with 'apt-get install python3-prometheus-client'\n".utf8))
            return plainSamples(text)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [
            "-c",
            """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for s in family.samples:
                    labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
                    print(f"{s.name}{{{labels}}} {s.value}")
            """,
        ]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = errors
        try p.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NodeError.config("the Prometheus parser refused /metrics: \(err)") }
        return out.split(separator: "\n").map(String.init).sorted()
    }

    /// The samples of an exposition as `name{labels} value`, labels sorted by name.
    func plainSamples(_ text: String) -> [String] {
        text.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else { return nil }
            let series = line[..<space], value = line[line.index(after: space)...]
            guard let brace = series.firstIndex(of: "{") else { return "\(series){} \(value)" }
            let labels = series[series.index(after: brace)..<series.index(before: series.endIndex)]
                .split(separator: ",").sorted().joined(separator: ",")
            return "\(series[..<brace]){\(labels)} \(value)"
        }.sorted()
    }

    @Test func metricsParseAndCountWhatTheNodeDid() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 0.2)
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk")
        for i in 0..<3 { try fed.addMember(on: "uk", i) }
        try fed.update(on: "uk", id: try fed.addMember(on: "uk", 7), ["bio": "Secret-bio-zq8"])
        #expect(try await fed.converge(["fr", "uk"]))
        let web = "http://127.0.0.1:\(fed.server("fr")!.port("web")!)"
        _ = try await httpGet(web + "/")
        _ = try await httpGet(web + "/api/v1/members?q=member")

        // Prometheus scrapes with an admin token (`aces admin token create`).
        let token = try fed.store("fr").createAdminToken(label: "prometheus", random: SecretToken.random(36)).token
        // A request is counted once its answer is written: scrape again until it shows (a moment
        // at most; the scrape waits for no timer).
        var (status, text) = try await httpGet(web + "/metrics", token: token)
        for _ in 0..<50 where !text.contains("route=\"/api/v1/members\"") {
            try await Task.sleep(for: .milliseconds(20))
            (status, text) = try await httpGet(web + "/metrics", token: token)
        }
        #expect(status == 200)
        let samples = try parse(text)
        func value(_ prefix: String) -> Double? {
            samples.first { $0.hasPrefix(prefix) }.flatMap { Double($0.split(separator: " ").last!) }
        }
        #expect(value("aces_log_entries{origin=\"uk\"}") == 5)
        #expect(value("aces_sync_entries_applied_total{origin=\"uk\",peer=\"uk\"}") == 5)
        #expect(value("aces_conflicts_open{}") == 0)
        #expect(samples.contains { $0.hasPrefix("aces_sync_seconds_since_success{peer=\"uk\"}") })
        #expect(
            samples.contains {
                $0.hasPrefix("aces_http_request_duration_seconds_count{listener=\"public\",route=\"/api/v1/members\",status=\"200\"}")
            })
        #expect(samples.contains { $0.contains("listener=\"federation\",route=\"/federation/v1/heads\"") }, "uk's passes were timed on fr")
        // Ids and counts only: no name, email, bio or query text.
        for secret in ["Secret-bio-zq8", "example.org", "Member 1", "q=member"] { #expect(!text.contains(secret)) }

        let (ready, body) = try await httpGet(web + "/readyz")
        #expect(ready == 200 && body.contains("\"ready\":true"), "\(body)")
        #expect(try await httpGet(web + "/healthz").0 == 200)
        // The operators' dashboard gathers each node's health over the federation listener.
        // It waits at most 2 s for a peer; on a loaded 2-core machine a first mutual-TLS handshake
        // can take longer, so look again as an operator would (a few times at most).
        var (dash, page) = try await httpGet(web + "/federation")
        for _ in 0..<10 where page.contains("badge cancelled") {
            try await Task.sleep(for: .milliseconds(300))
            (dash, page) = try await httpGet(web + "/federation")
        }
        #expect(dash == 200 && page.contains("<span class=\"chip\">uk</span>") && page.contains("badge ok\">yes"))
        #expect(!page.contains("badge cancelled"))
        await fed.stop("uk")
        let (_, down) = try await httpGet(web + "/federation")
        #expect(down.contains("badge cancelled\">no"), "an unreachable peer shows as such")

        try await fed.store("fr").lockUntilOwnHeadConfirmed(quorum: 1)
        let (locked, why) = try await httpGet(web + "/readyz")
        #expect(locked == 503 && why.contains("restore"))
        await fed.stopAll()
    }
}
