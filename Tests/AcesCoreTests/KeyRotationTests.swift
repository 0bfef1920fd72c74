import AcesCore
import Testing

/// `next_key`: an origin names its next signing key in its own chain, signed by the key it
/// replaces; from the next entry on only the new key signs for it.
@Suite struct KeyRotationTests {
    let fr = ChapterID("fr")!
    let first: SigningKey
    let second: SigningKey
    let thief: SigningKey

    init() throws {
        first = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        second = try SigningKey(seed: [UInt8](repeating: 8, count: 32))
        thief = try SigningKey(seed: [UInt8](repeating: 9, count: 32))
    }

    func id(_ k: SigningKey) -> String { k.publicKey.keyID(chapter: fr) }
    /// The roster lists only the first key, as a node that never got the updated roster file.
    var ring: KeyRing { KeyRing([fr: [KeyGrant(keyID: id(first), publicKey: first.publicKey, validFrom: 1_000, validUntil: nil)]]) }

    /// What one step of a hand-built chain does.
    enum Step {
        /// A member write signed by the key.
        case write(SigningKey)
        /// An announcement of `next`, signed by the key.
        case announce(SigningKey, next: SigningKey)
    }

    func chain(_ steps: [Step], after: Entry? = nil) -> [Entry] {
        var prev = after?.hash ?? .zero
        var seq = after?.envelope.seq ?? 0
        var out = [Entry]()
        for step in steps {
            seq += 1
            let hlc = HLC(millis: 5_000 + seq, counter: 0)
            let e: Entry
            switch step {
            case .write(let k):
                let p = Payload(salt: [UInt8](repeating: UInt8(seq), count: 16), values: ["city": .string("City \(seq)")])
                let env = Envelope(
                    origin: fr, seq: seq, prev: prev, hlc: hlc, keyID: id(k),
                    operations: [
                        LogOperation(
                            kind: .member, id: "01969a2e-1c00-7000-8000-000000000001", action: .set, bases: ["city": []], digest: p.digest)
                    ])
                e = Entry.sign(env, payloads: [p], with: k)
            case .announce(let k, let next):
                let env = Envelope(
                    origin: fr, seq: seq, prev: prev, hlc: hlc, keyID: id(k), operations: [],
                    nextKey: KeyAnnouncement(keyID: id(next), publicKey: next.publicKey))
                e = Entry.sign(env, payloads: [], with: k)
            }
            out.append(e)
            prev = e.hash
        }
        return out
    }

    func verifier(_ ring: KeyRing? = nil) -> ChainVerifier {
        ChainVerifier(origin: fr, headSeq: 0, headHash: .zero, keys: ring ?? self.ring)
    }

    @Test func theNewKeySignsAfterTheAnnouncementWithoutARosterUpdate() {
        let run = chain([.write(first), .write(first), .announce(first, next: second), .write(second), .write(second)])
        var v = verifier()
        let verdict = v.verify(run)
        #expect(verdict.accepted == 5 && verdict.refusal == nil)
        #expect(v.chainKey == ChainKey(seq: 3, announcement: KeyAnnouncement(keyID: id(second), publicKey: second.publicKey)))

        // The same run in pieces, the verifier carrying the chain's key from one to the next.
        var pieces = verifier()
        #expect(pieces.verify(Array(run[0..<3])).accepted == 3)
        var resumed = ChainVerifier(origin: fr, headSeq: pieces.headSeq, headHash: pieces.headHash, chainKey: pieces.chainKey, keys: ring)
        #expect(resumed.verify(Array(run[3...])).accepted == 2)
    }

    @Test func theRetiredKeySignsNothingAfterTheAnnouncement() {
        // A thief holding the old key appends to the chain after the rotation.
        let run = chain([.write(first), .announce(first, next: second), .write(first), .write(first)])
        var v = verifier()
        let verdict = v.verify(run)
        #expect(verdict.accepted == 2)
        #expect(verdict.refusal == .retiredKey(origin: fr, seq: 3, keyID: id(first), replacedAt: 2))
        #expect(verdict.refusal?.code == "retired_key")
        // Even listed by the roster with no end, the old key stays retired.
        var both = ring
        both.add(KeyGrant(keyID: id(second), publicKey: second.publicKey, validFrom: 0, validUntil: nil), for: fr)
        var w = verifier(both)
        #expect(w.verify(run).accepted == 2)
    }

    @Test func aForgedAnnouncementIsRefusedEvenWhenTheKeyItNamesSignsTheRest() {
        // The announcement carries a signature by the thief's key under the real key's id, and
        // everything after it is validly signed by the thief's key: the run's last signature is
        // valid, yet nothing from the announcement on is authentic.
        let honest = chain([.write(first), .write(first)])
        let env = Envelope(
            origin: fr, seq: 3, prev: honest[1].hash, hlc: HLC(millis: 5_003, counter: 0), keyID: id(first), operations: [],
            nextKey: KeyAnnouncement(keyID: id(thief), publicKey: thief.publicKey))
        let forged = Entry.sign(env, payloads: [], with: thief)
        let run = honest + [forged] + chain([.write(thief), .write(thief)], after: forged)
        var v = verifier()
        let verdict = v.verify(run)
        #expect(verdict.accepted == 2)
        #expect(verdict.refusal == .badSignature(origin: fr, seq: 3))
        #expect(v.chainKey == nil && v.headSeq == 2)
    }

    @Test func aBrokenAnnouncementStopsTheRunAtItself() {
        // The announcement's signature is broken while the entry after it is validly signed by the
        // key it names: the announcement is refused at once, and what comes before it still stands
        // on its own signatures.
        var run = chain([.write(first), .write(first), .announce(first, next: second), .write(second)])
        var sig = run[2].signature
        sig[0] ^= 1
        run[2] = Entry(envelope: run[2].envelope, envelopeBytes: run[2].envelopeBytes, signature: sig, payloads: [])
        var v = verifier()
        let verdict = v.verify(run)
        #expect(verdict.accepted == 2)
        #expect(verdict.refusal == .badSignature(origin: fr, seq: 3))
    }

    @Test func theRosterCanStillRevokeAnAnnouncedKey() {
        let run = chain([.write(first), .announce(first, next: second), .write(second), .write(second)])
        var revoked = ring
        // The operators retire the second key in the roster from millisecond 5,004 (entry 4's time).
        revoked.add(KeyGrant(keyID: id(second), publicKey: second.publicKey, validFrom: 0, validUntil: 5_004), for: fr)
        var v = verifier(revoked)
        let verdict = v.verify(run)
        #expect(verdict.accepted == 3)
        #expect(verdict.refusal == .unknownKey(origin: fr, seq: 4, keyID: id(second)))
    }

    @Test func announcementsAreWellFormedOrRefused() throws {
        let good = chain([.write(first), .announce(first, next: second)])[1]
        // Round trip: the canonical bytes are those of the JSON form, and the general reader reads them.
        #expect(CanonicalJSON.encode(good.envelope.json) == good.envelopeBytes)
        let read = try Entry(json: good.json)
        #expect(read.envelope.nextKey == good.envelope.nextKey && read.hash == good.hash)
        #expect(String(decoding: good.envelopeBytes, as: UTF8.self).contains(#""next_key":{"id":"\#(id(second))","public_key":"#))

        func mutate(_ f: (inout [String: JSONValue]) -> Void) -> JSONValue {
            guard case .object(var o) = good.json, case .object(var env)? = o["envelope"] else { return good.json }
            f(&env)
            o["envelope"] = .object(env)
            return .object(o)
        }
        let write = chain([.write(first)])[0]
        guard case .object(let w) = write.json, case .object(let wenv)? = w["envelope"] else { return }
        let cases: [(String, JSONValue)] = [
            (
                "an id that is not the key's",
                mutate { $0["next_key"] = ["id": "fr-00000000", "public_key": .string(second.publicKey.base64url)] }
            ),
            (
                "an id of another origin",
                mutate {
                    $0["next_key"] = [
                        "id": .string(second.publicKey.keyID(chapter: ChapterID("uk")!)), "public_key": .string(second.publicKey.base64url),
                    ]
                }
            ),
            ("not a key", mutate { $0["next_key"] = ["id": .string(id(second)), "public_key": "short"] }),
            (
                "an extra member",
                mutate { $0["next_key"] = ["id": .string(id(second)), "public_key": .string(second.publicKey.base64url), "x": 1] }
            ),
            (
                "the signing key itself",
                mutate { $0["next_key"] = ["id": .string(id(first)), "public_key": .string(first.publicKey.base64url)] }
            ),
            ("operations beside it", mutate { $0["ops"] = wenv["ops"]! }),
        ]
        for (what, json) in cases {
            #expect(throws: EntryError.self, "\(what)") { try Entry(json: json) }
        }
        // The fast reader of canonical envelopes leaves announcements to the general one.
        #expect(Envelope.decodeCanonical(good.envelopeBytes) == nil)
    }
}
