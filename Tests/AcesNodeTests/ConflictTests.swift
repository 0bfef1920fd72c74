import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

@Suite(.serialized) struct ConflictFederationTests {
    func settle(_ fed: RunningFederation, on c: String, _ id: String, _ resolution: Resolution) throws {
        let node = fed.node(c)
        try node.openStore().author(as: try node.author()) { draft in
            guard let conflict = try draft.conflict(id: id) else { throw StoreError.invalid("gone") }
            return try draft.mutations(resolving: conflict, with: resolution)
        }
    }

    @Test func aPartitionedEditBecomesOneConflictEverywhereAndAThirdNodeSettlesIt() async throws {
        // de and uk are stewards: de may edit fr's member, uk may settle the conflict.
        let fed = try RunningFederation(["fr", "uk", "de"], stewards: ["de", "uk"])
        defer { fed.shutdownLeftovers() }
        try await fed.start("fr", "uk", "de")
        let id = try fed.addMember(on: "fr", 1, city: "Paris")
        #expect(try await fed.converge(["fr", "uk", "de"]))
        await fed.stop("fr", "de")  // fr and de are cut off from everyone
        try fed.update(on: "fr", id: id, ["city": "Lyon"])
        try fed.update(on: "de", id: id, ["city": "Berlin"])
        try await fed.start("fr", "de")
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let lists = try ["fr", "uk", "de"].map { try fed.store($0).conflicts() }
        for l in lists {
            #expect(l.count == 1)
            #expect(l.first?.id == lists[0].first?.id)
            #expect(l.first?.kind == .field && l.first?.field == "city")
            #expect(Set(l.first?.candidates.map(\.version.origin.rawValue) ?? []) == ["fr", "de"])
            #expect(l.first?.candidates.allSatisfy { $0.replaced.first?.value == "Paris" } == true)
        }
        let shown = try #require(try await fed.store("uk").record(.member, id: id)).values["city"]
        #expect(shown == "Lyon" || shown == "Berlin")

        try settle(fed, on: "uk", lists[0][0].id, .take(ChapterID("de")!))
        #expect(try await fed.converge(["fr", "uk", "de"]))
        for c in ["fr", "uk", "de"] {
            #expect(try fed.store(c).conflicts().isEmpty)
            #expect(try await fed.store(c).record(.member, id: id)?.values["city"] == "Berlin")
        }
        await fed.stopAll()
    }

    @Test func aDuplicateEmailIsMergedIntoOneMemberOnEveryNode() async throws {
        // uk is a steward: it may merge fr's and de's duplicates (docs/CONFLICTS.md).
        let fed = try RunningFederation(["fr", "uk", "de"], stewards: ["uk"])
        defer { fed.shutdownLeftovers() }
        let a = try fed.addMember(on: "fr", 1)
        let b = RecordID.mint(millis: 1, random: [UInt8](repeating: 9, count: 10), owner: ChapterID("de")!)
        let de = fed.node("de")
        try de.openStore().author(as: try de.author()) { _ in
            [
                .set(
                    .member, id: b,
                    values: [
                        "chapter": "de", "email": "M1-FR@Example.org", "name": "Member One", "city": "Köln",
                        "organisation": "Pixel Republic",
                        "visibility": "public", "status": "active",
                    ])
            ]
        }
        try await fed.start("fr", "uk", "de")
        #expect(try await fed.converge(["fr", "uk", "de"]))
        let dup = try #require(try fed.store("uk").conflicts(kind: .duplicate).first)
        #expect(Set(dup.records) == [a, b])
        for c in ["fr", "de"] { #expect(try fed.store(c).conflicts(kind: .duplicate).first?.id == dup.id) }

        try settle(fed, on: "uk", dup.id, .mergeInto(a))
        #expect(try await fed.converge(["fr", "uk", "de"]))
        for c in ["fr", "uk", "de"] {
            let store = try fed.store(c)
            #expect(try store.conflicts().isEmpty)
            let survivor = try #require(try await store.record(.member, id: a))
            #expect(!survivor.removed && survivor.values["organisation"] == "Pixel Republic")
            let retired = try #require(try await store.record(.member, id: b))
            #expect(retired.removed && retired.values["merged_into"] == .string(a))
            #expect(try store.records(.member).map(\.id) == [a])
        }
        await fed.stopAll()
    }
}
