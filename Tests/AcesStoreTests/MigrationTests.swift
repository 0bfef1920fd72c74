import AcesCore
import AcesTestSupport
import Foundation
import GRDB
import Testing

@testable import AcesStore

/// Migrations are frozen: an old replica opened by this version ends as one written by it.
@Suite struct MigrationTests {
    @Test func aReplicaFromBeforeTheDirectoryMigratesToTheSameSortKeysAndSearch() throws {
        // Given a replica at v4 holding members, as v4 wrote them (no sort key, no search index)
        let dir = TempDir()
        let path = dir.file("old.sqlite")
        let pool = try DatabasePool(path: path)
        try Schema.migrator.migrate(pool, upTo: "v4-erasure")
        let names = ["Zoë Martin", "ÉLODIE Durand", "Ana Ōta", "bob smith"]
        try pool.write { db in
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('chapter', 'fr'), ('format', '1')")
            for (i, name) in names.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO members(id, "chapter", name, city, visibility, status, state)
                        VALUES (?, 'fr', ?, 'Lyon', 'public', 'active', ?)
                        """,
                    arguments: ["0193f0c2-7b1e-7c3a-9d2e-5f6a7b8c9d0\(i)", name, Data(RecordState().encoded)])
            }
        }
        try pool.close()

        // When this version opens it
        let store = try Store.open(at: path)

        // Then each sort key is what the applier writes today, and search finds every member
        let keys = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT name, name_key FROM members").map { ($0["name"] as String, $0["name_key"] as String?) }
        }
        for (name, key) in keys { #expect(key == SearchText.fold(name), "\(name)") }
        for (word, name) in [("zoe", "Zoë Martin"), ("elodie", "ÉLODIE Durand"), ("ota", "Ana Ōta"), ("smi", "bob smith")] {
            let page = try store.directory(DirectoryQuery(viewer: .visitor, text: word, chapter: nil, country: nil, limit: 10, after: nil))
            #expect(page.records.map { $0.values["name"]?.stringValue } == [name], "\(word)")
        }
        #expect(try store.operationalCounts().searchPending == 0)
    }
}
