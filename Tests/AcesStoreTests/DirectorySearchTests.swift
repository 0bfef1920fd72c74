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
        // A steward's node, so it can write members of both chapters (each owned by its chapter).
        let node = try TestNode("fr", in: TempDir())
        node.becomeSteward(among: ["fr", "uk"])
        var ids = [String: String]()
        for (i, name) in Self.names.enumerated() {
            let visibility = ["public", "public", "members", "chapter"][i % 4]
            let chapter = i % 3 == 0 ? "uk" : "fr"
            let id = node.newID(owner: chapter)
            ids[name] = id
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

    @Test func searchFindsExactlyTheVisibleMatchesInNameOrderAcrossPages() throws {
        let (node, _) = try seeded()
        let everyone = try node.store.records(.member, filter: RecordFilter(limit: 1000))
        for viewer in [Viewer.visitor, .member(id: "x", chapter: ChapterID("fr")!), .member(id: "y", chapter: ChapterID("uk")!)] {
            for text in ["a", "an", "works", "ko", "zo", "analytics video", "mu lyon", "o'brien", "nothing-like-this"] {
                var cursor: DirectoryCursor?
                var found = [Record]()
                repeat {
                    let page = try node.store.directory(DirectoryQuery(viewer: viewer, text: text, limit: 3, after: cursor))
                    found += page.records
                    cursor = page.next
                } while cursor != nil
                // What a person would expect: every visible member with a word starting with each typed word.
                let words = SearchText.words(text)
                let expected = everyone.filter { r in
                    let v = r.values
                    let textWords = ["name", "organisation", "role", "city", "bio"].compactMap { v[$0]?.stringValue }
                        .flatMap { SearchText.words($0, maxWords: 100) }
                    return viewer.maySee(visibility: v["visibility"]?.stringValue, chapter: v["chapter"]?.stringValue)
                        && words.allSatisfy { w in textWords.contains { $0.hasPrefix(w) } }
                }
                #expect(Set(found.map(\.id)) == Set(expected.map(\.id)), "'\(text)' as \(viewer)")
                #expect(found.count == Set(found.map(\.id)).count, "no member twice")
                let keys = found.map { String(SearchText.fold($0.values["name"]?.stringValue ?? "").prefix(8)) }
                #expect(keys == keys.sorted(), "'\(text)' comes in name order")
                let total = try node.store.directory(DirectoryQuery(viewer: viewer, text: text, limit: 1)).total
                #expect(total == expected.count)
            }
        }
    }

    @Test func pagesPastTheCountCapStillReachEveryMatch() throws {
        let node = try TestNode("fr", in: TempDir())
        let n = Store.countCap + 150
        try node.store.authorMany(as: node.author, count: n) { _, k in
            [
                .set(
                    .member, id: node.newID(),
                    values: [
                        "chapter": "fr", "email": .string("p\(k)@example.org"), "name": .string("Person \(k)"), "visibility": "public",
                        "status": "active",
                    ])
            ]
        }
        #expect(try node.store.indexPendingSearch() == n, "one large transaction leaves its members to the bulk indexer")
        var seen = [String]()
        var cursor: DirectoryCursor?
        repeat {
            let page = try node.store.directory(DirectoryQuery(viewer: .visitor, text: "pers", limit: 97, after: cursor))
            #expect(page.total == Store.countCap && !page.totalIsExact)
            seen += page.records.map(\.id)
            cursor = page.next
        } while cursor != nil
        #expect(seen.count == n && Set(seen).count == n)
        // Numbered pages (the HTML directory) past the cap too.
        let late = try node.store.directory(DirectoryQuery(viewer: .visitor, text: "pers", limit: 24, offset: n - 10))
        #expect(late.records.map(\.id) == Array(seen.suffix(10)))
    }

    @Test func membersWaitingForTheBulkIndexerAreNeverShownToWhoMayNotSeeThem() throws {
        let node = try TestNode("fr", in: TempDir())
        var ids = [String]()
        let n = 250
        try node.store.authorMany(as: node.author, count: n) { _, k in
            let id = node.newID()
            ids.append(id)
            return [
                .set(
                    .member, id: id,
                    values: [
                        "chapter": "fr", "email": .string("p\(k)@example.org"), "name": .string("Pending \(k)"), "visibility": "public",
                        "status": "active",
                    ])
            ]
        }
        try node.store.indexPendingSearch()
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "pending")).total == n)
        // One large transaction hides them all; until the indexer runs, the index still says public.
        try node.store.authorMany(as: node.author, count: n) { _, k in [.set(.member, id: ids[k], values: ["visibility": "chapter"])] }
        let meanwhile = try node.store.directory(DirectoryQuery(viewer: .visitor, text: "pending", limit: 50))
        #expect(meanwhile.records.isEmpty && meanwhile.total == 0)
        let ownChapter = try node.store.directory(DirectoryQuery(viewer: .member(id: "x", chapter: ChapterID("fr")!), text: "pending"))
        #expect(ownChapter.total == n)
        #expect(try node.store.indexPendingSearch() == n)
        #expect(try node.store.directory(DirectoryQuery(viewer: .visitor, text: "pending")).total == 0)
    }

    @Test func aCursorOnlyContinuesItsOwnKindOfListing() throws {
        let (node, _) = try seeded()
        let search = try node.store.directory(DirectoryQuery(viewer: .visitor, text: "a", limit: 1))
        let listing = try node.store.directory(DirectoryQuery(viewer: .visitor, limit: 1))
        #expect(throws: StoreError.self) { try node.store.directory(DirectoryQuery(viewer: .visitor, after: search.next)) }
        #expect(throws: StoreError.self) { try node.store.directory(DirectoryQuery(viewer: .visitor, text: "a", after: listing.next)) }
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
