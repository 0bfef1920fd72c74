import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import GRDB
import Testing

/// A catch-up applies many batches in one long transaction (`CatchUpSession`), with the
/// `entry_records` rows staged and moved into their table when it ends: the replica must end up
/// exactly as when every batch is applied in its own transaction.
@Suite struct CatchUpSessionTests {
    /// Every `entry_records` row, as text.
    func entryRecords(_ store: Store) throws -> [String] {
        try DatabaseQueue(path: store.path).read { db in
            try Row.fetchAll(db, sql: "SELECT record, entry FROM entry_records ORDER BY record, entry").map {
                "\($0["record"] as String)@\($0["entry"] as Int64)"
            }
        }
    }

    /// Applies `entries` of `origin` through one session, `sizes` entries per batch (cycled).
    @discardableResult
    func catchUp(_ store: Store, _ entries: [Entry], origin: ChapterID, keys: KeyRing, sizes: [Int]) throws -> [ApplyReport] {
        let session = CatchUpSession(store: store, origin: origin, keys: keys, peer: nil)
        var reports = [ApplyReport]()
        var at = 0
        var k = 0
        while at < entries.count {
            let n = min(sizes[k % sizes.count], entries.count - at)
            reports.append(try session.applyAndWait(Array(entries[at..<at + n])))
            at += n
            k += 1
        }
        try session.closeAndWait()
        return reports
    }

    @Test(arguments: [1, 2] as [UInt64])
    func manyBatchesInOneTransactionGiveTheStateOfOneTransactionPerBatch(seed: UInt64) throws {
        // Given four chapters' histories of a handful of shared records (each record touched by
        // many operations of one batch and of the batches around it: edits, deletes, merges)
        let h = try MergeOrderTests.history(seed: seed)
        let keys = stewardRing(h.nodes)
        let batchByBatch = try TestNode("nl", in: h.dir, seed: 20)
        let session = try TestNode("pt", in: h.dir, seed: 21)
        for origin in h.entries.keys.sorted() {
            let all = h.entries[origin]!
            var at = 0
            while at < all.count {
                let n = min(3, all.count - at)
                #expect(try batchByBatch.store.apply(Array(all[at..<at + n]), origin: origin, keys: keys).applied == n)
                at += n
            }
            // When a replica takes each origin in one session, in batches of 1 to 7 entries
            let reports = try catchUp(session.store, all, origin: origin, keys: keys, sizes: [1, 7, 2, 5])
            #expect(reports.map(\.applied).reduce(0, +) == all.count)
            #expect(reports.allSatisfy { $0.refusal == nil })
        }
        // Then both hold the same state, byte for byte, and the same index of entries by record
        #expect(try session.store.stateDigest() == batchByBatch.store.stateDigest())
        #expect(
            try session.store.records(.member, filter: .init(includeRemoved: true, limit: 10_000))
                == batchByBatch.store.records(.member, filter: .init(includeRemoved: true, limit: 10_000)))
        #expect(try session.store.conflicts().map(\.id) == batchByBatch.store.conflicts().map(\.id))
        #expect(try entryRecords(session.store) == entryRecords(batchByBatch.store))
        #expect(try !entryRecords(session.store).isEmpty)
    }

    /// fr's four entries: members 1 and 2 created, member 1 moved to Paris, given the bio
    /// "Reporter", then erased; the first three as they were sent before the erasure (fr scrubs
    /// its own copies when it erases).
    func erasedMember(in dir: TempDir) throws -> (TestNode, [Entry]) {
        let fr = try TestNode("fr", in: dir)
        let a = fr.newID()
        try fr.write([.set(.member, id: a, values: TestNode.member(1)), .set(.member, id: fr.newID(), values: TestNode.member(2))])
        try fr.write([.set(.member, id: a, values: ["city": "Paris"])])
        try fr.write([.set(.member, id: a, values: ["bio": "Reporter"])])
        let before = try fr.store.entries(of: fr.chapter, after: 0, limit: 100)
        try fr.store.erase(.member, id: a, reason: "member asked (GDPR Art. 17)", as: fr.author)
        let all = before + (try fr.store.entries(of: fr.chapter, after: 3, limit: 100))
        #expect(all.count == 4)
        return (fr, all)
    }

    @Test func anErasureScrubsTheEntriesOfEarlierBatchesOfItsTransaction() throws {
        // Given a member created, edited twice and erased, each in its own entry
        let dir = TempDir()
        let (fr, all) = try erasedMember(in: dir)

        // When a new node catches up one entry per batch, all in one transaction
        let de = try TestNode("de", in: dir, seed: 2)
        let reports = try catchUp(de.store, all, origin: fr.chapter, keys: keyRing([fr, de]), sizes: [1])
        #expect(reports.contains { $0.erased })

        // Then no stored entry holds a value of the erased member, and the other keeps its own
        try expectOnlyMember2Stored(de.store)
        #expect(try de.store.entries(of: fr.chapter, after: 0, limit: 100).count == all.count)
        #expect(try de.store.stateDigest() == fr.store.stateDigest())
    }

    @Test func aCatchUpCutShortKeepsWhatItCommittedAndTheNextResumesFromThere() throws {
        // Given 40 entries on fr, the same members edited again and again
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let ids = (0..<5).map { _ in fr.newID() }
        for (n, id) in ids.enumerated() { try fr.write([.set(.member, id: id, values: TestNode.member(n))]) }
        for n in 0..<35 { try fr.write([.set(.member, id: ids[n % 5], values: ["city": .string("City \(n)")])]) }
        var all = try fr.store.entries(of: fr.chapter, after: 0, limit: 100)
        let de = try TestNode("de", in: dir, seed: 2)
        let keys = keyRing([fr, de])

        // When a catch-up stops after 17 entries (its session closed), the state holds them all
        try catchUp(de.store, Array(all.prefix(17)), origin: fr.chapter, keys: keys, sizes: [4])
        #expect(try de.store.heads().first { $0.origin == fr.chapter }?.seq == 17)

        // And when the next one meets a forged entry in its third batch, what precedes it stays
        let real = all[30]
        all[30] = Entry(
            envelope: real.envelope, envelopeBytes: real.envelopeBytes, signature: [UInt8](repeating: 7, count: 64),
            payloads: real.payloads)
        let session = CatchUpSession(store: de.store, origin: fr.chapter, keys: keys, peer: "fr")
        var applied = 0
        var refused: EntryError?
        var at = 17
        while at < all.count && refused == nil {
            let r = try session.applyAndWait(Array(all[at..<min(at + 6, all.count)]))
            applied += r.applied
            refused = r.refusal
            at += 6
        }
        try session.closeAndWait()
        #expect(refused != nil)
        #expect(applied == 13)
        #expect(try de.store.heads().first { $0.origin == fr.chapter }?.seq == 30)
        #expect(try de.store.quarantined().count == 1)

        // Then a third catch-up with the real entries ends where fr is
        try catchUp(
            de.store, Array(try fr.store.entries(of: fr.chapter, after: 30, limit: 100)), origin: fr.chapter, keys: keys, sizes: [3])
        #expect(try de.store.stateDigest() == fr.store.stateDigest())
        #expect(try entryRecords(de.store) == entryRecords(fr.store))
    }

    /// How many stored entries hold `text` in their payloads, as bytes on disk (reading entries
    /// through the store would hide an erased record's values even where they were not scrubbed).
    func storedPayloads(_ store: Store, containing text: String) throws -> Int {
        try DatabaseQueue(path: store.path).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM entries WHERE instr(payloads, CAST(? AS BLOB)) > 0", arguments: [text]) ?? 0
        }
    }

    /// No stored payload holds a value of `erasedMember`'s erased member 1; member 2's are there.
    func expectOnlyMember2Stored(_ store: Store) throws {
        #expect(try storedPayloads(store, containing: "Paris") == 0)
        #expect(try storedPayloads(store, containing: "Reporter") == 0)
        #expect(try storedPayloads(store, containing: TestNode.member(1)["email"]!.stringValue!) == 0)
        #expect(try storedPayloads(store, containing: TestNode.member(2)["email"]!.stringValue!) == 1)
    }

    /// Rows in `entry_records_staged`.
    func staged(_ store: Store) throws -> Int {
        try DatabaseQueue(path: store.path).read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM entry_records_staged") ?? 0 }
    }

    @Test func aCatchUpThatStopsWithoutClosingLeavesNothingAnErasureCannotFind() throws {
        // Given a member created and edited twice on fr, then erased
        let dir = TempDir()
        let (fr, all) = try erasedMember(in: dir)

        // When de catches up the first three entries and its session is never closed (the
        // process stopped mid-pass): the transaction commits on its own, the rows stay staged
        let de = try TestNode("de", in: dir, seed: 2)
        let keys = keyRing([fr, de])
        let session = CatchUpSession(store: de.store, origin: fr.chapter, keys: keys, peer: "fr")
        defer { try? session.closeAndWait() }
        for e in all.prefix(3) { #expect(try session.applyAndWait([e]).applied == 1) }
        // The store's one writer is the session's until its transaction commits (0.25 s after
        // the last batch): a checkpoint waits for that commit, without polling.
        try de.store.checkpoint()
        #expect(try de.store.heads().first { $0.origin == fr.chapter }?.seq == 3)
        #expect(try staged(de.store) == 4)
        #expect(try entryRecords(de.store).isEmpty)
        // (a member's history reads the staged rows too)
        let (a, b) = (all[0].envelope.operations[0].id, all[0].envelope.operations[1].id)
        #expect(try de.store.history(.member, id: a).map(\.action) == ["set", "set", "set"])
        #expect(try de.store.history(.member, id: b).count == 1)

        // And the erasure then arrives outside any catch-up
        #expect(try de.store.apply([all[3]], origin: fr.chapter, keys: keys).erased)

        // Then it found every entry of the member: no stored entry holds a value of it, the other
        // member keeps its own
        try expectOnlyMember2Stored(de.store)
        // And the staged rows are in the table now, as on fr
        #expect(try staged(de.store) == 0)
        #expect(try entryRecords(de.store) == entryRecords(fr.store))
        #expect(try de.store.stateDigest() == fr.store.stateDigest())
    }

    @Test func aClosedCatchUpLeavesNothingStaged() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        for n in 0..<30 { try fr.write([.set(.member, id: fr.newID(), values: TestNode.member(n))]) }
        let all = try fr.store.entries(of: fr.chapter, after: 0, limit: 100)
        let de = try TestNode("de", in: dir, seed: 2)
        try catchUp(de.store, all, origin: fr.chapter, keys: keyRing([fr, de]), sizes: [4])
        #expect(try staged(de.store) == 0)
        #expect(try entryRecords(de.store).count == 30)
        #expect(try entryRecords(de.store) == entryRecords(fr.store))
    }
}
