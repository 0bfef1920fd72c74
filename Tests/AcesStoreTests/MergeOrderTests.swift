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
        /// Members a version-1 delete removed at some point: that rule drops values.
        let deletedByVersion1: Set<String>
        /// Members a version-2 delete removed at some point: they keep every value.
        let deletedByVersion2: Set<String>
    }

    /// Four chapters edit, delete, bring back and settle a handful of shared records, syncing with
    /// each other now and then, so their operations name each other's versions and some are
    /// concurrent. `be` is not upgraded yet: it writes protocol version 1.
    static func history(seed: UInt64, steps: Int = 120) throws -> History {
        let dir = TempDir()
        let clock = ManualClock()
        let nodes = try ["fr", "uk", "de", "be"].map { try TestNode($0, in: dir, clock: clock) }
        let keys = stewardRing(nodes)
        var rng = SplitMix(seed: seed)
        var ids = [String]()
        var deleted1 = Set<String>(), deleted2 = Set<String>()
        let cities = ["Lyon", "Leeds", "Köln", "Nantes", "Bristol", "Leipzig"]
        for step in 0..<steps {
            let node = nodes[Int(rng.next() % 4)]
            let old = node.chapter.rawValue == "be"
            func write(_ m: Mutation) throws { if old { try node.writeAsVersion1(m) } else { try node.write([m]) } }
            let city = JSONValue.string(cities[Int(rng.next() % 6)])
            let roll = rng.next() % 10
            if roll < 2 || ids.isEmpty {
                let id = node.newID()
                ids.append(id)
                try write(.set(.member, id: id, values: TestNode.member(step, chapter: node.chapter.rawValue)))
                continue
            }
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            let r = try node.store.record(.member, id: id)
            if roll < 5 {
                guard let r, !r.state.erased else { continue }
                try write(.set(.member, id: id, values: [["city", "role", "bio"][Int(rng.next() % 3)]: city]))
            } else if roll < 6 {
                guard r != nil else { continue }
                try write(.delete(.member, id: id))
                if old { deleted1.insert(id) } else { deleted2.insert(id) }
            } else if roll < 7 {
                // An operator brings a removed member back.
                guard let r, r.removed else { continue }
                try write(.restore(.member, id: id, values: ["city": city]))
            } else if roll < 8 && !old {
                // An operator settles an open conflict, keeping one of its sides.
                guard let c = try node.store.conflicts().first else { continue }
                let side = c.candidates[Int(rng.next() % UInt64(c.candidates.count))].version.origin
                try node.store.author(as: node.author) { draft in try draft.mutations(resolving: c, with: .take(side)) }
            } else {
                let a = nodes[Int(rng.next() % 4)], b = nodes[Int(rng.next() % 4)]
                if a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) }
            }
            clock.advance(Int64(rng.next() % 3))
        }
        var entries = [ChapterID: [Entry]]()
        for n in nodes { entries[n.chapter] = try n.store.entries(of: n.chapter, after: 0, limit: 10_000) }
        return History(nodes: nodes, entries: entries, dir: dir, deletedByVersion1: deleted1, deletedByVersion2: deleted2)
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func anyOrderGivesOneDigest(seed: UInt64) throws {
        let h = try Self.history(seed: seed)
        let keys = stewardRing(h.nodes)
        var rng = SplitMix(seed: seed * 7919)
        var digests = Set<Digest32>()
        var conflicts = Set<[String]>()
        var states = Set<[Record]>()
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
            // Byte for byte: every record's values, flags and merge state, removed ones included.
            states.insert(try replica.store.records(.member, filter: .init(includeRemoved: true, limit: 10_000)))
        }
        #expect(digests.count == 1)
        #expect(conflicts.count == 1)
        #expect(states.count == 1)
        #expect(conflicts.first?.isEmpty == false, "the history should produce at least one conflict to compare")
        // The authors themselves converge to the same state once they have everything.
        for a in h.nodes { for b in h.nodes where a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) } }
        for n in h.nodes { #expect(try n.store.stateDigest() == digests.first) }
        // A member that only version-2 deletes removed and that is listed again (an edit won over
        // the delete, or an operator brought it back) has every field it was created with.
        let listed = try h.nodes[0].store.records(.member, filter: .init(limit: 10_000))
        let back = listed.filter { h.deletedByVersion2.contains($0.id) && !h.deletedByVersion1.contains($0.id) }
        #expect(!back.isEmpty, "the history should bring back at least one deleted member")
        #expect(!h.deletedByVersion1.isEmpty, "the history should hold version-1 deletes")
        for r in back {
            #expect(
                ["chapter", "email", "name", "city", "visibility", "status"].allSatisfy { r.values[$0] != nil },
                "member \(r.id) came back without some of its fields: \(r.values.keys.sorted())")
        }
    }

    @Test func concurrentEditsOfOneFieldAreAConflictWithOneAutomaticWinner() throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), de = try TestNode("de", in: dir, clock: clock)
        let keys = stewardRing([fr, de])
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
        #expect(try fr.store.verifyLog(keys: stewardRing([fr])).isValid)
        let r = try #require(try fr.store.record(.member, id: id))
        #expect(r.removed && r.state.erased && r.values.isEmpty)
        #expect(throws: StoreError.self) { try fr.write([.set(.member, id: id, values: ["city": "Back"])]) }
    }
}
