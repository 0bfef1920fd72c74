import AcesCore
import AcesTestSupport
import Foundation
import Testing

/// An operator settling a federation's conflicts from the command line: two real nodes edit the
/// same records while cut off from each other, then sync, through the real `aces` binary.
@Suite struct ConflictsCLITests {
    let dir = TempDir()
    var fed: String { dir.file("fed") }

    func aces(_ node: String, _ args: String...) async throws -> AcesProcess.Result {
        try await AcesProcess.runAsync(args + ["--data", fed + "/" + node])
    }

    func added(_ r: AcesProcess.Result) -> String { r.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }

    func conflicts(_ node: String, _ extra: String...) async throws -> [JSONValue] {
        let r = try await AcesProcess.runAsync(["conflicts", "list", "--json", "--data", fed + "/" + node] + extra)
        return try JSONParser.parse(Array(r.stdout.utf8)).arrayValue ?? []
    }

    /// Serves both nodes, syncs each from the other until both list the same `count` conflicts, then stops them.
    func syncBoth(expecting count: Int) async throws -> Bool {
        var servers = [AcesProcess.Running]()
        defer { for s in servers { s.signalStop() } }
        for c in ["fr", "uk"] { servers.append(try AcesProcess.start(["serve", "--data", fed + "/" + c])) }
        do {
            for _ in 0..<150 {
                _ = try await aces("fr", "sync")
                _ = try await aces("uk", "sync")
                let (a, b) = (try await conflicts("fr"), try await conflicts("uk"))
                if a.count == count && b.count == count && a.map({ $0["id"] }) == b.map({ $0["id"] }) {
                    await Self.stop(servers)
                    return true
                }
                try await Task.sleep(for: .milliseconds(200))
            }
        } catch {
            await Self.stop(servers)
            throw error
        }
        await Self.stop(servers)
        return false
    }

    /// Stops servers and waits for them on a thread of its own, keeping the concurrency pool free.
    static func stop(_ servers: [AcesProcess.Running]) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                for s in servers { s.stop() }
                done.resume()
            }
        }
    }

    @Test func oneCallSettlesEveryFieldAndDeleteConflictAndTheListsNameWhatIsInConflict() async throws {
        #expect(
            try await AcesProcess.runAsync([
                "federation", "create", "--dir", fed, "--chapters", "fr,uk", "--base-port", String(freeBasePort()),
            ])
            .status == 0)
        let zoe = added(try await aces("fr", "member", "add", "--email", "zoe@example.fr", "--name", "Zoë Martin", "--city", "Lyon"))
        let gone = added(try await aces("fr", "member", "add", "--email", "gone@example.fr", "--name", "Paul Gone", "--city", "Nantes"))
        let eventID = added(
            try await aces(
                "fr", "event", "add", "--title", "Soirée Lyon", "--start", "2031-03-14T18:30", "--end", "2031-03-14T21:00", "--tz",
                "Europe/Paris"))
        // fr lets uk edit these records (a member active in both countries, a co-organised event).
        for id in [zoe, gone] { #expect(try await aces("fr", "member", "grant", id, "--chapter", "uk").status == 0) }
        #expect(try await aces("fr", "event", "grant", eventID, "--chapter", "uk").status == 0)
        #expect(try await syncBoth(expecting: 0))
        #expect(try await aces("uk", "member", "show", zoe).stdout.contains("Zoë Martin"))

        // Cut off from each other, both chapters edit the same records.
        #expect(
            try await aces(
                "fr", "member", "update", zoe, "--name", "Zoé Martin", "--city", "Paris", "--role", "Trésorière", "--organisation",
                "Lumière"
            ).status == 0)
        #expect(
            try await aces(
                "uk", "member", "update", zoe, "--name", "Zoe Martin", "--city", "Leeds", "--role", "Treasurer", "--organisation",
                "Light Ltd"
            ).status == 0)
        #expect(try await aces("fr", "member", "remove", gone).status == 0)
        #expect(try await aces("uk", "member", "update", gone, "--city", "York").status == 0)
        #expect(try await aces("fr", "event", "update", eventID, "--title", "Soirée à Lyon").status == 0)
        #expect(try await aces("uk", "event", "update", eventID, "--title", "Lyon evening").status == 0)
        #expect(try await aces("fr", "member", "add", "--email", "twin@example.org", "--name", "Twin Fr", "--city", "Lille").status == 0)
        #expect(try await aces("uk", "member", "add", "--email", "TWIN@example.org", "--name", "Twin Uk", "--city", "Leeds").status == 0)
        // Four field conflicts on Zoë, one on the event, one delete conflict, one duplicate.
        #expect(try await syncBoth(expecting: 7))

        let list = try await aces("fr", "conflicts", "list")
        #expect(list.stdout.contains("\"Zoé Martin\"") || list.stdout.contains("\"Zoe Martin\""), "the member is named: \(list.stdout)")
        #expect(list.stdout.contains("\"Paris\"") && list.stdout.contains("\"Leeds\"") && list.stdout.contains("uk \"Leeds\" 20"))
        #expect(list.stdout.contains("\"Paul Gone\"") && list.stdout.contains("deleted the record"), "a removed member is named too")
        #expect(list.stdout.contains("\"Soirée à Lyon\"") || list.stdout.contains("\"Lyon evening\""))
        #expect(list.stdout.contains("twin@example.org") && list.stdout.contains("TWIN@example.org"))
        let all = try await conflicts("fr")
        #expect(all.allSatisfy { $0["chapter"] != .null }, "every conflict has a chapter: \(all)")
        let delete = try #require(all.first { $0["kind"] == "delete" })
        #expect(delete["chapter"] == "fr" && delete["label"] == "Paul Gone")
        #expect(try await conflicts("fr", "--chapter", "fr").count == 7, "every conflict about fr's records, the deleted one included")
        #expect(try await conflicts("fr", "--chapter", "uk").count == 1, "the duplicate involves a uk member")

        let duplicate = try #require(all.first { $0["kind"] == "duplicate" }?["id"]?.stringValue)
        let shown = try await aces("fr", "conflicts", "show", duplicate)
        #expect(shown.stdout.contains("twin@example.org") && shown.stdout.contains("TWIN@example.org"))
        #expect(shown.stdout.contains("Fields that differ"))
        #expect(
            shown.stdout.contains("city: \"Lille\" | \"Leeds\"") || shown.stdout.contains("city: \"Leeds\" | \"Lille\""), "\(shown.stdout)")

        // An empty value is refused for a required field.
        let nameConflict = try #require(all.first { $0["field"] == "name" }?["id"]?.stringValue)
        let empty = try await aces("fr", "conflicts", "resolve", nameConflict, "--value", "")
        #expect(empty.status == 1 && empty.stderr.contains("name is required and cannot be empty") && !empty.stderr.contains("Usage"))

        // Writing the value shown as the winner settles that conflict.
        let city = try #require(all.first { $0["field"] == "city" })
        let winner = try #require(city["sides"]?.arrayValue?.first { $0["winner"] == .bool(true) }?["value"]?.stringValue)
        #expect(try await aces("fr", "member", "update", zoe, "--city", winner).status == 0)
        #expect(try await conflicts("fr").count == 6)

        let settled = try await aces("fr", "conflicts", "resolve", "--all", "--strategy", "latest")
        #expect(settled.status == 0)
        #expect(settled.stdout.contains("Settled 5 conflict(s) with their automatic winners in 1 signed entry."), "\(settled.stdout)")
        #expect(settled.stdout.contains("1 duplicate identity is left"))
        let left = try await conflicts("fr")
        #expect(left.count == 1 && left.first?["kind"] == "duplicate", "one call leaves only the duplicate: \(left)")

        let history = try await aces("fr", "conflicts", "list", "--settled")
        #expect(history.stdout.contains("city") && history.stdout.contains("fr \"\(winner)\""), "\(history.stdout)")
        #expect(history.stdout.contains("fr       member \"Paul Gone\""), "a settled delete conflict has its chapter and name")
        let back = try await aces("fr", "member", "show", gone)
        #expect(
            back.stdout.contains("Paul Gone") && back.stdout.contains("York"), "the member came back whole, with the edit: \(back.stdout)")
        let cityShown = try await aces("fr", "conflicts", "show", try #require(city["id"]?.stringValue))
        #expect(cityShown.status == 0 && cityShown.stdout.contains("(settled)") && cityShown.stdout.contains("Settled by fr"))
    }
}
