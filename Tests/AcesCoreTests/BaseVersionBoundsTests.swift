import AcesCore
import Testing

/// A base names an entry, so its seq is bounded as an envelope's is (1 to 2^40 − 1, PROTOCOL.md
/// §1.2): both readers of a received line, the fast one for canonical bytes and the general one,
/// refuse an entry whose base names a larger seq.
@Suite struct BaseVersionBoundsTests {
    let fr = ChapterID("fr")!

    /// A signed entry fr:2 whose one operation replaced `uk:<seq>`, as a wire line.
    func line(baseSeq: Int64) throws -> [UInt8] {
        let key = try SigningKey(seed: [UInt8](repeating: 9, count: 32))
        let payload = Payload(salt: [UInt8](repeating: 1, count: 16), values: ["city": .string("Lyon")])
        let envelope = Envelope(
            origin: fr, seq: 2, prev: Digest32.sha256(Array("fr:1".utf8)), hlc: HLC(millis: 5_000, counter: 0),
            keyID: key.publicKey.keyID(chapter: fr),
            operations: [
                LogOperation(
                    kind: .member, id: "01969a2e-1c00-7000-8000-000000000001", action: .set,
                    bases: ["city": [Version(origin: ChapterID("uk")!, seq: baseSeq)]], digest: payload.digest)
            ])
        return CanonicalJSON.encode(Entry.sign(envelope, payloads: [payload], with: key).json)
    }

    @Test func aBaseSeqOf2To40IsRefusedAndOneBelowIsRead() throws {
        let largest = try Entry(wireLine: try line(baseSeq: (1 << 40) - 1))
        #expect(largest.envelope.operations[0].bases["city"] == [Version("uk:1099511627775")!])

        let tooLarge = try line(baseSeq: 1 << 40)
        #expect(String(decoding: tooLarge, as: UTF8.self).contains(#""uk:1099511627776""#))
        for read in [{ try Entry(wireLine: tooLarge) }, { try Entry(json: try JSONParser.parse(tooLarge)) }] as [() throws -> Entry] {
            do {
                _ = try read()
                Issue.record("an entry whose base names uk:2^40 was read")
            } catch {
                #expect("\(error)".contains("has a base that is not origin:seq"), "\(error)")
            }
        }
        #expect(Version("uk:1099511627776") == nil && Version("uk:9223372036854775807") == nil)
    }
}
