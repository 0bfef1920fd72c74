import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// Chapters own their records (PROTOCOL.md §2, *Ownership*): an operation counts only when its
/// origin owns the record, holds a grant on it, or is a steward; the verdict depends on the set of
/// entries, never on the order they arrive in.
@Suite struct OwnershipTests {
    /// The refused operations a replica lists, as comparable text.
    static func refusals(_ store: Store) throws -> [String] {
        try store.refusedOperations(limit: 100_000).map {
            "\($0.origin):\($0.seq) \($0.kind.rawValue) \($0.record) \($0.code) \($0.reason)"
        }
        .sorted()
    }

    @Test func aChapterCannotWriteAnotherChaptersMemberAndNothingIsWritten() throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), uk = try TestNode("uk", in: dir, clock: clock)
        let keys = keyRing([fr, uk])
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1, chapter: "fr").merging(["visibility": "chapter"]) { $1 })])
        try sync(from: fr, to: uk, keys: keys)
        let before = try uk.store.heads()
        let attacks: [Mutation] = [
            .set(.member, id: id, values: ["visibility": "public"]),
            .set(.member, id: id, values: ["email": "thief@example.org", "links": ["https://evil.example"]]),
            .set(.member, id: id, values: ["status": "inactive"]),
            .set(.member, id: id, values: ["merged_into": .string(fr.newID())]),
            .set(.member, id: id, values: ["chapter": "uk"]),
            .delete(.member, id: id), .erase(.member, id: id),
            .grant(.member, id: id, to: ChapterID("uk")!), .transfer(.member, id: id, to: ChapterID("uk")!),
        ]
        for attack in attacks {
            #expect(throws: StoreError.self) { try uk.write([attack]) }
            do { try uk.write([attack]) } catch let e as StoreError {
                guard case .notOwner(let why) = e else {
                    Issue.record("expected a refusal for ownership, got \(e)")
                    continue
                }
                #expect(why.contains("belongs to fr"), "\(why)")
            }
        }
        #expect(try uk.store.heads() == before, "nothing was written")
        #expect(try uk.store.record(.member, id: id)?.values["visibility"] == "chapter")
    }

    @Test func aLyingChaptersEntriesAreRefusedByEveryReceiverWhileItsHonestOnesFlow() throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), uk = try TestNode("uk", in: dir, clock: clock)
        let de = try TestNode("de", in: dir, clock: clock)
        let keys = keyRing([fr, uk, de])
        let member = fr.newID(), event = fr.newID()
        try fr.write([
            .set(.member, id: member, values: TestNode.member(1).merging(["visibility": "chapter"]) { $1 }),
            .set(
                .event, id: event,
                values: [
                    "chapter": "fr", "title": "Meetup", "start": "2027-03-01T18:00:00Z", "end": "2027-03-01T20:00:00Z",
                    "timezone": "Europe/Paris", "status": "scheduled",
                ]),
        ])
        try sync(from: fr, to: uk, keys: keys)
        let frDigest = try fr.store.stateDigest()
        // uk's own node signs what its CLI refuses: every receiver refuses it for the same reason.
        try uk.writeUnchecked(.set(.member, id: member, values: ["visibility": "public", "email": "x@example.org"]), keys: keys)
        try uk.writeUnchecked(.set(.event, id: event, values: ["status": "cancelled", "start": "2027-03-02T18:00:00Z"]), keys: keys)
        try uk.writeUnchecked(.set(.member, id: member, values: ["merged_into": .string(uk.newID())]), keys: keys)
        try uk.writeUnchecked(.erase(.member, id: member), keys: keys)
        try uk.writeUnchecked(.transfer(.member, id: member, to: ChapterID("de")!), keys: keys)
        // An entry in the old format, which could still write chapter, is judged by the same rule.
        try uk.writeUnchecked(.set(.member, id: member, values: ["chapter": "uk"]), version: 2, keys: keys)
        let honest = uk.newID()
        try uk.write([.set(.member, id: honest, values: TestNode.member(2, chapter: "uk"))])
        try sync(from: uk, to: fr, keys: keys)
        try sync(from: uk, to: de, keys: keys)
        try sync(from: fr, to: de, keys: keys)
        #expect(try fr.store.record(.member, id: member)?.values["visibility"] == "chapter")
        #expect(try fr.store.record(.member, id: member)?.values["chapter"] == "fr")
        #expect(try fr.store.record(.member, id: member)?.state.erased == false)
        #expect(try fr.store.record(.event, id: event)?.values["status"] == "scheduled")
        #expect(try fr.store.record(.member, id: honest) != nil, "uk's honest entries keep flowing")
        #expect(try de.store.record(.member, id: honest) != nil)
        let lists = try [fr, uk, de].map { try Self.refusals($0.store) }
        #expect(lists[0].count == 6)
        #expect(lists[0].allSatisfy { $0.contains("belongs to fr: uk may not change it") })
        #expect(lists[1] == lists[0] && lists[2] == lists[0], "every node refuses the same operations for the same reason")
        #expect(Set(try [fr, uk, de].map { try $0.store.stateDigest() }).count == 1)
        #expect(try fr.store.ownership(of: .member, id: member).owner == ChapterID("fr"))
        _ = frDigest
    }

    @Test func aGrantAllowsEditsARevocationRefusesLaterOnesAndATransferMovesOwnership() throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), uk = try TestNode("uk", in: dir, clock: clock)
        let keys = keyRing([fr, uk])
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try fr.write([.grant(.member, id: id, to: ChapterID("uk")!)])
        try sync(from: fr, to: uk, keys: keys)
        try uk.write([.set(.member, id: id, values: ["city": "Leeds"])])
        // A grant covers fields, not removal.
        #expect(throws: StoreError.self) { try uk.write([.delete(.member, id: id)]) }
        try sync(from: uk, to: fr, keys: keys)
        #expect(try fr.store.record(.member, id: id)?.values["city"] == "Leeds")
        try fr.write([.revoke(.member, id: id, to: ChapterID("uk")!)])
        try sync(from: fr, to: uk, keys: keys)
        #expect(throws: StoreError.self) { try uk.write([.set(.member, id: id, values: ["city": "York"])]) }
        try uk.writeUnchecked(.set(.member, id: id, values: ["city": "York"]), keys: keys)
        try sync(from: uk, to: fr, keys: keys)
        #expect(try fr.store.record(.member, id: id)?.values["city"] == "Leeds", "an edit signed after the revocation is refused")
        try fr.write([.transfer(.member, id: id, to: ChapterID("uk")!)])
        try sync(from: fr, to: uk, keys: keys)
        try uk.write([.set(.member, id: id, values: ["city": "Bristol"])])
        #expect(throws: StoreError.self) { try fr.write([.set(.member, id: id, values: ["city": "Lyon"])]) }
        try sync(from: uk, to: fr, keys: keys)
        for n in [fr, uk] {
            #expect(try n.store.record(.member, id: id)?.values["city"] == "Bristol")
            #expect(try n.store.record(.member, id: id)?.values["chapter"] == "uk", "the chapter shown is the owner")
            #expect(try n.store.ownership(of: .member, id: id).owner == ChapterID("uk"))
        }
        #expect(try fr.store.stateDigest() == uk.store.stateDigest())
    }

    /// docs/CONFLICTS.md, *Who may settle what*: a duplicate identity across two chapters is
    /// settled by the retired duplicate's owner; when the merge also fills the survivor's missing
    /// fields, only once the survivor's owner granted it the survivor. What `aces conflicts list`
    /// and the admin API show (`maySettle`) is what authoring accepts.
    /// fr and uk each hold a member with the same email (`survivor` fr's, `twin` uk's; uk's has
    /// `twinExtra` besides), both nodes hold both.
    func twins(in dir: TempDir, twinExtra: [String: JSONValue] = [:]) throws -> (
        fr: TestNode, uk: TestNode, keys: KeyRing, survivor: String, twin: String
    ) {
        let fr = try TestNode("fr", in: dir), uk = try TestNode("uk", in: dir, seed: 2)
        let keys = keyRing([fr, uk])
        let (survivor, twin) = (fr.newID(), uk.newID())
        try fr.write([.set(.member, id: survivor, values: TestNode.member(1))])
        try uk.write([.set(.member, id: twin, values: TestNode.member(1, chapter: "uk").merging(twinExtra) { $1 })])
        try sync(from: fr, to: uk, keys: keys)
        try sync(from: uk, to: fr, keys: keys)
        return (fr, uk, keys, survivor, twin)
    }

    @Test func aDuplicateAcrossTwoChaptersIsSettledByTheRetiredOnesOwnerAsAuthoringAllows() throws {
        // fr's member lacks a bio that uk's has: merging uk's into fr's writes fr's member too
        let dir = TempDir()
        let (fr, uk, keys, survivor, twin) = try twins(in: dir, twinExtra: ["bio": "Editor"])
        func merge(_ n: TestNode, into id: String) throws {
            let c = try #require(try n.store.conflicts(kind: .duplicate).first)
            try n.store.author(as: n.author) { draft in try draft.mutations(resolving: c, with: .mergeInto(id)) }
        }
        func maySettle(_ n: TestNode) throws -> Bool { try n.store.maySettle(try #require(try n.store.conflicts(kind: .duplicate).first)) }

        // Without a grant uk may not settle it (its merge would write fr's member), and authoring
        // refuses what it would write; fr may (its own member into uk's, which lacks nothing)
        #expect(try !maySettle(uk))
        #expect(throws: StoreError.self) { try merge(uk, into: survivor) }
        #expect(try maySettle(fr))

        // Once fr grants uk the survivor, uk may, and does, merge its own member into it
        try fr.write([.grant(.member, id: survivor, to: ChapterID("uk")!)])
        try sync(from: fr, to: uk, keys: keys)
        #expect(try maySettle(uk))
        try merge(uk, into: survivor)
        try sync(from: uk, to: fr, keys: keys)
        for n in [fr, uk] {
            #expect(try n.store.conflicts(kind: .duplicate).isEmpty)
            #expect(try n.store.record(.member, id: twin)?.values["merged_into"] == .string(survivor))
            #expect(try n.store.record(.member, id: survivor)?.values["bio"] == "Editor")
        }
        #expect(try fr.store.stateDigest() == uk.store.stateDigest())
    }

    /// When the survivor lacks nothing, retiring one's own duplicate into another chapter's
    /// member writes only one's own record: no grant is needed, and the listing says so.
    @Test func retiringOnesOwnDuplicateIntoAnotherChaptersCompleteMemberNeedsNoGrant() throws {
        let dir = TempDir()
        let (fr, uk, keys, survivor, _) = try twins(in: dir)
        let dup = try #require(try uk.store.conflicts(kind: .duplicate).first)
        #expect(try uk.store.maySettle(dup))
        #expect(try fr.store.maySettle(dup), "fr may retire its own member into uk's just as well")
        try uk.store.author(as: uk.author) { draft in try draft.mutations(resolving: dup, with: .mergeInto(survivor)) }
        try sync(from: uk, to: fr, keys: keys)
        #expect(try fr.store.conflicts(kind: .duplicate).isEmpty)
        #expect(try fr.store.stateDigest() == uk.store.stateDigest())
    }

    @Test func anEditThatArrivesBeforeItsGrantIsAppliedOnceTheGrantArrives() throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), uk = try TestNode("uk", in: dir, clock: clock)
        let relay = try TestNode("de", in: dir, clock: clock)
        let keys = keyRing([fr, uk, relay])
        let id = fr.newID()
        try fr.write([.set(.member, id: id, values: TestNode.member(1))])
        try fr.write([.grant(.member, id: id, to: ChapterID("uk")!)])
        try sync(from: fr, to: uk, keys: keys)
        try uk.write([.set(.member, id: id, values: ["city": "Leeds"])])
        // The relay hears from uk first, and holds fr's creation but not yet its grant.
        let frEntries = try fr.store.entries(of: ChapterID("fr")!, after: 0, limit: 10)
        try relay.store.apply([frEntries[0]], origin: ChapterID("fr")!, keys: keys)
        try relay.store.apply(uk.store.entries(of: uk.chapter, after: 0, limit: 10), origin: uk.chapter, keys: keys)
        #expect(try relay.store.record(.member, id: id)?.values["city"] == "Lyon")
        #expect(try Self.refusals(relay.store).count == 1)
        try relay.store.apply([frEntries[1]], origin: ChapterID("fr")!, keys: keys)
        #expect(try relay.store.record(.member, id: id)?.values["city"] == "Leeds")
        #expect(try Self.refusals(relay.store).isEmpty)
        try sync(from: uk, to: fr, keys: keys)
        #expect(try relay.store.stateDigest() == fr.store.stateDigest())
    }

    /// Three chapters and a steward create, edit, grant, revoke, transfer and delete each other's
    /// records at random, some of it against the rule (written without the authoring checks, as a
    /// lying chapter would); any interleaving and batching of their logs gives one state and one
    /// list of refused operations.
    @Test(arguments: [11, 12, 13] as [UInt64])
    func anyOrderGivesOneDigestAndOneRefusalList(seed: UInt64) async throws {
        // Minutes of CPU on a loaded machine: run on a thread of its own, never on the two threads
        // of the concurrency pool that other suites' servers need.
        let o = try await onOwnThread { Result { try Self.interleavings(seed: seed) } }.get()
        #expect(o.digests == 1)
        #expect(o.refusalLists == 1, "\(o.difference)")
        #expect(o.refused > 0, "the history should hold refused operations")
        #expect(o.custody > 5, "the history should hold grants, revocations and transfers")
        #expect(o.authorsAgree, "the authors hold the same state and refusals once they have everything")
    }

    struct Outcome: Sendable {
        var digests = 0, refusalLists = 0, refused = 0, custody = 0
        var authorsAgree = false
        var difference: [String] = []
    }

    static func interleavings(seed: UInt64) throws -> Outcome {
        let dir = TempDir()
        let clock = ManualClock()
        let nodes = try ["fr", "uk", "de", "eu"].map { try TestNode($0, in: dir, clock: clock) }
        let keys = keyRing(nodes, stewards: ["eu"])
        let chapters = nodes.map(\.chapter)
        var rng = SplitMix(seed: seed)
        var ids = [String]()
        var custody = 0
        for step in 0..<160 {
            let node = nodes[Int(rng.next() % 4)]
            let roll = rng.next() % 20
            let target = ids.isEmpty ? nil : ids[Int(rng.next() % UInt64(ids.count))]
            let other = chapters[Int(rng.next() % 4)]
            func attempt(_ m: Mutation) throws {
                do { try node.writeUnchecked(m, keys: keys) } catch StoreError.invalid(_) {}
            }
            if roll < 4 || target == nil {
                let id = node.newID()
                ids.append(id)
                try node.write([.set(.member, id: id, values: TestNode.member(step, chapter: node.chapter.rawValue))])
            } else if let id = target, try node.store.record(.member, id: id) != nil {
                switch roll {
                case 4..<10:
                    try attempt(.set(.member, id: id, values: [["city", "role", "bio"][Int(rng.next() % 3)]: .string("v\(step)")]))
                case 10..<12:
                    try attempt(.grant(.member, id: id, to: other))
                    custody += 1
                case 12:
                    try attempt(.revoke(.member, id: id, to: other))
                    custody += 1
                case 13 where other != node.chapter:
                    try attempt(.transfer(.member, id: id, to: other))
                    custody += 1
                case 14: try attempt(.delete(.member, id: id))
                default:
                    let a = nodes[Int(rng.next() % 4)], b = nodes[Int(rng.next() % 4)]
                    if a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) }
                }
            }
            clock.advance(Int64(rng.next() % 3))
        }
        var entries = [ChapterID: [Entry]]()
        for n in nodes { entries[n.chapter] = try n.store.entries(of: n.chapter, after: 0, limit: 10_000) }
        var orders = SplitMix(seed: seed * 7919)
        var digests = Set<Digest32>(), refusals = Set<[String]>()
        for round in 0..<8 {
            let replica = try TestNode("nl", in: dir, seed: UInt8(round + 10))
            var cursor = [ChapterID: Int](uniqueKeysWithValues: entries.keys.map { ($0, 0) })
            while let origin = cursor.filter({ $0.value < entries[$0.key]!.count }).keys.sorted().randomElement(using: &orders) {
                let all = entries[origin]!
                let n = min(all.count - cursor[origin]!, 1 + Int(orders.next() % 5))
                let r = try replica.store.apply(Array(all[cursor[origin]!..<cursor[origin]! + n]), origin: origin, keys: keys)
                guard r.applied == n && r.refusal == nil else { throw StoreError.invalid("a batch was not applied whole") }
                cursor[origin]! += n
            }
            digests.insert(try replica.store.stateDigest())
            refusals.insert(try Self.refusals(replica.store))
        }
        var o = Outcome(digests: digests.count, refusalLists: refusals.count, refused: refusals.first?.count ?? 0, custody: custody)
        o.difference = Array(refusals.map { Set($0) }.reduce(Set(refusals.first ?? [])) { $0.symmetricDifference($1) })
        for a in nodes { for b in nodes where a.chapter != b.chapter { try sync(from: a, to: b, keys: keys) } }
        o.authorsAgree = try nodes.allSatisfy { n in
            try n.store.stateDigest() == digests.first && Self.refusals(n.store) == refusals.first
        }
        return o
    }
}
