import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import GRDB
import Testing

@Suite struct LogIntegrityTests {
    /// A node with a few members and an event, authored through the real write path.
    func seeded() throws -> (TempDir, TestNode, [String]) {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        var ids = [String]()
        for n in 0..<3 {
            let id = fr.newID()
            ids.append(id)
            try fr.write([.set(.member, id: id, values: TestNode.member(n))])
        }
        try fr.write([.set(.member, id: ids[0], values: ["city": "Marseille", "bio": "Short video and live streaming."])])
        try fr.write([.delete(.member, id: ids[2])])
        return (dir, fr, ids)
    }

    @Test func aFreshLogVerifies() throws {
        let (_, fr, _) = try seeded()
        let result = try fr.store.verifyLog(keys: keyRing([fr]))
        #expect(result.isValid)
        #expect(result.checked[fr.chapter] == 5)
    }

    @Test(arguments: ["envelope", "signature", "payloads", "hash"])
    func flippingOneByteOfAStoredEntryIsNamed(column: String) throws {
        let (_, fr, _) = try seeded()
        // Flip one byte in the middle of the column of entry fr:2, with SQLite directly.
        let queue = try DatabaseQueue(path: fr.store.path)
        try queue.write { db in
            let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM entries ORDER BY rowid LIMIT 1 OFFSET 1")!
            var bytes = [UInt8](try Data.fetchOne(db, sql: "SELECT \(column) FROM entries WHERE rowid = ?", arguments: [rowid])!)
            bytes[bytes.count / 2] ^= 0x01
            try db.execute(sql: "UPDATE entries SET \(column) = ? WHERE rowid = ?", arguments: [Data(bytes), rowid])
        }
        try queue.close()
        let result = try fr.store.verifyLog(keys: keyRing([fr]))
        #expect(!result.isValid)
        #expect(result.problems.first?.origin == fr.chapter)
        #expect(result.problems.first?.seq == 2, "the problem should name fr:2, got \(result.problems)")
    }

    @Test func aDeletedEntryIsNamedAsAGap() throws {
        let (_, fr, _) = try seeded()
        let queue = try DatabaseQueue(path: fr.store.path)
        try queue.write { db in
            try db.execute(sql: "DELETE FROM entries WHERE rowid = (SELECT rowid FROM entries ORDER BY rowid LIMIT 1 OFFSET 2)")
        }
        try queue.close()
        let result = try fr.store.verifyLog(keys: keyRing([fr]))
        #expect(result.problems.first?.seq == 4)
    }

    @Test func aKeyOutsideTheRingIsNamed() throws {
        let (dir, fr, _) = try seeded()
        let stranger = try TestNode("fr", in: dir, seed: 9)
        let result = try fr.store.verifyLog(keys: keyRing([stranger]))
        #expect(result.problems.first?.seq == 1)
        #expect(result.problems.first?.reason.contains("not listed") == true)
    }

    @Test func theStateRebuiltFromTheLogEqualsTheLiveState() throws {
        let (dir, fr, _) = try seeded()
        let rebuilt = try TestNode("fr", in: dir, seed: 1)
        let entries = try fr.store.entries(of: fr.chapter, after: 0, limit: 100)
        let report = try rebuilt.store.apply(entries, origin: fr.chapter, keys: keyRing([fr]))
        #expect(report.applied == 5 && report.refusal == nil)
        #expect(try rebuilt.store.stateDigest() == fr.store.stateDigest())
        #expect(
            try rebuilt.store.records(.member, filter: .init(includeRemoved: true))
                == fr.store.records(.member, filter: .init(includeRemoved: true)))
    }

    @Test func theStateRebuiltFromTheLogKeepsWhatDeletesHid() throws {
        // Given two chapters cut off from each other: fr deletes two members while de edits them,
        // one edit later than the deletes (it wins) and one earlier (an operator brings it back).
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), de = try TestNode("de", in: dir, clock: clock)
        let keys = stewardRing([fr, de])
        let (won, broughtBack) = (fr.newID(), fr.newID())
        try fr.write([.set(.member, id: won, values: TestNode.member(1))])
        try fr.write([.set(.member, id: broughtBack, values: TestNode.member(2))])
        try sync(from: fr, to: de, keys: keys)
        try de.write([.set(.member, id: broughtBack, values: ["city": "Berlin"])])
        try fr.write([.delete(.member, id: won)])
        try fr.write([.delete(.member, id: broughtBack)])
        try de.write([.set(.member, id: won, values: ["city": "Bonn"])])
        try sync(from: de, to: fr, keys: keys)
        let c = try #require(try fr.store.conflicts().first { $0.records == [broughtBack] })
        try fr.store.author(as: fr.author) { draft in try draft.mutations(resolving: c, with: .take(de.chapter)) }

        // When a replica is rebuilt from fr's log alone, origin by origin.
        let rebuilt = try TestNode("fr", in: dir, seed: 1)
        for origin in [de.chapter, fr.chapter] {
            let entries = try fr.store.entries(of: origin, after: 0, limit: 100)
            #expect(try rebuilt.store.apply(entries, origin: origin, keys: keys).refusal == nil)
        }

        // Then it equals the live state, and both members are listed with every field.
        #expect(try rebuilt.store.stateDigest() == fr.store.stateDigest())
        #expect(
            try rebuilt.store.records(.member, filter: .init(includeRemoved: true))
                == fr.store.records(.member, filter: .init(includeRemoved: true)))
        for (id, n, city) in [(won, 1, "Bonn"), (broughtBack, 2, "Berlin")] {
            let r = try #require(try rebuilt.store.records(.member).first { $0.id == id })
            #expect(r.values == TestNode.member(n).merging(["city": .string(city)]) { $1 })
        }
    }

    @Test func nothingIsWrittenWhenAWriteFails() throws {
        let (_, fr, ids) = try seeded()
        let before = try fr.store.stateDigest()
        let heads = try fr.store.heads()
        #expect(throws: StoreError.self) {
            try fr.store.author(as: fr.author) { _ in [.delete(.member, id: "01969a2e-1c00-7000-8000-00000000ffff")] }
        }
        #expect(throws: StoreError.self) {
            try fr.store.author(as: fr.author) { _ in
                [.set(.member, id: ids[1], values: ["city": "Nice"]), .delete(.member, id: "01969a2e-1c00-7000-8000-00000000ffff")]
            }
        }
        #expect(try fr.store.stateDigest() == before)
        #expect(try fr.store.heads() == heads)
    }

    @Test func anUpdateNamesThePreviousVersionAsItsBase() throws {
        let (_, fr, ids) = try seeded()
        let entry = try #require(try fr.store.entries(of: fr.chapter, after: 3, limit: 1).first)
        let op = entry.envelope.operations[0]
        #expect(op.id == ids[0])
        #expect(op.bases["city"] == [Version(origin: fr.chapter, seq: 1)])
        #expect(op.bases["bio"] == [])
    }

    @Test func sequenceNumbersHaveNoGapsAndLinkToTheirPredecessor() throws {
        let (_, fr, _) = try seeded()
        let entries = try fr.store.entries(of: fr.chapter, after: 0, limit: 100)
        #expect(entries.map(\.envelope.seq) == [1, 2, 3, 4, 5])
        for (a, b) in zip(entries, entries.dropFirst()) { #expect(b.envelope.prev == a.hash) }
        #expect(entries.map(\.envelope.hlc) == entries.map(\.envelope.hlc).sorted())
    }
}

@Suite struct ForkTests {
    @Test func twoEntriesForOneSeqAreAForkThatFreezesTheOrigin() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        // A second replica with the same key (a restored laptop, a stolen key) diverges at seq 2.
        try fr.store.checkpoint()
        let twinPath = dir.file("twin.sqlite")
        try FileManager.default.copyItem(atPath: fr.store.path, toPath: twinPath)
        let twin = try Store.open(at: twinPath)
        try fr.write([.set(.member, id: id, values: ["city": "Lyon 1"])])
        try twin.author(as: fr.author) { _ in [.set(.member, id: id, values: ["city": "Nice"])] }

        let uk = try TestNode("uk", in: dir)
        let keys = keyRing([fr, uk])
        #expect(try uk.store.apply(fr.store.entries(of: fr.chapter, after: 0, limit: 10), origin: fr.chapter, keys: keys).applied == 2)
        let forked = try uk.store.apply(twin.entries(of: fr.chapter, after: 0, limit: 10), origin: fr.chapter, keys: keys)
        #expect(forked.refusal == .fork(origin: fr.chapter, seq: 2))
        #expect(forked.duplicates == 1)
        let head = try #require(try uk.store.heads().first { $0.origin == fr.chapter })
        #expect(head.frozen?.contains("fork") == true)
        #expect(try uk.store.quarantined().first?.code == "fork")
        // Frozen: nothing more of fr is applied, from anyone.
        try fr.write([.set(.member, id: id, values: ["city": "Lyon 3"])])
        let later = try uk.store.apply(fr.store.entries(of: fr.chapter, after: 2, limit: 10), origin: fr.chapter, keys: keys)
        #expect(later.applied == 0 && later.refusal == .frozenOrigin(fr.chapter))
    }
}
