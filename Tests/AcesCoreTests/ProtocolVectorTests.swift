import AcesCore
import Foundation
import Testing

/// The golden entries of docs/PROTOCOL.md: a fixed key and fixed salts give fixed canonical
/// bytes, hashes and signatures, so any change of format fails here.
@Suite struct ProtocolVectorTests {
    static func vectors(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/\(name)").path
    }
    /// The vectors of the version this code writes; those of earlier versions stay, and must still verify.
    static let vectorsPath = vectors("log-v\(Envelope.formatVersion).json")

    /// The three entries of the vectors, built from first principles.
    static func makeEntries() throws -> (SigningKey, [Entry]) {
        let key = try SigningKey(seed: (0..<32).map { UInt8($0) })
        let fr = ChapterID("fr")!
        let keyID = key.publicKey.keyID(chapter: fr)
        // Version 3: the id names its creator (a UUIDv8 ending in fr's owner tag, 67ad8f41), and the
        // chapter is the owner's, never written.
        let member = RecordID.mint(millis: 1_767_225_600_000, random: [UInt8](repeating: 0, count: 9) + [1], owner: fr)
        let p1 = Payload(
            salt: [UInt8](repeating: 0x11, count: 16),
            values: [
                "email": "zoe@example.fr", "name": "Zoë Martin", "city": "Lyon", "visibility": "public", "status": "active",
            ])
        let e1 = Entry.sign(
            Envelope(
                origin: fr, seq: 1, prev: .zero, hlc: HLC(millis: 1_767_225_600_000, counter: 0), keyID: keyID,
                operations: [
                    LogOperation(
                        kind: .member, id: member, action: .set, bases: Dictionary(uniqueKeysWithValues: p1.values.keys.map { ($0, []) }),
                        digest: p1.digest)
                ]),
            payloads: [p1], with: key)
        let p2 = Payload(salt: [UInt8](repeating: 0x22, count: 16), values: ["city": "Marseille"])
        let e2 = Entry.sign(
            Envelope(
                origin: fr, seq: 2, prev: e1.hash, hlc: HLC(millis: 1_767_225_600_000, counter: 1), keyID: keyID,
                operations: [
                    LogOperation(kind: .member, id: member, action: .set, bases: ["city": [Version(origin: fr, seq: 1)]], digest: p2.digest)
                ]),
            payloads: [p2], with: key)
        let e3 = Entry.sign(
            Envelope(
                origin: fr, seq: 3, prev: e2.hash, hlc: HLC(millis: 1_767_225_660_000, counter: 0), keyID: keyID,
                operations: [
                    LogOperation(
                        kind: .member, id: member, action: .delete,
                        bases: [
                            "_removed": [], "city": [Version(origin: fr, seq: 2)],
                            "email": [Version(origin: fr, seq: 1)],
                            "name": [Version(origin: fr, seq: 1)], "status": [Version(origin: fr, seq: 1)],
                            "visibility": [Version(origin: fr, seq: 1)],
                        ], digest: nil)
                ]),
            payloads: [nil], with: key)
        return (key, [e1, e2, e3])
    }

    static func vectorJSON(key: SigningKey, entries: [Entry]) -> JSONValue {
        .object([
            "seed": .string(Hex.encode(key.seed)),
            "public_key": .string(key.publicKey.base64url),
            "key_id": .string(key.publicKey.keyID(chapter: ChapterID("fr")!)),
            "entries": .array(
                entries.map { e in
                    .object([
                        "entry": e.json,
                        "canonical_envelope": .string(String(decoding: e.envelopeBytes, as: UTF8.self)),
                        "envelope_sha256": .string(Digest32.sha256(e.envelopeBytes).hex),
                        "signature_hex": .string(Hex.encode(e.signature)),
                        "hash": .string(e.hash.hex),
                        "payload_digests": .array(e.payloads.map { $0.map { .string($0.digest.hex) } ?? .null }),
                    ])
                }),
        ])
    }

    @Test func goldenVectorsMatchByteForByte() throws {
        let (key, entries) = try Self.makeEntries()
        let fresh = CanonicalJSON.encode(Self.vectorJSON(key: key, entries: entries))
        if ProcessInfo.processInfo.environment["ACES_WRITE_VECTORS"] == "1" {
            try Data(fresh).write(to: URL(fileURLWithPath: Self.vectorsPath))
        }
        let golden = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.vectorsPath)))
        #expect(fresh == golden, "the entry format changed: a format change must be a new protocol version")
    }

    @Test(arguments: ["log-v1.json", "log-v2.json", "log-v3.json"]) func goldenEntriesVerifyFromTheirJSONAlone(_ file: String) throws {
        let golden = try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: Self.vectors(file)))))
        let pub = try PublicSigningKey(base64url: golden["public_key"]!.stringValue!)
        let fr = ChapterID("fr")!
        let ring = KeyRing([fr: [KeyGrant(keyID: golden["key_id"]!.stringValue!, publicKey: pub, validFrom: 0, validUntil: nil)]])
        var entries = [Entry]()
        for v in golden["entries"]!.arrayValue! {
            let e = try Entry(json: v["entry"]!)
            #expect(String(decoding: e.envelopeBytes, as: UTF8.self) == v["canonical_envelope"]!.stringValue!)
            #expect(e.hash.hex == v["hash"]!.stringValue!)
            #expect(e.isSigned(by: pub))
            entries.append(e)
        }
        var verifier = ChainVerifier(origin: fr, headSeq: 0, headHash: .zero, keys: ring)
        let verdict = verifier.verify(entries)
        #expect(verdict.accepted == 3 && verdict.refusal == nil)
    }

    static let rotationPath = vectors("log-v\(Envelope.formatVersion)-next-key.json")

    /// Entries 4 and 5 after the three above: 4, signed by the first key, names a second key
    /// (seed 32…63) as `next_key`; 5 is signed by that second key.
    static func makeRotation() throws -> (SigningKey, [Entry]) {
        let (first, three) = try makeEntries()
        let second = try SigningKey(seed: (32..<64).map { UInt8($0) })
        let fr = ChapterID("fr")!
        let e4 = Entry.sign(
            Envelope(
                origin: fr, seq: 4, prev: three[2].hash, hlc: HLC(millis: 1_767_225_720_000, counter: 0),
                keyID: first.publicKey.keyID(chapter: fr), operations: [],
                nextKey: KeyAnnouncement(keyID: second.publicKey.keyID(chapter: fr), publicKey: second.publicKey)),
            payloads: [], with: first)
        let p5 = Payload(salt: [UInt8](repeating: 0x55, count: 16), values: ["name": "Zoë Martin", "city": "Lyon"])
        let firstMember = three[0].envelope.operations[0].id
        let e5 = Entry.sign(
            Envelope(
                origin: fr, seq: 5, prev: e4.hash, hlc: HLC(millis: 1_767_225_780_000, counter: 0),
                keyID: second.publicKey.keyID(chapter: fr),
                operations: [
                    LogOperation(
                        kind: .member,
                        id: RecordID.mint(millis: 1_767_225_780_000, random: [UInt8](repeating: 0, count: 9) + [2], owner: fr),
                        action: .set, bases: ["name": [], "city": []], digest: p5.digest),
                    // Version 3: fr lets uk edit its first member.
                    LogOperation(kind: .member, id: firstMember, action: .grant, bases: [:], digest: nil, to: ChapterID("uk")!),
                ]),
            payloads: [p5, nil], with: second)
        return (second, [e4, e5])
    }

    @Test func rotationVectorsMatchByteForByteAndVerify() throws {
        let (second, rotation) = try Self.makeRotation()
        let fresh = CanonicalJSON.encode(Self.vectorJSON(key: second, entries: rotation))
        if ProcessInfo.processInfo.environment["ACES_WRITE_VECTORS"] == "1" {
            try Data(fresh).write(to: URL(fileURLWithPath: Self.rotationPath))
        }
        let golden = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.rotationPath)))
        #expect(fresh == golden, "the entry format changed: a format change must be a new protocol version")
        // Read back from the file alone, after the first three, with a roster that lists only the first key.
        let (first, three) = try Self.makeEntries()
        let json = try JSONParser.parse(golden)
        let read = try json["entries"]!.arrayValue!.map { try Entry(json: $0["entry"]!) }
        let fr = ChapterID("fr")!
        let ring = KeyRing([
            fr: [KeyGrant(keyID: first.publicKey.keyID(chapter: fr), publicKey: first.publicKey, validFrom: 0, validUntil: nil)]
        ])
        var verifier = ChainVerifier(origin: fr, headSeq: 0, headHash: .zero, keys: ring)
        let verdict = verifier.verify(three + read)
        #expect(verdict.accepted == 5 && verdict.refusal == nil)
        #expect(json["public_key"]?.stringValue == second.publicKey.base64url)
    }

    @Test func canonicalEnvelopeHasSortedKeysAndNoWhitespace() throws {
        let (_, entries) = try Self.makeEntries()
        let text = String(decoding: entries[1].envelopeBytes, as: UTF8.self)
        #expect(text.hasPrefix("{\"hlc\":[1767225600000,1],\"key\":\"fr-"))
        #expect(!text.contains(" "))
        #expect(CanonicalJSON.isCanonical(entries[1].envelopeBytes))
    }
}

@Suite struct CanonicalEnvelopeTests {
    @Test func theDirectWriterMatchesTheGenericCanonicalEncoder() throws {
        let (_, entries) = try ProtocolVectorTests.makeEntries()
        for e in entries { #expect(e.envelope.canonicalBytes == CanonicalJSON.encode(e.envelope.json)) }
        let odd = Envelope(
            origin: ChapterID("be-nl")!, seq: 1 << 39, prev: .zero, hlc: HLC(millis: HLC.maxMillis, counter: 65_535),
            keyID: "be-nl-\u{e9}\"\\",
            operations: [
                LogOperation(
                    kind: .event, id: "01969a2e-1c00-7000-8000-000000000002", action: .erase,
                    bases: [
                        "_removed": [Version("fr:3")!], "end": [], "capacity": [Version("de:9")!, Version("uk:12")!],
                    ], digest: nil),
                LogOperation(kind: .member, id: "01969a2e-1c00-7000-8000-000000000003", action: .set, bases: ["city": []], digest: .zero),
            ])
        #expect(odd.canonicalBytes == CanonicalJSON.encode(odd.json))
    }
}

@Suite struct WireLineTests {
    @Test func aWireLineReadsLikeItsJSON() throws {
        let (_, entries) = try ProtocolVectorTests.makeEntries()
        for e in entries {
            let line = CanonicalJSON.encode(e.json)
            let fast = try Entry(wireLine: line)
            #expect(fast.hash == e.hash && fast.payloads == e.payloads && fast.envelope == e.envelope)
            // Whitespace between members is fine; the envelope itself must stay canonical.
            let spaced = Array(
                String(decoding: line, as: UTF8.self).replacingOccurrences(of: ",\"signature\"", with: " , \"signature\"").utf8)
            #expect(try Entry(wireLine: spaced).hash == e.hash)
        }
        let e = entries[1]
        let text = String(decoding: CanonicalJSON.encode(e.json), as: UTF8.self)
        let nonCanonical = text.replacingOccurrences(of: "{\"hlc\"", with: "{ \"hlc\"")
        #expect(throws: EntryError.malformed("the envelope is not in canonical form")) { try Entry(wireLine: Array(nonCanonical.utf8)) }
        #expect(throws: EntryError.self) { try Entry(wireLine: Array("{\"envelope\":{}}".utf8)) }
        #expect(throws: EntryError.self) { try Entry(wireLine: Array("{\"envelope\":".utf8)) }
    }
}

@Suite struct FastEnvelopeDecodingTests {
    @Test func theStrictReaderAgreesWithTheGeneralOneOnCanonicalEnvelopes() throws {
        let (_, entries) = try ProtocolVectorTests.makeEntries()
        for e in entries {
            let fast = try #require(Envelope.decodeCanonical(e.envelopeBytes))
            #expect(fast == (try Envelope(json: JSONParser.parse(e.envelopeBytes))))
            #expect(fast.canonicalBytes == e.envelopeBytes)
        }
    }

    @Test func theStrictReaderDeclinesAnythingNotExactlyCanonical() throws {
        let (_, entries) = try ProtocolVectorTests.makeEntries()
        let text = String(decoding: entries[1].envelopeBytes, as: UTF8.self)
        let variants = [
            text.replacingOccurrences(of: "{\"hlc\"", with: "{ \"hlc\""),
            text.replacingOccurrences(of: "\"seq\":2", with: "\"seq\":02"),
            text.replacingOccurrences(of: "\"seq\":2", with: "\"seq\":2.0"),
            text.replacingOccurrences(of: "\"kind\":\"member\"", with: "\"kind\":\"m\\u0065mber\""),
            text.replacingOccurrences(of: "\"v\":\(Envelope.formatVersion)}", with: "\"v\":\(Envelope.formatVersion),\"x\":1}"),
            text.replacingOccurrences(of: "\"v\":\(Envelope.formatVersion)}", with: "\"v\":\(Envelope.formatVersion + 1)}"),
            // Version 3: a set never writes chapter.
            text.replacingOccurrences(of: "\"city\":[\"fr:1\"]", with: "\"chapter\":[],\"city\":[\"fr:1\"]"),
            text.replacingOccurrences(of: "\"kind\":\"member\"", with: "\"kind\":\"planet\""),
            text.replacingOccurrences(of: "\"city\":[\"fr:1\"]", with: "\"city\":[\"fr:1\",\"fr:1\"]"),
            text.replacingOccurrences(of: "\"city\":[\"fr:1\"]", with: "\"city\":[\"fr:2\"]"),
            String(text.dropLast()),
        ]
        for v in variants {
            #expect(Envelope.decodeCanonical(Array(v.utf8)) == nil, "accepted: \(v)")
        }
    }
}
