import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import GRDB
import Testing

/// Erasing a record finds its entries through `entry_records`, filled as entries are stored and
/// backfilled by the migration that added it.
@Suite struct ErasureIndexTests {
    /// Whether some stored entry of `node` still holds a value of the record.
    func holdsValues(_ node: TestNode, of id: String) throws -> Bool {
        try node.store.heads().contains { h in
            try node.store.entries(of: h.origin, after: 0, limit: 10_000).contains { e in
                zip(e.envelope.operations, e.payloads).contains { op, p in op.id == id && p != nil }
            }
        }
    }

    @Test func storedEntriesAreIndexedByRecordAndAnErasureScrubsThem() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let (a, b) = (fr.newID(), fr.newID())
        try fr.write([.set(.member, id: a, values: TestNode.member(1)), .set(.member, id: b, values: TestNode.member(2))])
        try fr.write([.set(.member, id: a, values: ["city": "Paris"])])
        let queue = try DatabaseQueue(path: fr.store.path)
        let indexed = try queue.read { db in
            try Row.fetchAll(db, sql: "SELECT record, entry & 1099511627775 AS seq FROM entry_records ORDER BY seq, record").map {
                "\($0["record"] as String)@\($0["seq"] as Int64)"
            }
        }
        #expect(indexed == ["\(min(a, b))@1", "\(max(a, b))@1", "\(a)@2"])

        try fr.store.erase(.member, id: a, reason: "member asked (GDPR Art. 17)", as: fr.author)
        #expect(try !holdsValues(fr, of: a))
        #expect(try holdsValues(fr, of: b))
    }

    @Test func theMigrationBackfillsTheIndexOfAReplicaWrittenBeforeIt() throws {
        // Given a replica whose entries were stored before the index existed
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try fr.write([.set(.member, id: id, values: ["city": "Paris"])])
        let queue = try DatabaseQueue(path: fr.store.path)
        try queue.write { db in
            try db.execute(sql: "DROP TABLE entry_records; DELETE FROM grdb_migrations WHERE identifier = 'v10-entry-records'")
        }
        try queue.close()

        // When it is opened by this version, and the member erased
        let store = try Store.open(at: fr.store.path)
        try store.erase(.member, id: id, reason: "member asked (GDPR Art. 17)", as: fr.author)

        // Then the index was rebuilt from the log and the erasure reached both entries
        let reopened = try DatabaseQueue(path: fr.store.path)
        #expect(
            try reopened.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM entry_records WHERE record = ?", arguments: [id]) }
                == 3)
        #expect(try !holdsValues(fr, of: id))
    }
}
