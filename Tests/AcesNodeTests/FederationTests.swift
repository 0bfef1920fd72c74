import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import Testing

@Suite(.serialized) struct FederationTests {
    @Test func editsOnEveryNodeConvergeIncludingWhileOneIsStopped() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"])
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk", "de")
        let a = try fed.addMember(on: "fr", 1)
        try fed.addMember(on: "uk", 2)
        try fed.addMember(on: "de", 3)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        await fed.stop("de")
        try fed.update(on: "fr", id: a, ["city": "Marseille"])
        try fed.addMember(on: "uk", 4)
        try fed.addMember(on: "de", 5)  // written while de is cut off
        #expect(try await fed.converge(["fr", "uk"]))
        try await fed.start("de")
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let r = try #require(try await fed.store("de").record(.member, id: a))
        #expect(r.values["city"] == "Marseille")
        #expect(try fed.store("uk").records(.member).count == 5)
        for c in ["fr", "uk", "de"] { #expect(try fed.store(c).verifyLog(keys: fed.node(c).keyRing()).isValid) }
        await fed.stopAll()
    }

    @Test func aLineTopologyConvergesThroughTheMiddleNode() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"], peers: ["fr": ["uk"], "uk": ["fr", "de"], "de": ["uk"]])
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk", "de")
        try fed.addMember(on: "fr", 1)
        try fed.addMember(on: "de", 2)
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let heads = try await fed.store("de").heads().map(\.origin.rawValue)
        #expect(heads == ["de", "fr"])
        await fed.stopAll()
    }

    @Test func aRestartedNodeResumesFromItsCursorsWithoutReapplying() async throws {
        let fed = try RunningFederation(["fr", "uk"], interval: 60)
        defer { fed.shutdownLeftovers() }
        for n in 0..<30 { try fed.addMember(on: "fr", n) }
        try await fed.start("fr", "uk")
        #expect(try await fed.converge(["fr", "uk"]))
        await fed.stop("uk")
        try fed.addMember(on: "fr", 99)
        try await fed.start("uk")
        let report = try await fed.server("uk")!.syncer.pull(from: ChapterID("fr")!)
        #expect(report.applied[ChapterID("fr")!] == nil || report.applied[ChapterID("fr")!] == 1)
        #expect(try await fed.converge(["fr", "uk"]))
        let again = try await fed.server("uk")!.syncer.pull(from: ChapterID("fr")!)
        #expect(again.total == 0)
        #expect(try await fed.store("uk").heads().first { $0.origin.rawValue == "fr" }?.seq == 31)
        #expect(try fed.store("uk").quarantined().isEmpty)
        await fed.stopAll()
    }

    @Test func aPeerThatIsDownDoesNotHoldUpTheOthers() async throws {
        let fed = try RunningFederation(["fr", "uk", "de"], interval: 0.3)
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk")  // de stays down
        try fed.addMember(on: "uk", 1)
        // fr and uk converge while de is down: each peer has a loop of its own.
        #expect(try await fed.converge(["fr", "uk"], seconds: 30))
        var de: PeerStatus?
        for _ in 0..<100 where de?.lastError == nil {
            de = try await fed.store("fr").peerStatuses().first { $0.chapter == "de" }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(de?.lastError?.contains("unreachable") == true)
        #expect(de?.lastSuccess == nil)
        await fed.stopAll()
    }
}

@Suite struct ShippedRosterTests {
    @Test func theShippedChapterProfilesLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let roster = try Roster.load(from: root.appendingPathComponent("chapters").path)
        #expect(roster.chapters.map(\.id) == ["de", "fr", "uk"])
        #expect(roster.profile(ChapterID("uk")!)?.name == "United Kingdom")
        #expect(roster.profile(ChapterID("fr")!)?.timezone == "Europe/Paris")
    }
}
