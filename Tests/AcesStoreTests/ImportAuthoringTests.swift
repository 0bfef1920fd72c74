import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// An import authors its changes several per signed entry, in one transaction
/// (`Store.authorImport`): what a peer makes of those entries, what search finds, what a refusal
/// midway leaves.
@Suite struct ImportAuthoringTests {
    static func values(_ k: Int) -> [String: JSONValue] {
        [
            "chapter": "fr", "email": .string("import\(k)@example.org"), "name": .string("Importée Numéro \(k)"), "city": "Lyon",
            "bio": .string("Écrit des lettres, numéro \(k)"), "visibility": .string(k % 3 == 0 ? "members" : "public"),
            "status": "active",
        ]
    }

    func newMember(_ node: TestNode, _ k: Int) -> Mutation { .set(.member, id: node.newID(), values: Self.values(k)) }

    @Test func membersSpreadOverSeveralEntriesAreFoundAtOnceAndAPeerReachesTheSameState() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let n = 500
        // Their payloads made ahead on another thread (`values`), as `aces member import` does.
        let written = try fr.store.authorImport(
            as: fr.author, count: n, grouping: EntryGrouping(operations: 32, bytes: 32 * 1024), values: { Self.values($0) }
        ) { _, k in [newMember(fr, k)] }
        #expect(written == 16, "500 members in entries of at most 32")
        let entries = try fr.store.entries(of: fr.chapter, after: 0, limit: 1000)
        #expect(entries.count == written && entries.map(\.envelope.operations.count).reduce(0, +) == n)
        #expect(entries.allSatisfy { $0.envelope.operations.count <= 32 })

        // Searchable when the import returns: nothing is left to the deferred indexer.
        let member = Viewer.member(id: "x", chapter: ChapterID("fr")!)
        #expect(try fr.store.directory(DirectoryQuery(viewer: member, text: "importee", limit: 1)).total == n)
        #expect(try fr.store.directory(DirectoryQuery(viewer: .visitor, text: "lettres", limit: 1)).total == n - 167)
        #expect(try fr.store.indexPendingSearch() == 0)

        // The log verifies, and a peer that applies it holds the same state, row for row.
        #expect(try fr.store.verifyLog(keys: keyRing([fr])).isValid)
        let de = try TestNode("de", in: dir)
        let keys = keyRing([fr, de])
        let report = try de.store.apply(entries, origin: fr.chapter, keys: keys)
        #expect(report.applied == written && report.refusal == nil)
        try de.store.indexPendingSearch()
        #expect(try de.store.stateDigest() == fr.store.stateDigest())
        let all = RecordFilter(includeRemoved: true, limit: 10_000)
        #expect(try de.store.records(.member, filter: all) == fr.store.records(.member, filter: all))
        #expect(try de.store.directory(DirectoryQuery(viewer: member, text: "importee", limit: 1)).total == n)

        // Later single edits build on the imported versions on both nodes.
        let id = try fr.store.records(.member, filter: RecordFilter(limit: 1))[0].id
        try fr.write([.set(.member, id: id, values: ["city": "Marseille"])])
        #expect(
            try de.store.apply(fr.store.entries(of: fr.chapter, after: Int64(written), limit: 10), origin: fr.chapter, keys: keys).applied
                == 1)
        #expect(try de.store.stateDigest() == fr.store.stateDigest())
    }

    @Test func aChangeRefusedMidwayWritesNothing() throws {
        let fr = try TestNode("fr", in: TempDir())
        try fr.write([.set(.member, id: fr.newID(), values: TestNode.member(1))])
        let digest = try fr.store.stateDigest()
        let log = try fr.store.entries(of: fr.chapter, after: 0, limit: 100).map(\.hash)
        // Past the first entries of the import (32 changes each) and past 2,000 changes, the size of
        // the transactions imports used to be split into.
        #expect(throws: StoreError.self) {
            try fr.store.authorImport(as: fr.author, count: 2_500) { _, k in
                if k == 2_300 { throw StoreError.invalid("line \(k + 2) is refused") }
                return [newMember(fr, k)]
            }
        }
        #expect(try fr.store.entries(of: fr.chapter, after: 0, limit: 100).map(\.hash) == log)
        #expect(try fr.store.stateDigest() == digest)
        #expect(try fr.store.directory(DirectoryQuery(viewer: .visitor, text: "importee", limit: 1)).total == 0)
        #expect(try fr.store.indexPendingSearch() == 0)
    }

    @Test func anEntryStaysWithinItsBytesAndTwoChangesOfOneRecordGoToTwoEntries() throws {
        let fr = try TestNode("fr", in: TempDir())
        let bio = String(repeating: "Une très longue présentation. ", count: 130)  // about 3,900 bytes
        let ids = (0..<37).map { _ in fr.newID() }
        let written = try fr.store.authorImport(as: fr.author, count: 38, grouping: EntryGrouping(operations: 1000, bytes: 32 * 1024)) {
            _, k in
            // About 8 members fit in 32 KiB. The last change touches a member of the entry being
            // filled again: it cannot share that member's entry.
            if k == 37 { return [.set(.member, id: ids[33], values: ["city": "Nantes"])] }
            var values = TestNode.member(k)
            values["bio"] = .string(bio)
            return [.set(.member, id: ids[k], values: values)]
        }
        let entries = try fr.store.entries(of: fr.chapter, after: 0, limit: 100)
        #expect(entries.count == written && written == 6)
        #expect(entries.last?.envelope.operations.count == 1)
        for e in entries {
            let line = e.envelopeBytes.count + CanonicalJSON.encode(e.payloadsJSON).count + 100
            #expect(line < 40 * 1024, "an entry is closed once it passes 32 KiB")
        }
        let edited = try fr.store.record(.member, id: ids[33])
        #expect(edited?.values["city"] == "Nantes" && edited?.values["bio"] == .string(bio))
        #expect(try fr.store.verifyLog(keys: keyRing([fr])).isValid)
    }
}
