import AcesCore
import AcesFederation
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// An empty node pulling more than one batch of entries over mutual TLS applies them in a
/// catch-up session's long transactions (`CatchUpSession`): when the pass ends it holds what the
/// peer holds, and its directory answers searches at once.
@Suite(.serialized) struct CatchUpTests {
    @Test func aNodeCatchingUpSeveralBatchesHoldsEverythingAndFindsItsMembersAtOnce() async throws {
        // Given fr holding 3 batches' worth of changes: 1,500 members, each edited four times
        let fed = try RunningFederation(["fr", "de"], interval: 3600)
        defer { fed.shutdownLeftovers() }
        let fr = fed.node("fr")
        let author = try fr.author()
        var ids = [String]()
        let members = 1_500
        let entries = members * 5
        #expect(entries > 2 * FederationAPI.applyBatch)
        try fr.openStore().authorMany(as: author, count: entries) { _, k in
            if k < members {
                let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
                ids.append(id)
                var values = TestNode.member(k, chapter: "fr")
                values["name"] = .string("Member\(k) Catchup")
                values["email"] = .string("m\(k)@example.org")
                return [.set(.member, id: id, values: values)]
            }
            return [.set(.member, id: ids[k % members], values: ["city": .string("Town\(k / members)")])]
        }
        try await fed.start("fr")

        // When de, empty, pulls from fr (one pass, as `aces sync` runs it)
        let de = try fed.store("de")
        let (syncer, http) = try FederationClient.make(
            directory: fed.node("de"), store: de, tls: try fed.node("de").tlsMaterial(), logger: fed.logger)
        let report = try await syncer.pull(from: ChapterID("fr")!)
        try await http.shutdown()

        // Then it applied every entry, holds fr's state and its index of entries by record,
        #expect(report.applied[ChapterID("fr")!] == entries)
        #expect(report.refused.isEmpty)
        #expect(try await de.stateDigest() == fed.store("fr").stateDigest())
        // and finds any member by name, with the city of its last edit, as soon as the pass returns
        for k in [0, 777, members - 1] {
            let page = try await de.directory(DirectoryQuery(viewer: .visitor, text: "member\(k)", limit: 5))
            #expect(page.records.map(\.id) == [ids[k]])
            #expect(page.records.first?.values["city"] == .string("Town4"))
        }
        #expect(try await de.directory(DirectoryQuery(viewer: .visitor, text: "catchup", limit: 1)).total == min(members, Store.countCap))
        await fed.stopAll()
    }
}
