/// Checks a run of one origin's entries against the pure validity rule of the protocol:
/// each entry is the next of its origin, links to the previous entry's hash, names a key the
/// roster lists for its origin and time, and the run ends in a valid signature. Signatures are
/// checked only where a run ends (walking back past a bad one), since `prev` covers the
/// previous signature and so one valid signature vouches for the whole chain behind it.
public struct ChainVerifier: Sendable {
    public let origin: ChapterID
    /// The seq and hash of the last entry accepted so far (0 and zero hash for none).
    public private(set) var headSeq: Int64
    public private(set) var headHash: Digest32
    private let keys: KeyRing

    public init(origin: ChapterID, headSeq: Int64, headHash: Digest32, keys: KeyRing) {
        self.origin = origin
        self.headSeq = headSeq
        self.headHash = headHash
        self.keys = keys
    }

    /// The outcome of checking a run.
    public struct Verdict: Sendable {
        /// How many entries, from the start of the run, are authentic and may be applied.
        public let accepted: Int
        /// Why the entry after those was refused, if one was.
        public let refusal: EntryError?
        /// The index in the run of the refused entry.
        public let refusedIndex: Int?
    }

    /// Checks `run` (consecutive entries of this origin) and advances the head past what it accepts.
    public mutating func verify(_ run: [Entry]) -> Verdict {
        var linked = 0
        var refusal: EntryError? = nil
        var seq = headSeq
        var hash = headHash
        for e in run {
            let env = e.envelope
            if env.origin != origin {
                refusal = .wrongOrigin(expected: origin, got: env.origin)
                break
            }
            if env.seq != seq + 1 {
                refusal = .gap(origin: origin, expected: seq + 1, got: env.seq)
                break
            }
            if env.prev != hash {
                refusal = .brokenChain(origin: origin, seq: env.seq)
                break
            }
            guard let grant = keys.grant(env.keyID, of: origin), grant.covers(env.hlc) else {
                refusal = .unknownKey(origin: origin, seq: env.seq, keyID: env.keyID)
                break
            }
            _ = grant
            seq = env.seq
            hash = e.hash
            linked += 1
        }
        // The linked prefix is authentic up to its last validly signed entry.
        var authentic = linked
        while authentic > 0 {
            let e = run[authentic - 1]
            if let grant = keys.grant(e.envelope.keyID, of: origin), e.isSigned(by: grant.publicKey) { break }
            authentic -= 1
        }
        if authentic < linked {
            refusal = .badSignature(origin: origin, seq: run[authentic].envelope.seq)
        }
        if authentic > 0 {
            headSeq = run[authentic - 1].envelope.seq
            headHash = run[authentic - 1].hash
        }
        let refusedIndex = refusal == nil ? nil : authentic
        return Verdict(accepted: authentic, refusal: refusal, refusedIndex: refusedIndex)
    }
}
