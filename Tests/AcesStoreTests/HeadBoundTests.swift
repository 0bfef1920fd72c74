import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// A field keeps at most `RecordState.maxHeads` concurrent versions: a chapter that writes more,
/// each naming no base, has the entry that would exceed the bound refused and quarantined,
/// never a version silently dropped.
@Suite struct HeadBoundTests {
    /// `count` signed entries of `node`, each setting the member's city without naming the
    /// current heads, so each adds one concurrent version.
    func concurrentWrites(_ node: TestNode, id: String, count: Int) -> [Entry] {
        var entries = [Entry]()
        var prev = Digest32.zero
        for seq in 1...Int64(count) {
            let values: [String: JSONValue] = seq == 1 ? TestNode.member(1, chapter: "de") : ["city": .string("City \(seq)")]
            let payload = Payload(salt: [UInt8](repeating: UInt8(seq % 251), count: 16), values: values)
            let op = LogOperation(kind: .member, id: id, action: .set, bases: values.mapValues { _ in [] }, digest: payload.digest)
            let envelope = Envelope(
                origin: node.chapter, seq: seq, prev: prev, hlc: HLC(millis: 1_800_000_000_000 + seq, counter: 0), keyID: node.author.keyID,
                operations: [op])
            let entry = Entry.sign(envelope, payloads: [payload], with: node.key)
            entries.append(entry)
            prev = entry.hash
        }
        return entries
    }

    @Test func anEntryThatWouldExceedTheHeadBoundIsQuarantinedAndNothingIsDropped() throws {
        // Given a chapter that writes one more concurrent city than a state can keep
        let dir = TempDir()
        let fr = try TestNode("fr", in: dir), de = try TestNode("de", in: dir, seed: 2)
        let id = de.newID()
        let entries = concurrentWrites(de, id: id, count: RecordState.maxHeads + 2)

        // When fr applies them
        let report = try fr.store.apply(entries, origin: de.chapter, keys: keyRing([fr, de]))

        // Then every entry up to the bound is applied, the next one is refused and quarantined
        #expect(report.applied == RecordState.maxHeads)
        #expect(report.refusal?.code == "malformed")
        let refused = try fr.store.quarantined()
        #expect(refused.count == 1 && refused.first?.seq == Int64(RecordState.maxHeads + 1))
        #expect(try fr.store.heads().first { $0.origin == de.chapter }?.seq == Int64(RecordState.maxHeads))
        // and the record keeps every head it has, the winner included
        let r = try #require(try fr.store.record(.member, id: id))
        let city = try #require(r.state.fields[RecordKind.member.field("city")!.index])
        #expect(city.heads.count == RecordState.maxHeads)
        #expect(r.values["city"] == .string("City \(RecordState.maxHeads)"))
        #expect(RecordState(encoded: r.state.encoded) == r.state)
    }
}
