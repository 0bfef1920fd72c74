import AcesCore
import Testing

@Suite struct ChainVerifierTests {
    let fr = ChapterID("fr")!
    let key: SigningKey
    let other: SigningKey

    init() throws {
        key = try SigningKey(seed: [UInt8](repeating: 7, count: 32))
        other = try SigningKey(seed: [UInt8](repeating: 8, count: 32))
    }

    var keyID: String { key.publicKey.keyID(chapter: fr) }
    var ring: KeyRing { KeyRing([fr: [KeyGrant(keyID: keyID, publicKey: key.publicKey, validFrom: 1_000, validUntil: 1_000_000)]]) }

    /// A chain of `n` signed entries of `fr`, each setting one member's city.
    func chain(_ n: Int, signer: SigningKey? = nil, keyID: String? = nil, startMillis: Int64 = 5_000) -> [Entry] {
        var prev = Digest32.zero
        var out = [Entry]()
        for i in 1...n {
            let p = Payload(salt: [UInt8](repeating: UInt8(i), count: 16), values: ["city": .string("City \(i)")])
            let env = Envelope(
                origin: fr, seq: Int64(i), prev: prev, hlc: HLC(millis: startMillis + Int64(i), counter: 0), keyID: keyID ?? self.keyID,
                operations: [
                    LogOperation(
                        kind: .member, id: "01969a2e-1c00-7000-8000-000000000001", action: .set, bases: ["city": []], digest: p.digest)
                ])
            let e = Entry.sign(env, payloads: [p], with: signer ?? key)
            out.append(e)
            prev = e.hash
        }
        return out
    }

    func verify(_ run: [Entry]) -> ChainVerifier.Verdict {
        var v = ChainVerifier(origin: fr, headSeq: 0, headHash: .zero, keys: ring)
        return v.verify(run)
    }

    @Test func acceptsAValidRun() {
        let v = verify(chain(10))
        #expect(v.accepted == 10 && v.refusal == nil)
    }

    @Test func refusesAGap() {
        var run = chain(5)
        run.remove(at: 2)
        let v = verify(run)
        #expect(v.accepted == 2)
        #expect(v.refusal == .gap(origin: fr, expected: 3, got: 4))
    }

    @Test func refusesAReorderedRun() {
        var run = chain(4)
        run.swapAt(1, 2)
        #expect(verify(run).accepted == 1)
    }

    @Test func refusesABrokenLink() {
        var run = chain(3)
        let forged = chain(3, startMillis: 9_000)
        run[1] = forged[1]  // valid signature, but its prev names a different first entry
        let v = verify(run)
        #expect(v.accepted == 1)
        #expect(v.refusal == .brokenChain(origin: fr, seq: 2))
    }

    @Test func aBadSignatureAtTheEndOfARunWalksBackToTheLastValidOne() {
        var run = chain(6)
        // Re-sign entries 5 and 6 with a key that is not the origin's, under the origin's key id.
        let forged = chain(6, signer: other)
        let e5 = Entry(
            envelope: run[4].envelope, envelopeBytes: run[4].envelopeBytes, signature: forged[4].signature, payloads: run[4].payloads)
        let env6 = Envelope(
            origin: fr, seq: 6, prev: e5.hash, hlc: run[5].envelope.hlc, keyID: keyID, operations: run[5].envelope.operations)
        let e6 = Entry.sign(env6, payloads: run[5].payloads, with: other)
        run[4] = e5
        run[5] = e6
        let v = verify(run)
        #expect(v.accepted == 4)
        #expect(v.held == 2 && v.refusal == nil, "entries no valid signature vouches for wait; they are not refused")
    }

    @Test func refusesAKeyTheRosterDoesNotList() {
        let otherID = other.publicKey.keyID(chapter: fr)
        let v = verify(chain(2, signer: other, keyID: otherID))
        #expect(v.accepted == 0)
        #expect(v.refusal == .unknownKey(origin: fr, seq: 1, keyID: otherID))
    }

    @Test func refusesAnEntryOutsideItsKeysValidity() {
        let v = verify(chain(2, startMillis: 2_000_000))
        #expect(v.accepted == 0)
        #expect(v.refusal?.code == "unknown_key")
    }

    @Test func refusesAnEntryOfAnotherOrigin() {
        var v = ChainVerifier(origin: ChapterID("uk")!, headSeq: 0, headHash: .zero, keys: ring)
        #expect(v.verify(chain(1)).refusal == .wrongOrigin(expected: ChapterID("uk")!, got: fr))
    }

    @Test func continuesFromAHead() {
        let run = chain(6)
        var v = ChainVerifier(origin: fr, headSeq: 0, headHash: .zero, keys: ring)
        #expect(v.verify(Array(run[0..<3])).accepted == 3)
        #expect(v.verify(Array(run[3..<6])).accepted == 3)
        #expect(v.headSeq == 6 && v.headHash == run[5].hash)
    }

    @Test func aTamperedValueFailsItsDigest() throws {
        let e = chain(1)[0]
        var json = e.json
        if case .object(var o) = json, case .array(var p)? = o["payloads"], case .object(var p0) = p[0] {
            p0["values"] = ["city": "Berlin"]
            p[0] = .object(p0)
            o["payloads"] = .array(p)
            json = .object(o)
        }
        #expect(throws: EntryError.digestMismatch(origin: fr, seq: 1, operation: 0)) { try Entry(json: json) }
    }

    @Test func malformedEnvelopesAreRefusedWithAReason() throws {
        let good = chain(1)[0].json
        func mutate(_ f: (inout [String: JSONValue]) -> Void) -> JSONValue {
            guard case .object(var o) = good, case .object(var env)? = o["envelope"] else { return good }
            f(&env)
            o["envelope"] = .object(env)
            return .object(o)
        }
        let cases: [JSONValue] = [
            mutate { $0["v"] = 0 },
            mutate { $0["origin"] = "FR!" },
            mutate { $0["seq"] = 0 },
            mutate { $0["prev"] = "abc" },
            mutate { $0["hlc"] = [1] },
            mutate { $0["ops"] = [] },
            mutate { $0["extra"] = 1 },
            mutate { $0["ops"] = [["kind": "planet", "id": "x", "act": "set", "fields": [:]]] },
        ]
        for c in cases {
            #expect(throws: EntryError.self) { try Entry(json: c) }
        }
    }
}

@Suite struct HybridClockTests {
    @Test func neverGoesBackwardsWhenTheWallClockDoes() {
        nonisolated(unsafe) var wall: Int64 = 10_000
        var clock = HybridClock(wallMillis: { wall })
        let a = clock.tick()
        wall = 5_000
        let b = clock.tick()
        let c = clock.tick()
        #expect(a < b && b < c)
        #expect(b.millis == 10_000 && b.counter == 1)
    }

    @Test func movesPastObservedTimestamps() {
        var clock = HybridClock(wallMillis: { 1_000 })
        clock.observe(HLC(millis: 50_000, counter: 3))
        #expect(clock.tick() == HLC(millis: 50_000, counter: 4))
    }

    @Test func packedOrderMatchesTimestampOrder() {
        let a = HLC(millis: 1_800_000_000_000, counter: 65_535)
        let b = HLC(millis: 1_800_000_000_001, counter: 0)
        #expect(a.packed < b.packed && HLC(packed: a.packed) == a)
    }
}
