/// Checks a run of one origin's entries against the pure validity rule of the protocol:
/// each entry is the next of its origin, links to the previous entry's hash, names the key its
/// origin's chain or the roster gives it, and is vouched for by a valid signature: its own, or
/// that of a later entry chained to it (`prev` covers the previous signature, so one valid
/// signature vouches for the whole chain behind it). Signatures are checked only where a run
/// ends, walking back past bad ones; entries after the last valid one are *held*: neither
/// applied nor refused, they wait for a later entry to vouch for them, so the verdict does not
/// depend on how a peer split its answer. An entry that announces a new key (`next_key`) is
/// checked at once: it is what makes the new key trusted, so nothing signed by that key may
/// vouch for it, and a bad signature there is refused.
public struct ChainVerifier: Sendable {
    public let origin: ChapterID
    /// The seq and hash of the last entry accepted so far (0 and zero hash for none).
    public private(set) var headSeq: Int64
    public private(set) var headHash: Digest32
    /// The key the accepted chain names last, if it named one.
    public private(set) var chainKey: ChainKey?
    private let keys: KeyRing

    public init(origin: ChapterID, headSeq: Int64, headHash: Digest32, chainKey: ChainKey? = nil, keys: KeyRing) {
        self.origin = origin
        self.headSeq = headSeq
        self.headHash = headHash
        self.chainKey = chainKey
        self.keys = keys
    }

    /// The outcome of checking a run.
    public struct Verdict: Sendable {
        /// How many entries, from the start of the run, are authentic and may be applied.
        public let accepted: Int
        /// How many entries after those are linked but not (yet) vouched for by a valid
        /// signature: they wait for a later entry of the origin, neither applied nor refused.
        public let held: Int
        /// Why the entry after the accepted and held ones was refused, if one was.
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
        var key = chainKey
        /// Entries before this index are vouched for by a checked announcement.
        var vouched = 0
        var signers = [PublicSigningKey]()
        signers.reserveCapacity(run.count)
        scan: for e in run {
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
            let signer: PublicSigningKey
            switch keys.signer(of: env, after: key) {
            case .success(let k): signer = k
            case .failure(let why):
                refusal = why
                break scan
            }
            if let next = env.nextKey {
                guard e.isSigned(by: signer) else {
                    refusal = .badSignature(origin: origin, seq: env.seq)
                    break
                }
                vouched = linked + 1
                key = ChainKey(seq: env.seq, announcement: next)
                chainKey = key
            }
            signers.append(signer)
            seq = env.seq
            hash = e.hash
            linked += 1
        }
        // The linked prefix is authentic up to its last validly signed entry; the rest waits.
        var authentic = linked
        while authentic > vouched {
            if run[authentic - 1].isSigned(by: signers[authentic - 1]) { break }
            authentic -= 1
        }
        if authentic > 0 {
            headSeq = run[authentic - 1].envelope.seq
            headHash = run[authentic - 1].hash
        }
        return Verdict(accepted: authentic, held: linked - authentic, refusal: refusal, refusedIndex: refusal == nil ? nil : linked)
    }
}
