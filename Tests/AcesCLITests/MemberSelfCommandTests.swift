import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AcesWorkflows
import Foundation
import Testing

/// `aces member history` and `aces member erasures`: what a chapter admin sees of members' own
/// edits and erasure requests.
@Suite struct MemberSelfCommandTests {
    @Test func historyShowsWhoMadeEachChangeAndErasureRequestsAreListedDeclinedAndCarriedOut() async throws {
        let dir = TempDir()
        let data = dir.file("fr")
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
        func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args + ["--data", data]) }
        let id = try await aces("member", "add", "--email", "zoe@example.fr", "--name", "Zoë").stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        #expect(try await aces("member", "update", id, "--city", "Lyon").status == 0)
        // The member's own edit, through the same path the profile form takes.
        let node = try NodeDirectory.open(data)
        _ = try Editor(directory: node, store: try node.openStore()).updateOwnProfile(id, ["city": "Marseille"])

        let history = try await aces("member", "history", id)
        #expect(history.status == 0, "\(history.stderr)")
        let rows = history.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(rows.map { $0.count > 2 ? String($0[2]) : "" } == ["admin", "admin", "member"], "\(history.stdout)")
        let json = try JSONParser.parse(Array(try await aces("member", "history", id, "--json").stdout.utf8))
        #expect(json.arrayValue?.last?["values"]?["city"] == "Marseille")
        #expect(try await aces("member", "history", "nobody").stderr.contains("is not a member id"))

        try node.openStore().requestErasure(of: id)
        #expect(try await aces("member", "erasures").stdout.contains("\(id)  "))
        #expect(try await aces("member", "erasures", "--decline", id).status == 0)
        #expect(!(try await aces("member", "erasures").stdout.contains(id)))
        #expect(try await aces("member", "erasures", "--decline", id).stderr.contains("has no pending erasure request"))
        try node.openStore().requestErasure(of: id)
        #expect(try await aces("member", "erase", id, "--reason", "member request").status == 0)
        let all = try JSONParser.parse(Array(try await aces("member", "erasures", "--all", "--json").stdout.utf8))
        #expect(all.arrayValue?.first?["state"] == "erased")
    }
}
