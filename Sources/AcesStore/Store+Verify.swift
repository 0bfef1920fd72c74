import AcesCore
import Foundation
import GRDB

/// The first problem `verifyLog` found in one origin's stored log.
public struct LogProblem: Sendable, Hashable, CustomStringConvertible {
    public let origin: ChapterID
    public let seq: Int64
    public let reason: String
    public var description: String { "entry \(origin):\(seq): \(reason)" }
}

/// The outcome of walking every stored log.
public struct LogVerification: Sendable {
    /// Entries checked, per origin.
    public var checked: [ChapterID: Int64] = [:]
    /// The first bad entry of each origin that has one.
    public var problems: [LogProblem] = []
    /// Operations held without their payload, waiting for it (not a fault of the log).
    public var waiting: [LogProblem] = []
    public var isValid: Bool { problems.isEmpty }
}

extension Store {
    /// Walks every origin's stored chain and checks every entry: canonical encoding, hash,
    /// link to the previous entry, payload digests, the key the ring or the chain names, and
    /// that a valid signature vouches for it: its own or a later chained entry's (the rule
    /// sync applies, docs/PROTOCOL.md §2).
    /// Streams, so memory stays flat however long the log.
    public func verifyLog(keys: KeyRing) throws -> LogVerification {
        try pool.read { db in
            var result = LogVerification()
            for head in try Store.heads(db) {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [head.origin.rawValue])
                else { continue }
                let rows = try Row.fetchCursor(
                    db,
                    sql:
                        "SELECT rowid, hash, hlc, envelope, signature, payloads FROM entries WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                    arguments: [Store.rowid(origin: id, seq: 0), Store.rowid(origin: id, seq: (1 << 40) - 1)])
                var prev = Digest32.zero
                var expected: Int64 = 1
                var count: Int64 = 0
                var chainKey: ChainKey? = nil
                /// The first entry no valid signature has vouched for yet (a later one may).
                var unvouched: Int64? = nil
                while let r = try rows.next() {
                    let rowid: Int64 = r["rowid"]
                    let seq = rowid & ((1 << 40) - 1)
                    var announced: KeyAnnouncement? = nil
                    var signed = false
                    if let why = Store.problem(
                        in: r, origin: head.origin, seq: seq, expected: expected, prev: prev, chainKey: chainKey, keys: keys,
                        announced: &announced, signed: &signed)
                    {
                        result.problems.append(LogProblem(origin: head.origin, seq: seq, reason: why))
                        break
                    }
                    if let why = try Store.missingPayloadProblem(db, r, origin: head.origin, seq: seq, waiting: &result.waiting) {
                        result.problems.append(LogProblem(origin: head.origin, seq: seq, reason: why))
                        break
                    }
                    // The same rule as sync: an entry is authentic when its own signature or a
                    // later chained one is valid; a key announcement must carry its own.
                    if signed {
                        unvouched = nil
                    } else if announced != nil {
                        result.problems.append(
                            LogProblem(
                                origin: head.origin, seq: seq, reason: "the key announcement is not validly signed by the key it retires"))
                        break
                    } else if unvouched == nil {
                        unvouched = seq
                    }
                    if let next = announced { chainKey = ChainKey(seq: seq, announcement: next) }
                    prev = Digest32(bytes: [UInt8](r["hash"] as Data)) ?? .zero
                    expected += 1
                    count += 1
                }
                if result.problems.last?.origin != head.origin, let first = unvouched {
                    result.problems.append(
                        LogProblem(
                            origin: head.origin, seq: first,
                            reason: "no valid signature vouches for this entry (neither its own nor a later one's)"))
                } else if result.problems.last?.origin != head.origin && count != head.seq {
                    result.problems.append(
                        LogProblem(
                            origin: head.origin, seq: count + 1, reason: "the log ends at seq \(count) but the head says \(head.seq)"))
                } else if result.problems.last?.origin != head.origin && prev != head.hash {
                    result.problems.append(
                        LogProblem(origin: head.origin, seq: count, reason: "the head hash does not match the last entry"))
                }
                result.checked[head.origin] = count
            }
            return result
        }
    }

    private static func problem(
        in r: Row, origin: ChapterID, seq: Int64, expected: Int64, prev: Digest32, chainKey: ChainKey?, keys: KeyRing,
        announced: inout KeyAnnouncement?, signed: inout Bool
    ) -> String? {
        if seq != expected { return "missing entries before it (expected seq \(expected))" }
        let envBytes = [UInt8](r["envelope"] as Data)
        let sig = [UInt8](r["signature"] as Data)
        let envJSON: JSONValue
        do { envJSON = try JSONParser.parse(envBytes) } catch { return "the envelope is not valid JSON (\(error))" }
        if CanonicalJSON.encode(envJSON) != envBytes { return "the envelope is not in canonical form" }
        let env: Envelope
        do { env = try Envelope(json: envJSON) } catch { return "\(error)" }
        if env.origin != origin || env.seq != seq { return "the envelope names \(env.origin):\(env.seq)" }
        if env.prev != prev { return "prev does not match the previous entry's hash" }
        if env.hlc.packed != (r["hlc"] as Int64) { return "the stored timestamp differs from the envelope's" }
        if Digest32.sha256(envBytes, sig).bytes != [UInt8](r["hash"] as Data) {
            return "the stored hash does not match the envelope and signature"
        }
        let signer: PublicSigningKey
        switch keys.signer(of: env, after: chainKey) {
        case .success(let k): signer = k
        case .failure(.retiredKey(_, _, let k, let at)): return "key '\(k)' was replaced at \(origin):\(at) and signs nothing after it"
        case .failure:
            return keys.grant(env.keyID, of: origin) == nil
                ? "key '\(env.keyID)' is not listed for '\(origin)'" : "key '\(env.keyID)' was not valid at the entry's time"
        }
        let payloadsJSON: JSONValue
        do { payloadsJSON = try JSONParser.parse([UInt8](r["payloads"] as Data)) } catch { return "the payloads are not valid JSON" }
        guard case .array(let p) = payloadsJSON else { return "the payloads are not a JSON array" }
        let entry: Entry
        do { entry = try Entry(envelope: env, envelopeBytes: envBytes, signature: sig, payloadsJSON: p) } catch { return "\(error)" }
        signed = entry.isSigned(by: signer)
        announced = env.nextKey
        return nil
    }
}
