import AcesCore
import AcesTestSupport
import Testing

/// Field limits count bytes of UTF-8, not characters, and refuse stacks of combining marks,
/// both where a value is authored and where a peer's entry carrying it is received.
@Suite struct FieldLimitTests {
    let name = RecordKind.member.field("name")!
    let bio = RecordKind.member.field("bio")!
    let links = RecordKind.member.field("links")!

    func refusal(_ spec: FieldSpec, _ value: JSONValue) -> String? {
        do {
            _ = try spec.validate(value)
            return nil
        } catch { return error.reason }
    }

    @Test func limitsCountBytesNotCharacters() {
        #expect(refusal(name, .string(String(repeating: "a", count: 200))) == nil)
        #expect(refusal(name, .string(String(repeating: "a", count: 201)))?.contains("200 bytes") == true)
        // 66 three-byte characters are 198 bytes; 67 are 201.
        #expect(refusal(name, .string(String(repeating: "李", count: 66))) == nil)
        #expect(refusal(name, .string(String(repeating: "李", count: 67)))?.contains("at most 200 bytes") == true)
        // A 62 KB name of 20,000 characters: refused, and the message does not repeat it.
        let huge = String(repeating: "名", count: 20_000)
        let why = refusal(name, .string(huge))
        #expect(why?.contains("this one has 60000") == true && why?.contains("名") == false)
        #expect(refusal(bio, .string(String(repeating: "é", count: 2_000))) == nil)
        #expect(refusal(bio, .string(String(repeating: "é", count: 2_001))) != nil)
        #expect(refusal(links, .array([.string("https://example.org/" + String(repeating: "a", count: 480))])) == nil)
        #expect(
            refusal(links, .array([.string("https://example.org/" + String(repeating: "a", count: 481))]))?.contains("500 bytes") == true)
    }

    @Test func stackedCombiningMarksAreRefused() {
        // One accent repeated a million times as combining marks: one character, 2 MB.
        #expect(refusal(name, .string("e" + String(repeating: "\u{301}", count: 1_000_000))) != nil)
        let zalgo = "Zoe" + String(repeating: "\u{301}", count: FieldType.maxCombiningMarks + 1)
        #expect(refusal(name, .string(zalgo))?.contains("combining marks") == true)
        #expect(refusal(name, .string("\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}")) != nil, "marks with no base")
        // Real diacritics pass: decomposed Vietnamese (two marks), Hindi, Hebrew with points, Tibetan stacks.
        for ok in [
            "Nguye\u{302}\u{303}n Thi\u{323}\u{302}", "देवनागरी क्षत्रिय", "שָׁלוֹם", "བསྒྲུབས", "Zoë", "e" + String(repeating: "\u{301}", count: 6),
        ] {
            #expect(refusal(name, .string(ok)) == nil, "\(ok)")
        }
    }

    /// Whatever the authoring check accepts, every receiver accepts too.
    @Test func everyAuthoredValueHasAReceivableShape() {
        var g = SplitMix(seed: 3)
        let pieces = ["a", "é", "李", "😀", "\u{301}", " ", "\n", "e\u{302}\u{303}", "Z"]
        for _ in 0..<2_000 {
            var s = ""
            for _ in 0..<g.int(120) { s += g.pick(pieces) }
            for spec in RecordKind.member.fields + RecordKind.event.fields {
                guard let v = try? spec.validate(.string(s)) else { continue }
                #expect(spec.shapeProblem(v) == nil)
            }
        }
    }

    /// A peer's entry, well signed, whose value is too long or stacks marks is refused on
    /// receipt with a reason that names the field and never the value.
    @Test func receivedEntriesWithOversizedOrStackedValuesAreRefused() throws {
        let key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        let fr = ChapterID("fr")!
        func line(_ value: String) -> [UInt8] {
            let p = Payload(salt: [UInt8](repeating: 1, count: 16), values: ["name": .string(value)])
            let env = Envelope(
                origin: fr, seq: 1, prev: .zero, hlc: HLC(millis: 5_000, counter: 0), keyID: key.publicKey.keyID(chapter: fr),
                operations: [
                    LogOperation(
                        kind: .member, id: "01969a2e-1c00-7000-8000-000000000001", action: .set, bases: ["name": []], digest: p.digest)
                ])
            return CanonicalJSON.encode(Entry.sign(env, payloads: [p], with: key).json)
        }
        #expect(throws: Never.self) { try Entry(wireLine: line("Zoë Martin")) }
        for bad in [String(repeating: "x", count: 62_000), "e" + String(repeating: "\u{301}", count: 300)] {
            do {
                _ = try Entry(wireLine: line(bad))
                Issue.record("an oversized or mark-stuffed value was accepted")
            } catch {
                #expect(error.code == "malformed")
                #expect(error.description.contains("operation 0: name must"), "\(error)")
                #expect(!error.description.contains("xxx"))
            }
            // The general reader (any member order) refuses it too.
            #expect(throws: EntryError.self) { try Entry(json: try JSONParser.parse(line(bad))) }
        }
    }
}
