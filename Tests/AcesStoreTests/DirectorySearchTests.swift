import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The directory's search and visibility rules, at the store.
@Suite struct DirectorySearchTests {
    static let names = [
        "Zoë Martin", "Zoe Bernard", "Jürgen Weiß", "Élodie Lefèvre", "Anja Müller", "Anna Schmidt", "Antoine Dubois", "O'Brien Smith",
        "Ólafur Arnalds", "Zacharie Fontaine",
    ]

    func seeded() throws -> (TestNode, [String: String]) {
        let node = try TestNode("fr", in: TempDir())
        var ids = [String: String]()
        for (i, name) in Self.names.enumerated() {
            let id = node.newID()
            ids[name] = id
            let visibility = ["public", "public", "members", "chapter"][i % 4]
            let chapter = i % 3 == 0 ? "uk" : "fr"
            try node.write([
                .set(
                    .member, id: id,
                    values: [
                        "chapter": .string(chapter), "email": .string("m\(i)@example.org"), "name": .string(name),
                        "city": .string(["München", "Lyon", "Köln"][i % 3]), "bio": .string("Works on analytics and video #\(i)"),
                        "visibility": .string(visibility), "status": "active",
                    ])
            ])
        }
        return (node, ids)
    }

    func names(_ page: ListingPage) -> [String] { page.records.compactMap { $0.values["name"]?.stringValue } }

    @Test func foldsAccentsMatchesPrefixesAndSortsByFoldedName() throws {
        let (node, _) = try seeded()
        let fr = Viewer.member(id: "x", chapter: ChapterID("uk")!)
        let all = try node.store.directory(DirectoryQuery(viewer: fr, limit: 100))
        // Sorted with accents folded: Élodie between Antoine and Jürgen, not after Zoë.
        #expect(names(all).firstIndex(of: "Élodie Lefèvre")! < names(all).firstIndex(of: "Jürgen Weiß")!)
        #expect(names(try node.store.directory(DirectoryQuery(viewer: fr, text: "zoe", limit: 100))) == ["Zoe Bernard", "Zoë Martin"])
        #expect(names(try node.store.directory(DirectoryQuery(viewer: fr, text: "ELOD", limit: 100))) == ["Élodie Lefèvre"])
        let munich = try node.store.directory(DirectoryQuery(viewer: fr, text: "munchen", limit: 100))
        #expect(munich.total == names(munich).count && !munich.records.isEmpty)
        #expect(try node.store.directory(DirectoryQuery(viewer: fr, text: "an mul", limit: 100)).records.count == 1)
        // FTS5 syntax typed into the box is just text.
        for typed in ["\"", "a OR b", "NEAR(", "*", "name:zoe", "-", "'; DROP TABLE members; --"] {
            _ = try node.store.directory(DirectoryQuery(viewer: .visitor, text: typed, limit: 100))
        }
    }

    @Test func visibilityHoldsForListingsCountsAndProfiles() throws {
        let (node, ids) = try seeded()
        let visitor = try node.store.directory(DirectoryQuery(viewer: .visitor, limit: 100))
        #expect(visitor.records.allSatisfy { $0.values["visibility"] == "public" } && visitor.total == visitor.records.count)
        let ukMember = Viewer.member(id: "x", chapter: ChapterID("uk")!)
        let seen = try node.store.directory(DirectoryQuery(viewer: ukMember, limit: 100))
        for r in seen.records where r.values["visibility"] == "chapter" { #expect(r.values["chapter"] == "uk") }
        #expect(seen.total == seen.records.count)
        // "Jürgen Weiß" is members-only (index 2); "O'Brien Smith" chapter-only of fr (index 7).
        #expect(try node.store.member(ids["Jürgen Weiß"]!, as: .visitor).record == nil)
        #expect(try node.store.member(ids["Jürgen Weiß"]!, as: ukMember).record != nil)
        #expect(try node.store.member(ids["O'Brien Smith"]!, as: ukMember).record == nil)
        #expect(try node.store.member(ids["O'Brien Smith"]!, as: .member(id: "y", chapter: ChapterID("fr")!)).record != nil)
    }

    @Test func theBroadAndTheNarrowSearchGiveTheSamePages() throws {
        let (node, _) = try seeded()
        for viewer in [Viewer.visitor, .member(id: "x", chapter: ChapterID("fr")!)] {
            for text in ["a", "an", "works", "ko", "zo", "analytics video"] {
                var cursors: [DirectoryCursor?] = [nil, nil]
                var pages: [[String]] = [[], []]
                for (k, threshold) in [0, 1_000_000].enumerated() {
                    repeat {
                        var q = DirectoryQuery(viewer: viewer, text: text, limit: 3, after: cursors[k])
                        q.broadSearchAbove = threshold
                        let page = try node.store.directory(q)
                        pages[k] += page.records.map(\.id)
                        cursors[k] = page.next
                    } while cursors[k] != nil
                }
                #expect(pages[0] == pages[1], "'\(text)' pages differ between the two plans")
                #expect(Set(pages[0]).count == pages[0].count)
            }
        }
    }

    @Test func theIndexFollowsEditsRemovalsAndErasure() throws {
        let (node, ids) = try seeded()
        let id = ids["Zacharie Fontaine"]!
        try node.write([.set(.member, id: id, values: ["name": "Zacharie Fontenay"])])
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "fontaine")).records.isEmpty)
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "fontenay")).records.map(\.id) == [id])
        try node.write([.set(.member, id: id, values: ["status": "inactive"])])
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "fontenay")).records.isEmpty)

        let zoe = ids["Zoë Martin"]!
        try node.write([.set(.member, id: zoe, values: ["bio": "Unforgettable-qx9 biography"])])
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "unforgettable")).records.map(\.id) == [zoe])
        try node.write([.delete(.member, id: zoe)])
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "unforgettable")).records.isEmpty)

        let anja = ids["Anja Müller"]!
        try node.write([.set(.member, id: anja, values: ["bio": "Rememberme-zq4 text"])])
        _ = try node.store.erase(.member, id: anja, reason: "test", as: node.author)
        let fr = Viewer.member(id: "x", chapter: ChapterID("fr")!)
        #expect(try node.store.directory(DirectoryQuery(viewer: fr, text: "rememberme")).records.isEmpty)
        // The erased words left the index's segments as well (after its merge and a checkpoint).
        let bytes = try Data(contentsOf: URL(fileURLWithPath: node.store.path))
        #expect(bytes.range(of: Data("rememberme".utf8)) == nil && bytes.range(of: Data("Rememberme-zq4".utf8)) == nil)
    }
}
