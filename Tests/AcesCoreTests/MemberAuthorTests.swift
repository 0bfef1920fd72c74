import AcesCore
import Testing

/// `"by": "member"` (PROTOCOL.md §1.1) marks an entry the member made from their own profile:
/// allowed from protocol version 3, on one `set` of one member; every reader, the fast one for
/// canonical bytes and the general one, reaches the same verdict. So does the field
/// `email_visibility`, which entries of version 3 and later may name.
@Suite struct MemberAuthorTests {
    let fr = ChapterID("fr")!
    let member = "01969a2e-1c00-7000-8000-000000000001"

    func line(version: Int, byMember: Bool, field: String = "city", extraOp: Bool = false) throws -> [UInt8] {
        let key = try SigningKey(seed: [UInt8](repeating: 9, count: 32))
        let payload = Payload(salt: [UInt8](repeating: 1, count: 16), values: [field: .string(field == "city" ? "Lyon" : "hidden")])
        var ops = [LogOperation(kind: .member, id: member, action: .set, bases: [field: []], digest: payload.digest)]
        var payloads: [Payload?] = [payload]
        if extraOp {
            ops.append(
                LogOperation(
                    kind: .member, id: "01969a2e-1c00-7000-8000-000000000002", action: .set, bases: [field: []], digest: payload.digest))
            payloads.append(payload)
        }
        let envelope = Envelope(
            origin: fr, seq: 1, prev: .zero, hlc: HLC(millis: 5_000, counter: 0), keyID: key.publicKey.keyID(chapter: fr),
            operations: ops, protocolVersion: version, byMember: byMember)
        return CanonicalJSON.encode(Entry.sign(envelope, payloads: payloads, with: key).json)
    }

    /// The verdicts of both readers: the entry, or the reason it is refused (they must agree).
    func read(_ bytes: [UInt8]) -> (fast: Result<Entry, any Error>, general: Result<Entry, any Error>) {
        (Result { try Entry(wireLine: bytes) }, Result { try Entry(json: try JSONParser.parse(bytes)) })
    }

    @Test func anEntryByAMemberIsReadFromVersion3AndRoundTrips() throws {
        let bytes = try line(version: 3, byMember: true)
        #expect(String(decoding: bytes, as: UTF8.self).contains(#""by":"member""#))
        let (fast, general) = read(bytes)
        #expect(try fast.get().envelope.byMember && general.get().envelope.byMember)
        #expect(try fast.get().envelope.canonicalBytes == general.get().envelope.canonicalBytes)
        #expect(try fast.get().envelope.canonicalBytes == CanonicalJSON.encode(fast.get().envelope.json))
        let admin = try Entry(wireLine: try line(version: 3, byMember: false))
        #expect(!admin.envelope.byMember && !String(decoding: admin.envelope.canonicalBytes, as: UTF8.self).contains("\"by\""))
    }

    @Test func byIsRefusedBeforeVersion3AndOnAnythingButOneMembersSet() throws {
        for (bytes, why) in [
            (try line(version: 2, byMember: true), "by is allowed only in entries of protocol version 3"),
            (try line(version: 3, byMember: true, extraOp: true), "an entry by a member carries exactly one set of a member record"),
        ] {
            let (fast, general) = read(bytes)
            for r in [fast, general] {
                switch r {
                case .success: Issue.record("read an entry that must be refused: \(why)")
                case .failure(let e): #expect("\(e)".contains(why), "\(e)")
                }
            }
        }
    }

    @Test func emailVisibilityIsAFieldOfVersion3() throws {
        #expect(throws: Never.self) { try Entry(wireLine: try line(version: 3, byMember: false, field: "email_visibility")) }
        let (fast, general) = read(try line(version: 2, byMember: false, field: "email_visibility"))
        for r in [fast, general] {
            if case .success = r { Issue.record("a version-2 entry named email_visibility") }
        }
    }
}
