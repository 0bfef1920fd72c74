import AcesCore
import AcesTestSupport
import Foundation
import GRDB
import Testing

@testable import AcesStore

/// Store errors keep their cause: a caller tells a busy database from a damaged one, a duplicate
/// email or an erased record from a bad value, by case.
@Suite struct StoreErrorTests {
    @Test func aStepOnABusyDatabaseIsBusyNotADamagedReplica() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        // Given another connection holding the write lock
        let holder = try DatabaseQueue(path: fr.store.path)
        var config = Configuration()
        config.busyMode = .immediateError
        let writer = try DatabaseQueue(path: fr.store.path, configuration: config)
        var error: StoreError?
        try holder.inTransaction(.immediate) { _ in
            // When a raw statement steps a write
            error = #expect(throws: StoreError.self) {
                try writer.inDatabase { db in
                    let insert = RawStatement(try db.makeStatement(sql: "INSERT INTO meta(key, value) VALUES (?, 'x')"))
                    try insert.bind(1, "probe")
                    try insert.run(db)
                }
            }
            return .rollback
        }
        // Then it is `.busy`, which the API answers with 503, not a damaged replica
        #expect(error == .busy)
    }

    @Test func aBindOutOfRangeFailsWithItsSQLiteCode() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let queue = try DatabaseQueue(path: fr.store.path)
        let error = #expect(throws: StoreError.self) {
            try queue.inDatabase { db in
                let select = RawStatement(try db.makeStatement(sql: "SELECT value FROM meta WHERE key = ?"))
                try select.bind(2, "chapter")
            }
        }
        #expect(error == .sqlite(code: 25, message: "column index out of range"))
    }

    @Test func erasingTwiceAndWritingAnErasedRecordSayWhyByCase() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try fr.store.erase(.member, id: id, reason: "asked", as: fr.author)
        #expect(throws: StoreError.alreadyErased(.member, id)) { try fr.store.erase(.member, id: id, reason: "asked", as: fr.author) }
        #expect(throws: StoreError.erased(.member, id)) { try fr.write([.set(.member, id: id, values: ["city": "Nice"])]) }
        #expect(StoreError.alreadyErased(.member, id).description == "member \(id) is already erased")
    }
}
