import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The verdict on a run of entries is a pure function of the entries, whatever batches a peer
/// splits them into: an entry whose own signature is bad but which a later, validly signed
/// entry vouches for is accepted in every split; entries no valid signature vouches for wait
/// in every split; a refusal is the same refusal; and `aces log verify` agrees with what sync
/// accepted (docs/PROTOCOL.md §2).
@Suite struct SignatureSplitTests {
    let fr = ChapterID("fr")!
    let key: SigningKey
    let stranger: SigningKey
    var keyID: String { key.publicKey.keyID(chapter: fr) }
    var ring: KeyRing { KeyRing([fr: [KeyGrant(keyID: keyID, publicKey: key.publicKey, validFrom: 0, validUntil: nil)]]) }

    init() throws {
        key = try SigningKey(seed: [UInt8](repeating: 21, count: 32))
        stranger = try SigningKey(seed: [UInt8](repeating: 22, count: 32))
    }

    /// A chain of `n` entries of fr, each setting one member's city. Entries whose 1-based seq
    /// is in `garbled` carry a wrong signature (as a faulty signer would write them), and the
    /// chain goes on from them: the next entry's `prev` covers the wrong signature.
    func chain(_ n: Int, garbled: Set<Int>) -> [Entry] {
        var prev = Digest32.zero
        var out = [Entry]()
        for i in 1...n {
            let p = Payload(salt: [UInt8](repeating: UInt8(i), count: 16), values: ["city": .string("City \(i)")])
            let env = Envelope(
                origin: fr, seq: Int64(i), prev: prev, hlc: HLC(millis: 1_000 + Int64(i), counter: 0), keyID: keyID,
                operations: [
                    LogOperation(
                        kind: .member, id: String(format: "01969a2e-1c00-7000-8000-%012d", i), action: .set, bases: ["city": []],
                        digest: p.digest)
                ])
            var e = Entry.sign(env, payloads: [p], with: key)
            if garbled.contains(i) {
                let wrong = Entry.sign(env, payloads: [p], with: stranger).signature
                e = Entry(envelope: env, envelopeBytes: e.envelopeBytes, signature: wrong, payloads: [p])
            }
            out.append(e)
            prev = e.hash
        }
        return out
    }

    /// What a receiver ends with after taking `entries` in the batches `cuts` makes, handing
    /// back what waits in front of the next batch, as the sync loop does.
    func receive(_ entries: [Entry], cuts: [Int], in dir: TempDir, name: String) throws -> Outcome {
        let store = try Store.create(at: dir.file("\(name).sqlite"), chapter: ChapterID("uk")!)
        var waiting = [Entry]()
        var refused = false
        var bounds = [0] + cuts.sorted() + [entries.count]
        bounds = Array(Set(bounds)).sorted()
        for (a, b) in zip(bounds, bounds.dropFirst()) where !refused {
            let report = try store.apply(waiting + Array(entries[a..<b]), origin: fr, keys: ring)
            waiting = report.held
            refused = report.refusal != nil
        }
        let head = try store.heads().first
        return Outcome(
            seq: head?.seq ?? 0, digest: try store.stateDigest(),
            refused: try store.quarantined().map { "\($0.origin):\($0.seq) \($0.code)" },
            waiting: waiting.map { $0.envelope.seq }, verifies: try store.verifyLog(keys: ring).isValid)
    }

    struct Outcome: Equatable {
        var seq: Int64
        var digest: Digest32
        var refused: [String]
        var waiting: [Int64]
        var verifies: Bool
    }

    @Test func aBadSignatureVouchedForByALaterOneIsAcceptedWhateverTheSplit() throws {
        let dir = TempDir()
        let run = chain(2, garbled: [1])
        let alone = try receive(run, cuts: [1], in: dir, name: "alone")
        let together = try receive(run, cuts: [], in: dir, name: "together")
        #expect(alone == together)
        #expect(together.seq == 2 && together.refused.isEmpty && together.verifies)
        // Only the first, on its own, waits: neither applied nor refused.
        let first = try receive(Array(run.prefix(1)), cuts: [], in: dir, name: "first")
        #expect(first.seq == 0 && first.refused.isEmpty && first.waiting == [1])
    }

    @Test(arguments: [11, 12, 13, 14, 15] as [UInt64])
    func randomSplitsGiveOneVerdict(seed: UInt64) throws {
        var rng = SplitMix(seed: seed)
        let n = 40
        var garbled = Set<Int>()
        for _ in 0..<6 { garbled.insert(1 + rng.int(n)) }
        // Every other seed ends on unvouched entries, which must wait in every split.
        if seed % 2 == 0 { garbled.formUnion([n - 1, n]) } else { garbled.remove(n) }
        let run = chain(n, garbled: garbled)
        let dir = TempDir()
        var outcomes = [Outcome]()
        for split in 0..<12 {
            let cuts = (0..<rng.int(8)).map { _ in rng.int(n) }
            outcomes.append(try receive(run, cuts: cuts, in: dir, name: "split\(split)"))
        }
        #expect(Set(outcomes.map(\.digest)).count == 1, "garbled \(garbled.sorted())")
        #expect(outcomes.allSatisfy { $0 == outcomes[0] }, "garbled \(garbled.sorted()): \(outcomes)")
        let last = run.indices.last { !garbled.contains($0 + 1) }.map { Int64($0 + 1) } ?? 0
        #expect(outcomes[0].seq == last && outcomes[0].refused.isEmpty && outcomes[0].verifies)
        #expect(outcomes[0].waiting == (seed % 2 == 0 ? [Int64(n - 1), Int64(n)] : []))
    }
}
