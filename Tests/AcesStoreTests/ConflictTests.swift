import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

@Suite struct DeleteConflictTests {
    func pair() throws -> (TestNode, TestNode, KeyRing, String) {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), de = try TestNode("de", in: dir, clock: clock)
        let keys = stewardRing([fr, de])
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try sync(from: fr, to: de, keys: keys)
        return (fr, de, keys, id)
    }

    func settle(_ n: TestNode, _ c: Conflict, _ r: Resolution) throws {
        try n.store.author(as: n.author) { draft in try draft.mutations(resolving: c, with: r) }
    }

    @Test func aDeleteBesideAnEditIsAConflictThatCanBeSettledEitherWay() throws {
        for keepDelete in [true, false] {
            let (fr, de, keys, id) = try pair()
            try de.write([.set(.member, id: id, values: ["city": "Berlin"])])
            try fr.write([.delete(.member, id: id)])  // later: the automatic winner is the delete
            try sync(from: fr, to: de, keys: keys)
            try sync(from: de, to: fr, keys: keys)
            let c = try #require(try fr.store.conflicts().first)
            #expect(c.kind == .delete)
            #expect(try de.store.conflicts().map(\.id) == [c.id])
            #expect(try fr.store.record(.member, id: id)?.removed == true)
            try settle(de, c, .take(ChapterID(keepDelete ? "fr" : "de")!))
            try sync(from: de, to: fr, keys: keys)
            for n in [fr, de] {
                #expect(try n.store.conflicts().isEmpty)
                let r = try #require(try n.store.record(.member, id: id))
                #expect(r.removed == keepDelete)
                if !keepDelete { #expect(r.values["city"] == "Berlin") }
            }
            #expect(try fr.store.stateDigest() == de.store.stateDigest())
        }
    }

    @Test func aMemberKeptRemovedAndLaterBroughtBackHasEveryField() throws {
        // Given fr, uk and de holding a member: cut off, fr deletes it while uk moves it to Leeds,
        // and de, cut off longer, makes it treasurer.
        let dir = TempDir()
        let clock = ManualClock()
        let (fr, uk, de) = (
            try TestNode("fr", in: dir, clock: clock), try TestNode("uk", in: dir, clock: clock), try TestNode("de", in: dir, clock: clock)
        )
        let nodes = [fr, uk, de]
        let keys = stewardRing(nodes)
        func syncAll() throws { for a in nodes { for b in nodes where a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) } } }
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try syncAll()
        try uk.write([.set(.member, id: id, values: ["city": "Leeds"])])
        try fr.write([.delete(.member, id: id)])
        try de.write([.set(.member, id: id, values: ["role": "Treasurer"])])
        try sync(from: uk, to: fr, keys: keys)

        // When fr's operator keeps it removed, then de's edit arrives and de's operator takes it.
        let first = try #require(try fr.store.conflicts().first)
        try settle(fr, first, .take(fr.chapter))
        try syncAll()
        let second = try #require(try de.store.conflicts().first)
        #expect(second.kind == .delete && second.id != first.id)
        try settle(de, second, .take(de.chapter))
        try syncAll()

        // Then the member is back everywhere with every field.
        for n in nodes {
            let r = try #require(try n.store.records(.member).first { $0.id == id })
            #expect(r.values == TestNode.member(1, city: "Leeds").merging(["role": "Treasurer"]) { $1 })
            #expect(try n.store.conflicts().isEmpty)
        }
        #expect(Set(try nodes.map { try $0.store.stateDigest() }).count == 1)
    }

    @Test func aResolutionMadeWhileAnotherEditIsInFlightIsANewVisibleConflict() throws {
        let (fr, de, keys, id) = try pair()
        try fr.write([.set(.member, id: id, values: ["city": "Lyon"])])
        try de.write([.set(.member, id: id, values: ["city": "Berlin"])])
        try sync(from: fr, to: de, keys: keys)
        let c = try #require(try de.store.conflicts().first)
        try fr.write([.set(.member, id: id, values: ["city": "Nice"])])  // in flight, not yet seen by de
        try settle(de, c, .value("Bonn"))
        try sync(from: fr, to: de, keys: keys)
        try sync(from: de, to: fr, keys: keys)
        let after = try fr.store.conflicts()
        #expect(after.count == 1 && after[0].id != c.id)
        #expect(Set(after[0].candidates.compactMap { $0.value?.stringValue }) == ["Nice", "Bonn"])
        #expect(try de.store.conflicts().map(\.id) == after.map(\.id))
    }

    @Test func settlingEverythingWithTheLatestStrategyKeepsTheAutomaticWinners() throws {
        let (fr, de, keys, id) = try pair()
        try fr.write([.set(.member, id: id, values: ["city": "Lyon", "role": "Press officer"])])
        try de.write([.set(.member, id: id, values: ["city": "Berlin", "role": "Brand manager"])])
        try sync(from: de, to: fr, keys: keys)
        let before = try #require(try fr.store.record(.member, id: id))
        #expect(try fr.store.conflicts().count == 2)
        try fr.store.author(as: fr.author) { draft in
            var ms = [Mutation]()
            var values = [String: JSONValue]()
            for c in try draft.openConflicts() {
                for case .set(_, _, let v) in try draft.mutations(resolving: c, with: .latest) { values.merge(v) { $1 } }
            }
            ms.append(.set(.member, id: id, values: values))
            return ms
        }
        let after = try #require(try fr.store.record(.member, id: id))
        #expect(try fr.store.conflicts().isEmpty)
        #expect(after.values["city"] == before.values["city"] && after.values["role"] == before.values["role"])
    }
}

@Suite struct ClockTests {
    @Test func aFarFutureTimestampIsAcceptedAndDoesNotDragTheLocalClock() throws {
        let dir = TempDir()
        let now = ManualClock(1_800_000_000_000)
        let future = ManualClock(1_800_000_000_000 + 86_400_000)  // a peer a day ahead
        let fr = try TestNode("fr", in: dir, clock: now), de = try TestNode("de", in: dir, clock: future)
        let keys = stewardRing([fr, de])
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try sync(from: fr, to: de, keys: keys)
        try de.write([.set(.member, id: id, values: ["city": "Berlin"])])
        let report = try fr.store.apply(de.store.entries(of: de.chapter, after: 0, limit: 10), origin: de.chapter, keys: keys)
        #expect(report.applied == 1 && report.refusal == nil)
        #expect(try fr.store.heads().first { $0.origin == de.chapter }?.hlc.millis == future.now())
        // Our next write is stamped from our own clock, not the skewed one, and still wins
        // because it names the far-future version as its base.
        let e = try #require(try fr.write([.set(.member, id: id, values: ["city": "Lyon"])]))
        #expect(e.envelope.hlc.millis < future.now())
        #expect(try fr.store.record(.member, id: id)?.values["city"] == "Lyon")
        // A peer's timestamp within a minute ahead does move our clock past it.
        let near = try TestNode("uk", in: dir, clock: ManualClock(now.now() + 30_000))
        let keys2 = stewardRing([fr, de, near])
        try near.write([.set(.member, id: near.newID(), values: TestNode.member(2, chapter: "uk"))])
        _ = try fr.store.apply(near.store.entries(of: near.chapter, after: 0, limit: 10), origin: near.chapter, keys: keys2)
        let e2 = try #require(try fr.write([.set(.member, id: id, values: ["city": "Nantes"])]))
        #expect(e2.envelope.hlc.millis >= near.clock.now())
    }
}
