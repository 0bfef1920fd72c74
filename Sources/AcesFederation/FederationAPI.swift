import AcesCore
import Foundation

/// The federation's messages, shared by the listener and the client (see docs/PROTOCOL.md §5).
public enum FederationAPI {
    public static let headsPath = "/federation/v1/heads"
    public static let entriesPath = "/federation/v1/entries"
    public static let notifyPath = "/federation/v1/notify"
    /// The two entries of a fork that froze an origin (`?origin=fr`), as NDJSON.
    public static let forksPath = "/federation/v1/forks"
    /// A node's health as peers see it, for the operators' dashboard (ids and counts only).
    public static let statusPath = "/federation/v1/status"
    /// The signed roster the node holds (`GET`), or one offered to it (`POST`): docs/PROTOCOL.md §2.1.
    public static let rosterPath = "/federation/v1/roster"
    /// Entries read from the database and written to the wire at a time.
    public static let streamChunk = 1_000
    /// Entries a receiver verifies and applies in one transaction. Larger batches write the
    /// B-tree's upper pages and the WAL frames less often; two batches in memory stay a few MB.
    public static let applyBatch = 2_500
    /// The longest line a receiver accepts, counted after decompression.
    public static let maxLineBytes = 1 << 20

    /// One origin a node holds.
    public struct Head: Sendable, Equatable {
        public let origin: ChapterID
        public let seq: Int64
        public let hash: Digest32
        /// Set when the node froze this origin after a fork: the seq where it holds two
        /// authentic entries (0 when it does not know). Its peers fetch both and freeze too.
        public let forkSeq: Int64?

        public init(origin: ChapterID, seq: Int64, hash: Digest32, forkSeq: Int64? = nil) {
            self.origin = origin
            self.seq = seq
            self.hash = hash
            self.forkSeq = forkSeq
        }

        var json: JSONValue {
            var o: [String: JSONValue] = ["origin": .string(origin.rawValue), "seq": .number(Double(seq)), "hash": .string(hash.hex)]
            if let forkSeq {
                o["frozen"] = .bool(true)
                o["fork_seq"] = .number(Double(forkSeq))
            }
            return .object(o)
        }
    }

    /// The answer to `GET heads`.
    public struct Heads: Sendable {
        public let chapter: ChapterID
        /// The answering node's wall clock, in Unix milliseconds (for measuring skew, never for validity).
        public let time: Int64
        public let origins: [Head]
        /// The protocol versions the answering node reads (a node that names none reads version 1).
        public let versions: [Int]
        /// The version of the signed roster the answering node holds (nil: none).
        public var rosterVersion: Int64?

        public var json: JSONValue {
            var o: [String: JSONValue] = [
                "chapter": .string(chapter.rawValue), "time": .number(Double(time)),
                "versions": .array(versions.map { .number(Double($0)) }),
                "origins": .array(origins.map(\.json)),
            ]
            if let rosterVersion { o["roster"] = .number(Double(rosterVersion)) }
            return .object(o)
        }

        public init(
            chapter: ChapterID, time: Int64, origins: [Head], versions: [Int] = Array(Envelope.readableVersions),
            rosterVersion: Int64? = nil
        ) {
            self.chapter = chapter
            self.time = time
            self.origins = origins
            self.versions = versions
            self.rosterVersion = rosterVersion
        }

        public init(json: JSONValue) throws {
            guard let c = json["chapter"]?.stringValue.flatMap(ChapterID.init), let t = json["time"]?.intValue,
                let list = json["origins"]?.arrayValue
            else { throw SyncError.garbage("the heads answer is not {chapter, time, origins}") }
            var origins = [Head]()
            for h in list {
                guard let o = h["origin"]?.stringValue.flatMap(ChapterID.init), let s = h["seq"]?.intValue, s >= 0,
                    let hash = h["hash"]?.stringValue.flatMap(Digest32.init(hex:))
                else { throw SyncError.garbage("the heads answer lists a malformed origin") }
                let fork = h["frozen"]?.boolValue == true ? Int64(max(0, h["fork_seq"]?.intValue ?? 0)) : nil
                origins.append(Head(origin: o, seq: Int64(s), hash: hash, forkSeq: fork))
            }
            var versions = [1]
            if let v = json["versions"] {
                guard let list = v.arrayValue, (1...64).contains(list.count) else {
                    throw SyncError.garbage("the heads answer's versions are not a list of protocol versions")
                }
                versions = try list.map {
                    guard let n = $0.intValue, n >= 1 else {
                        throw SyncError.garbage("the heads answer names a malformed protocol version")
                    }
                    return n
                }
            }
            var roster: Int64?
            if let r = json["roster"] {
                guard let n = r.intValue, n >= 1 else {
                    throw SyncError.garbage("the heads answer's roster is not a positive whole number")
                }
                roster = Int64(n)
            }
            self.init(chapter: c, time: Int64(t), origins: origins, versions: versions, rosterVersion: roster)
        }
    }
}

/// Why a sync pass with a peer failed, in one sentence for `aces peers`.
public enum SyncError: Error, CustomStringConvertible, Sendable {
    case unreachable(String)
    case status(Int)
    case garbage(String)
    /// The peer answered too slowly: a request not complete within its deadline, or an
    /// entries stream below its minimum pace.
    case slow(String)
    case refused(EntryError)
    case notConfigured(String)
    /// The peer could not be talked to: one sentence naming it, the cause and the fix (see `PeerFailure`).
    case failed(String)

    public var description: String {
        switch self {
        case .failed(let sentence): sentence
        case .unreachable(let why): "unreachable: \(why)"
        case .status(let s): "answered HTTP \(s)"
        case .garbage(let why): "answered garbage: \(why)"
        case .slow(let why): "too slow: \(why)"
        case .refused(let e): "refused an entry: \(e)"
        case .notConfigured(let why): why
        }
    }
}
