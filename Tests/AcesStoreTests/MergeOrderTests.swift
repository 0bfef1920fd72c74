import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The replicated state is a function of the set of entries held: the same entries applied in
/// any order (each origin's in its own order, interleaved at random, in random batches) give
/// the same state digest.
@Suite struct MergeOrderTests {
    struct History {
        let nodes: [TestNode]
        let entries: [ChapterID: [Entry]]
        let dir: TempDir
    }

    /// Three chapters edit a handful of shared records, syncing with each other now and then,
    /// so their operations name each other's versions and some are concurrent.
    static func history(seed: UInt64, steps: Int = 60) throws -> History {
        let dir = TempDir()
        let clock = ManualClock()
        let nodes = try ["fr", "uk", "de"].map { try TestNode($0, in: dir, clock: clock) }
        let keys = keyRing(nodes)
        var rng = SplitMix(seed: seed)
        var ids = [String]()
        let cities = ["Lyon", "Leeds", "Köln", "Nantes", "Bristol", "Leipzig"]
        for step in 0..<steps {
            let node = nodes[Int(rng.next() % 3)]
            let roll = rng.next() % 10
            if roll < 2 || ids.isEmpty {
                let id = node.newID()
                ids.append(id)
                try node.write([.set(.member, id: id, values: TestNode.member(step, chapter: node.chapter.rawValue))])
            } else if roll < 8 {
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                guard let r = try node.store.record(.member, id: id), !r.state.erased else { continue }
                let field = ["city", "role", "bio"][Int(rng.next() % 3)]
                try node.write([.set(.member, id: id, values: [field: .string(cities[Int(rng.next() % 6)])])])
            } else if roll < 9 {
                let id = ids[Int(rng.next() % UInt64(ids.count))]
                if try node.store.record(.member, id: id) != nil { try node.write([.delete(.member, id: id)]) }
            } else {
                let a = nodes[Int(rng.next() % 3)], b = nodes[Int(rng.next() % 3)]
                if a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) }
            }
            clock.advance(Int64(rng.next() % 3))
        }
        var entries = [ChapterID: [Entry]]()
        for n in nodes { entries[n.chapter] = try n.store.entries(of: n.chapter, after: 0, limit: 10_000) }
        return History(nodes: nodes, entries: entries, dir: dir)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func anyOrderGivesOneDigest(seed: UInt64) throws {
        let h = try Self.history(seed: seed)
        let keys = keyRing(h.nodes)
        var rng = SplitMix(seed: seed * 7919)
        var digests = Set<Digest32>()
        var conflicts = Set<[String]>()
        for round in 0..<8 {
            let replica = try TestNode("nl", in: h.dir, seed: UInt8(round + 10))
            var cursor = [ChapterID: Int](uniqueKeysWithValues: h.entries.keys.map { ($0, 0) })
            while let origin = cursor.filter({ $0.value < h.entries[$0.key]!.count }).keys.sorted().randomElement(using: &rng) {
                let all = h.entries[origin]!
                let n = min(all.count - cursor[origin]!, 1 + Int(rng.next() % 5))
                let batch = Array(all[cursor[origin]!..<cursor[origin]! + n])
                let r = try replica.store.apply(batch, origin: origin, keys: keys)
                #expect(r.applied == n && r.refusal == nil)
                cursor[origin]! += n
            }
            digests.insert(try replica.store.stateDigest())
            conflicts.insert(try replica.store.conflicts().map { "\($0.id) \($0.kind) \($0.candidates.map(\.version.description))" })
        }
        #expect(digests.count == 1)
        #expect(conflicts.count == 1)
        #expect(conflicts.first?.isEmpty == false, "the history should produce at least one conflict to compare")
        // The authors themselves converge to the same state once they have everything.
        for a in h.nodes { for b in h.nodes where a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) } }
        for n in h.nodes { #expect(try n.store.stateDigest() == digests.first) }
    }

    @Test func concurrentEditsOfOneFieldAreAConflictWithOneAutomaticWinner() throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), de = try TestNode("de", in: dir, clock: clock)
        let keys = keyRing([fr, de])
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try sync(from: fr, to: de, keys: keys)
        try fr.write([.set(.member, id: id, values: ["city": "Lyon 2"])])
        try de.write([.set(.member, id: id, values: ["city": "Berlin"])])  // later HLC: the automatic winner
        try sync(from: fr, to: de, keys: keys)
        try sync(from: de, to: fr, keys: keys)
        for n in [fr, de] {
            let r = try #require(try n.store.record(.member, id: id))
            #expect(r.values["city"] == "Berlin")
            #expect(r.conflictedFields == ["city"])
        }
        // A later edit that saw both heads closes the conflict everywhere.
        try fr.write([.set(.member, id: id, values: ["city": "Lyon"])])
        try sync(from: fr, to: de, keys: keys)
        for n in [fr, de] {
            let r = try #require(try n.store.record(.member, id: id))
            #expect(r.values["city"] == "Lyon" && r.conflictedFields.isEmpty)
        }
    }

    @Test func anEraseRemovesTheValuesFromEveryStoredEntry() throws {
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir)
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(7))])
        try fr.write([.set(.member, id: id, values: ["bio": "Unique bio text zq9"])])
        try fr.write([.erase(.member, id: id)])
        try fr.store.checkpoint()
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fr.store.path))
        #expect(bytes.range(of: Data("member7@example.org".utf8)) == nil)
        #expect(bytes.range(of: Data("Unique bio text zq9".utf8)) == nil)
        #expect(try fr.store.verifyLog(keys: keyRing([fr])).isValid)
        let r = try #require(try fr.store.record(.member, id: id))
        #expect(r.removed && r.state.erased && r.values.isEmpty)
        #expect(throws: StoreError.self) { try fr.write([.set(.member, id: id, values: ["city": "Back"])]) }
    }
}
