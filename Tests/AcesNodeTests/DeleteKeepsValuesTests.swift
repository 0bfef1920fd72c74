import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// A delete only hides a record: when an edit made elsewhere wins over it, or an operator brings
/// the record back, every field is there again on every node (only an erase destroys values).
@Suite(.serialized) struct DeleteKeepsValuesTests {
    /// The member as fr added it, with the city uk gave it.
    static func expected(city: String) -> [String: JSONValue] {
        TestNode.member(1, chapter: "fr", city: city).merging(["email": "m1-fr@example.org"]) { $1 }
    }

    /// Runs `body` on a running federation of fr and uk, and always stops both nodes. uk is a
    /// steward: it may edit fr's member and settle the delete conflict.
    func withFederation(_ body: (RunningFederation) async throws -> Void) async throws {
        let fed = try RunningFederation(["fr", "uk"], stewards: ["uk"])
        defer { fed.shutdownLeftovers() }
        do { try await body(fed) } catch {
            await fed.stopAll()
            throw error
        }
        await fed.stopAll()
    }

    /// fr adds a member that both nodes hold; then, cut off from each other, fr deletes it and uk
    /// moves it to Leeds, with a clock 5 seconds later (`editLater`) or earlier than the delete;
    /// then they reconnect. Returns the member's id.
    func deleteBesideAnEdit(_ fed: RunningFederation, editLater: Bool) async throws -> String {
        let id = try fed.addMember(on: "fr", 1, city: "Lyon")
        try await fed.start("fr", "uk")
        #expect(try await fed.converge(["fr", "uk"]))
        await fed.stop("fr", "uk")
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let (deleteAt, editAt) = editLater ? (now, now + 5_000) : (now + 5_000, now)
        try fed.store("fr").author(as: try fed.node("fr").author(wallMillis: { deleteAt })) { _ in [.delete(.member, id: id)] }
        try fed.store("uk").author(as: try fed.node("uk").author(wallMillis: { editAt })) { _ in
            [.set(.member, id: id, values: ["city": "Leeds"])]
        }
        try await fed.start("fr", "uk")
        #expect(try await fed.converge(["fr", "uk"]))
        return id
    }

    /// The one open conflict of each node: a delete conflict with the same id on both.
    func oneDeleteConflict(_ fed: RunningFederation) throws -> Conflict? {
        let lists = try ["fr", "uk"].map { try fed.store($0).conflicts() }
        for l in lists {
            #expect(l.count == 1)
            #expect(l.first?.kind == .delete)
            #expect(l.first?.id == lists[0].first?.id)
            #expect(Set(l.first?.candidates.map(\.version.origin.rawValue) ?? []) == ["fr", "uk"])
        }
        return lists[0].first
    }

    @Test func anEditThatWinsOverADeleteShowsEveryFieldOnEveryNode() async throws {
        try await withFederation { fed in
            let id = try await deleteBesideAnEdit(fed, editLater: true)
            for c in ["fr", "uk"] {
                let listed = try #require(try fed.store(c).records(.member).first { $0.id == id }, "member missing on \(c)")
                #expect(listed.values == Self.expected(city: "Leeds"), "on \(c)")
            }
            let conflict = try #require(try oneDeleteConflict(fed))
            #expect(conflict.candidates.first(where: \.isWinner)?.version.origin.rawValue == "uk")
        }
    }

    @Test func takingTheEditingSideOfADeleteConflictBringsEveryFieldBackOnEveryNode() async throws {
        try await withFederation { fed in
            let id = try await deleteBesideAnEdit(fed, editLater: false)
            for c in ["fr", "uk"] {
                #expect(try fed.store(c).records(.member).allSatisfy { $0.id != id }, "the member should be hidden on \(c)")
                // Hidden, not destroyed: the operator still sees what a settlement would bring back.
                let hidden = try #require(try await fed.store(c).record(.member, id: id))
                #expect(hidden.removed && hidden.values == Self.expected(city: "Leeds"), "on \(c)")
            }
            let conflict = try #require(try oneDeleteConflict(fed))
            #expect(conflict.candidates.first(where: \.isWinner)?.version.origin.rawValue == "fr")

            // The operator settles it on uk with the real command, keeping uk's edit.
            let settled = try await AcesProcess.runAsync([
                "conflicts", "resolve", conflict.id, "--take", "uk", "--data", fed.node("uk").path,
            ])
            #expect(settled.status == 0, "\(settled.stderr)")
            #expect(try await fed.converge(["fr", "uk"]))
            for c in ["fr", "uk"] {
                let listed = try #require(try fed.store(c).records(.member).first { $0.id == id }, "member missing on \(c)")
                #expect(listed.values == Self.expected(city: "Leeds"), "on \(c)")
                #expect(try fed.store(c).conflicts().isEmpty)
                // `aces conflicts show ID` still finds it, settled, with the same two sides.
                let settled = try #require(try fed.store(c).settledConflicts(kind: .delete).first)
                #expect(settled.id == conflict.id && settled.settledBy?.version.origin.rawValue == "uk")
                #expect(Set(settled.candidates.map(\.version)) == Set(conflict.candidates.map(\.version)))
            }
        }
    }
}
