import AcesCore
import AcesTestSupport
import Testing

/// The merge of deletes (docs/PROTOCOL.md §3): from protocol version 2 a delete hides a record
/// and keeps the heads it saw; version-1 deletes keep replacing them, so old logs merge as before.
@Suite struct DeleteMergeTests {
    static let id = "01969a2e-1c00-7000-8000-000000000001"

    /// One operation with its stamp and the protocol version of its entry.
    struct Op {
        let stamp: Stamp
        let op: LogOperation
        let protocolVersion: Int
    }

    static func v(_ s: String) -> Version { Version(s)! }

    static func op(
        _ version: String, at millis: Int64, _ action: Action, _ bases: [String: [String]], protocolVersion: Int = 2
    ) -> Op {
        Op(
            stamp: Stamp(hlc: HLC(millis: millis, counter: 0), version: v(version)),
            op: LogOperation(
                kind: .member, id: id, action: action, bases: bases.mapValues { $0.map(v) }, digest: action == .set ? .zero : nil),
            protocolVersion: protocolVersion)
    }

    /// fr creates the member (fr:1).
    static let created = op("fr:1", at: 100, .set, ["name": [], "email": [], "city": []])

    /// Applies `ops` in order, with "held" meaning "applied before".
    static func state(_ ops: [Op], from start: RecordState = RecordState()) -> RecordState {
        var state = start
        var held = Set<Version>()
        for o in ops {
            _ = state.apply(o.op, stamp: o.stamp, protocolVersion: o.protocolVersion, isHeld: { held.contains($0) })
            held.insert(o.stamp.version)
        }
        return state
    }

    /// `s` with each field's pending versions in one order.
    static func pendingSorted(_ s: RecordState) -> RecordState {
        var out = s
        for (index, fh) in s.fields { out.fields[index]?.pending = fh.pending.sorted { $0.description < $1.description } }
        return out
    }

    static func index(_ field: String) -> Int { RecordKind.member.field(field)!.index }
    static func heads(_ s: RecordState, _ field: String) -> [String] { s.fields[index(field)]?.heads.map(\.version.description) ?? [] }

    @Test func aVersion2DeleteHidesTheRecordAndKeepsTheHeadsItSaw() {
        let deleted = Self.state([
            Self.created, Self.op("fr:2", at: 200, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["fr:1"], "_removed": []]),
        ])
        #expect(deleted.isRemoved && !deleted.hasDeleteConflict && deleted.conflictedFields.isEmpty)
        #expect(Self.heads(deleted, "name") == ["fr:1"] && Self.heads(deleted, "city") == ["fr:1"])

        // An edit that did not see the delete, with a later clock, wins: the record is back, and
        // every field's winner is still the version that wrote it.
        let edited = Self.state([Self.op("uk:1", at: 300, .set, ["city": ["fr:1"]])], from: deleted)
        #expect(!edited.isRemoved && edited.hasDeleteConflict)
        #expect(Self.heads(edited, "name") == ["fr:1"] && Self.heads(edited, "city") == ["uk:1"])
    }

    @Test func aVersion1DeleteStillReplacesTheHeadsItNames() {
        let deleted = Self.state([
            Self.created,
            Self.op("fr:2", at: 200, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["fr:1"]], protocolVersion: 1),
        ])
        #expect(deleted.isRemoved && Self.heads(deleted, "name").isEmpty && deleted.covered.isEmpty)
        #expect(deleted.encoded.first == 1, "a version-1 log keeps the state format it always had")
        let edited = Self.state([Self.op("uk:1", at: 300, .set, ["city": ["fr:1"]])], from: deleted)
        #expect(!edited.isRemoved && edited.hasDeleteConflict && Self.heads(edited, "name").isEmpty)
    }

    @Test func aLaterDeleteOrARestoreClosesTheDeleteConflict() {
        let conflict = [
            Self.created,
            Self.op("fr:2", at: 300, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["fr:1"], "_removed": []]),
            Self.op("uk:1", at: 200, .set, ["city": ["fr:1"]]),
        ]
        let open = Self.state(conflict)
        #expect(open.isRemoved && open.hasDeleteConflict)

        // A delete that saw both sides keeps the record removed and closes the conflict.
        let deletedAgain = Self.state(
            conflict + [Self.op("uk:2", at: 400, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["uk:1"], "_removed": ["fr:2"]])])
        #expect(deletedAgain.isRemoved && !deletedAgain.hasDeleteConflict)

        // A set that names the removal brings the record back with every value.
        let restored = Self.state(conflict + [Self.op("uk:2", at: 400, .set, ["city": ["uk:1"], "_removed": ["fr:2"]])])
        #expect(!restored.isRemoved && !restored.hasDeleteConflict)
        #expect(Self.heads(restored, "name") == ["fr:1"] && Self.heads(restored, "city") == ["uk:2"])
    }

    @Test func aDeleteThatArrivesBeforeWhatItSawStillCoversIt() {
        // de deleted after seeing uk:1; here uk:1 arrives last.
        let ops = [
            Self.created, Self.op("de:1", at: 300, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["uk:1"], "_removed": []]),
            Self.op("uk:1", at: 200, .set, ["city": ["fr:1"]]),
        ]
        let s = Self.state(ops)
        #expect(s.isRemoved && !s.hasDeleteConflict && Self.heads(s, "city") == ["uk:1"])
        #expect(s == Self.state([ops[0], ops[2], ops[1]]))
    }

    /// Sets, version-2 and version-1 deletes, restores and a later delete, from three chapters,
    /// some concurrent: every order gives the same state, byte for byte.
    @Test(arguments: [1, 2, 3, 4] as [UInt64]) func anyOrderGivesTheSameState(seed: UInt64) {
        let ops = [
            Self.created,
            Self.op("uk:1", at: 150, .set, ["city": ["fr:1"], "name": ["fr:1"]]),
            Self.op("de:1", at: 160, .set, ["city": ["fr:1"]]),
            Self.op("fr:2", at: 200, .delete, ["name": ["uk:1"], "email": ["fr:1"], "city": ["uk:1"], "_removed": []]),
            Self.op("be:1", at: 210, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["de:1"]], protocolVersion: 1),
            Self.op("de:2", at: 250, .set, ["city": ["de:1"]]),
            Self.op("uk:2", at: 300, .set, ["city": ["uk:1", "de:2"], "_removed": ["fr:2"]]),
            Self.op("fr:3", at: 320, .set, ["email": ["fr:1"]]),
            Self.op("de:3", at: 400, .delete, ["name": ["uk:1"], "email": ["fr:1"], "city": ["uk:2"], "_removed": ["be:1"]]),
            Self.op("uk:3", at: 410, .set, ["city": ["uk:2"], "_removed": ["be:1"]]),
        ]
        var rng = SplitMix(seed: seed)
        var states = Set<[UInt8]>()
        for _ in 0..<200 {
            let order = ops.shuffled(using: &rng)
            states.insert(Self.state(order).encoded)
            // Any part of the operations, in two orders, is one state too (up to the order of the
            // versions still pending, which the full set empties).
            let part = Array(order.prefix(1 + rng.int(ops.count - 1)))
            #expect(Self.pendingSorted(Self.state(part)) == Self.pendingSorted(Self.state(part.shuffled(using: &rng))))
        }
        #expect(states.count == 1)
        let final = RecordState(encoded: states.first!)!
        #expect(Self.state(ops) == final)
        // Everything a version-2 delete saw still has its head: name and email keep their values.
        #expect(Self.heads(final, "name") == ["uk:1"] && Self.heads(final, "email") == ["fr:3"])
        #expect(final.isRemoved == false && final.hasDeleteConflict)
    }

    @Test func stateFormat1StillReadsAndFormat2RoundTrips() {
        // A state stored before format 2: member city with head fr:1@100.0 and pending uk:7.
        let format1: [UInt8] =
            [1, 0, 1, UInt8(Self.index("city")), 1] + [0, 0, 0x64, 0, 0, 0, 0, 0] + [2] + Array("fr".utf8) + [1, 0, 0, 0, 0, 0, 0, 0]
            + [1, 2] + Array("uk".utf8) + [7, 0, 0, 0, 0, 0, 0, 0]
        let old = RecordState(encoded: format1)
        #expect(old?.fields[Self.index("city")]?.heads == [Stamp(hlc: HLC(millis: 100, counter: 0), version: Self.v("fr:1"))])
        #expect(old?.fields[Self.index("city")]?.pending == [Self.v("uk:7")])
        #expect(old?.covered == [] && old?.encoded == format1)

        let deleted = Self.state([
            Self.created, Self.op("fr:2", at: 200, .delete, ["name": ["fr:1"], "email": ["fr:1"], "city": ["fr:1"], "_removed": []]),
        ])
        #expect(deleted.covered == [Self.v("fr:1")])
        #expect(deleted.encoded.first == 2)
        #expect(RecordState(encoded: deleted.encoded) == deleted)
    }

    @Test func aVersion2DeleteMustNameRemovedAndAVersion1DeleteMayNot() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 3, count: 32))
        let fr = ChapterID("fr")!
        for (version, bases) in [(1, [:]), (2, [:]), (2, ["_removed": []]), (1, ["_removed": []])] as [(Int, [String: [Version]])] {
            let envelope = Envelope(
                origin: fr, seq: 1, prev: .zero, hlc: HLC(millis: 1_000, counter: 0), keyID: key.publicKey.keyID(chapter: fr),
                operations: [LogOperation(kind: .member, id: Self.id, action: .delete, bases: bases, digest: nil)],
                protocolVersion: version)
            let line = CanonicalJSON.encode(Entry.sign(envelope, payloads: [nil], with: key).json)
            if version == 2 && bases.isEmpty {
                #expect(Envelope.decodeCanonical(envelope.canonicalBytes) == nil)
                #expect(throws: EntryError.self) { try Entry(wireLine: line) }
                #expect(throws: EntryError.self) { try Envelope(json: envelope.json) }
            } else {
                #expect(Envelope.decodeCanonical(envelope.canonicalBytes) == envelope)
                #expect(try Entry(wireLine: line).envelope == envelope)
            }
        }
    }
}
