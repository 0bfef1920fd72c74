import AcesCore
import AcesTestSupport
import Testing

/// Every value of a received `set` has the JSON type, size and range its field's row of
/// PROTOCOL.md §1.3 gives, however well the entry is signed; a refusal names the operation,
/// the field and the rule, never the value.
@Suite struct ValueShapeTests {
    let key: SigningKey
    let fr = ChapterID("fr")!

    init() throws { key = try SigningKey(seed: [UInt8](repeating: 7, count: 32)) }

    /// One entry of fr, well signed, setting `field` of a `kind` record to `value`.
    func line(_ kind: RecordKind, _ field: String, _ value: JSONValue) -> [UInt8] {
        let p = Payload(salt: [UInt8](repeating: 1, count: 16), values: [field: value])
        let env = Envelope(
            origin: fr, seq: 1, prev: .zero, hlc: HLC(millis: 5_000, counter: 0), keyID: key.publicKey.keyID(chapter: fr),
            operations: [
                LogOperation(kind: kind, id: "01969a2e-1c00-7000-8000-000000000001", action: .set, bases: [field: []], digest: p.digest)
            ])
        return CanonicalJSON.encode(Entry.sign(env, payloads: [p], with: key).json)
    }

    @Test func everyWrongShapeIsRefusedOnReceipt() throws {
        let cases: [(RecordKind, String, JSONValue, rule: String, secret: String?)] = [
            (.member, "city", 7, "city must be text", nil),
            (.member, "city", ["a": "Marseille"], "city must be text", "Marseille"),
            (.member, "city", ["Marseille"], "city must be text", "Marseille"),
            (.member, "city", true, "city must be text", "true"),
            (.member, "city", 1.5, "city must be text", "1.5"),
            (.member, "links", "https://example.org/me", "links must be a list of links", "example.org"),
            (.member, "links", [7], "links must be a list of text", nil),
            (.event, "capacity", 1.5, "capacity must be a whole number from 0 to 1000000", "1.5"),
            (.event, "capacity", -1, "capacity must be a whole number from 0 to 1000000", "-1"),
            (.event, "capacity", 1_000_001, "capacity must be a whole number from 0 to 1000000", "1000001"),
            (.event, "capacity", "80", "capacity must be a whole number", "\"80\""),
            (.event, "title", 12, "title must be text", nil),
        ]
        for (kind, field, value, rule, secret) in cases {
            // The federation's reader and the general one give the same verdict.
            for read in [{ try Entry(wireLine: $0) }, { try Entry(json: try JSONParser.parse($0)) }] as [([UInt8]) throws -> Entry] {
                do {
                    _ = try read(line(kind, field, value))
                    Issue.record("\(kind) \(field) = \(value) was accepted")
                } catch let error as EntryError {
                    #expect(error.code == "malformed")
                    #expect(error.description.contains("entry fr:1 operation 0: \(rule)"), "\(error)")
                    if let secret { #expect(!error.description.contains(secret), "\(error)") }
                }
            }
        }
    }

    @Test func rightShapesAreAccepted() throws {
        for (kind, field, value) in [
            (RecordKind.event, "capacity", JSONValue.number(0)), (.event, "capacity", 1_000_000), (.event, "capacity", 80),
            (.event, "capacity", nil), (.member, "city", "Marseille"), (.member, "links", ["https://example.org/me"]),
            (.member, "city", nil),
        ] {
            #expect(throws: Never.self) { try Entry(wireLine: line(kind, field, value)) }
        }
    }
}
