import AcesCore
import AcesTestSupport
import Foundation
import Testing

/// The benchmark runs end to end at a tiny size (no timing is asserted: figures only exist).
@Suite struct BenchSmokeTests {
    @Test func theBenchmarkRunsAndWritesItsFigures() async throws {
        let dir = TempDir()
        let json = dir.file("bench.json")
        let r = try await AcesProcess.runAsync([
            "bench", "--entries", "60", "--rounds", "1", "--edits", "3", "--members", "60", "--queries", "20",
            "--web-seconds", "0.3", "--connections", "1,4", "--json", json,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("catchup.entries_per_s"))
        let figures = try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: json))))
        for name in [
            "catchup.entries_per_s", "catchup.ratio_to_sqlite", "catchup.sqlite_with_log_per_s", "catchup.ratio_to_sqlite_with_log",
            "catchup.bytes_per_entry", "catchup.peak_rss_mb",
            "authoring.entries_per_s", "authoring.catchup_members_per_s", "authoring.members_per_entry", "propagation.p50_ms",
            "propagation.p99_ms", "search.p50_ms", "search.p99_ms",
            "web.json_search_20.c4.rps", "web.json_search_20.c4.ceiling_rps", "web.search_page.c1.p99_ms", "web.events_ics.c4.rps",
            "web.profile.c1.ratio_to_ceiling",
        ] {
            let median = figures[name]?["median"]?.doubleValue
            #expect(median != nil && median! > 0, "\(name) missing or zero")
        }
    }

    @Test func theFederationScenarioGrowsASmallFederationAndReportsItsFigures() async throws {
        let dir = TempDir()
        let json = dir.file("federation.json")
        let r = try await AcesProcess.runAsync([
            "bench", "--scenarios", "federation", "--chapters", "4", "--burst", "3", "--fanout", "2", "--rounds", "1", "--json", json,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let figures = try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: json))))
        #expect(figures["federation.chapters"]?["median"]?.doubleValue == 4)
        for name in [
            "federation.burst_converge_s", "federation.bytes_per_entry", "federation.join_known_and_synced_s",
            "federation.memory_per_node_mb",
        ] {
            let median = figures[name]?["median"]?.doubleValue
            #expect(median != nil && median! > 0, "\(name) missing or zero")
        }
    }
}
