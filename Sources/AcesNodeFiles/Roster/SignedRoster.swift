import AcesCore
import Foundation

/// The roster as signed, replicated data (docs/PROTOCOL.md §2.1): every chapter's record, a
/// version that only grows, and the federation root's Ed25519 signature. Nodes exchange it with
/// sync and adopt a higher version signed by the root key they already trust.
public struct SignedRoster: Sendable, Equatable {
    /// The value of `format`.
    public static let format = "aces-roster"
    public let version: Int64
    /// When the root signed it (RFC 3339, UTC), for people; plays no part in acceptance.
    public let issued: String
    /// The root's public key: signs this document and every later one.
    public let rootKey: PublicSigningKey
    /// Every chapter, retired ones included (their keys still verify their past entries).
    public let chapters: [ChapterProfile]
    /// Ids of the chapters that left the federation.
    public let retired: [String]
    /// The document as signed or received: canonical JSON, `signature` included.
    public let bytes: [UInt8]

    /// The roster it describes, as every reader of the roster (validity, peers, pages) takes it.
    public var roster: Roster { Roster(chapters: chapters, retired: retired) }

    /// SHA-256 of `bytes`, to tell two documents apart in one glance.
    public var digest: Digest32 { Digest32.sha256(bytes) }

    /// Signs a new document with the root key.
    public static func sign(version: Int64, chapters: [ChapterProfile], retired: [String], root: SigningKey, now: Date = Date())
        throws -> SignedRoster
    {
        var body = try unsigned(
            version: version, issued: RosterTime.format(Int64(now.timeIntervalSince1970 * 1000)), rootKey: root.publicKey,
            chapters: chapters, retired: retired)
        let signature = root.sign(Digest32.sha256(CanonicalJSON.encode(.object(body))).bytes)
        body["signature"] = .string(Base64URL.encode(signature))
        return try SignedRoster(bytes: CanonicalJSON.encode(.object(body)))
    }

    private static func unsigned(version: Int64, issued: String, rootKey: PublicSigningKey, chapters: [ChapterProfile], retired: [String])
        throws -> [String: JSONValue]
    {
        let encoder = JSONEncoder()
        let records = try chapters.sorted { $0.id < $1.id }.map { try JSONParser.parse(Array(try encoder.encode($0))) }
        return [
            "format": .string(format), "version": .number(Double(version)), "issued": .string(issued),
            "root_key": .string(rootKey.base64url), "chapters": .array(records), "retired": .array(retired.sorted().map { .string($0) }),
        ]
    }

    /// Reads a document and checks it is well formed and signed by its own `root_key` (whether
    /// that key is the federation's is the holder's question: see `successor(of:)`). One
    /// sentence for each mistake.
    public init(bytes: [UInt8]) throws {
        guard bytes.count <= SignedRoster.maxBytes else { throw RosterError("the roster document is larger than 1 MiB") }
        guard let json = try? JSONParser.parse(bytes), var object = json.objectValue else {
            throw RosterError("the roster document is not a JSON object")
        }
        guard object["format"]?.stringValue == SignedRoster.format else { throw RosterError("the document is not an Aces roster") }
        guard let v = object["version"]?.intValue, v >= 1 else { throw RosterError("the roster's version is not a positive whole number") }
        guard let issued = object["issued"]?.stringValue, RosterTime.parse(issued) != nil else {
            throw RosterError("the roster's issued time is not an RFC 3339 instant")
        }
        guard let keyText = object["root_key"]?.stringValue, let rootKey = try? PublicSigningKey(base64url: keyText) else {
            throw RosterError("the roster's root_key is not a base64url Ed25519 public key")
        }
        guard let sigText = object.removeValue(forKey: "signature")?.stringValue, let signature = Base64URL.decode(sigText),
            signature.count == 64
        else { throw RosterError("the roster carries no signature of 64 bytes") }
        guard rootKey.isValidSignature(signature, for: Digest32.sha256(CanonicalJSON.encode(.object(object))).bytes) else {
            throw RosterError("the roster's signature does not verify with its root_key")
        }
        guard let records = object["chapters"]?.arrayValue, let retiredList = object["retired"]?.arrayValue else {
            throw RosterError("the roster has no chapters or retired list")
        }
        var chapters = [ChapterProfile]()
        for r in records {
            let p: ChapterProfile
            do { p = try JSONDecoder().decode(ChapterProfile.self, from: Data(CanonicalJSON.encode(r))) } catch {
                throw RosterError("a chapter record of the roster is malformed")
            }
            try Roster.check(p, in: "the roster's record of '\(p.id)'")
            guard !chapters.contains(where: { $0.id == p.id }) else { throw RosterError("the roster lists chapter '\(p.id)' twice") }
            chapters.append(p)
        }
        let retired = retiredList.compactMap(\.stringValue)
        guard retired.count == retiredList.count, retired.allSatisfy({ id in chapters.contains { $0.id == id } }) else {
            throw RosterError("the roster retires a chapter it does not list")
        }
        self.version = Int64(v)
        self.issued = issued
        self.rootKey = rootKey
        self.chapters = chapters
        self.retired = retired
        self.bytes = Array(CanonicalJSON.encode(json))
    }

    /// The largest document a node reads.
    public static let maxBytes = 1 << 20

    /// What a node holding `self` does with `offered`.
    public enum Verdict: Sendable, Equatable {
        /// A higher version signed by the root: adopt it.
        case adopt
        /// The same document, or an older version: nothing to do.
        case alreadyHeld
        /// Refused, with the sentence that says why.
        case refuse(String)
    }

    /// Whether `offered` may replace this document: signed by the same root key, with a higher version.
    public func successor(_ offered: SignedRoster) -> Verdict {
        guard offered.rootKey == rootKey else {
            return .refuse("roster version \(offered.version) is not signed by the federation's root key")
        }
        if offered.version < version || offered.bytes == bytes { return .alreadyHeld }
        if offered.version == version {
            return .refuse("roster version \(offered.version) differs from the version \(version) this node holds under the same number")
        }
        return .adopt
    }

    /// The document as JSON text.
    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A roster document that cannot be used, in one sentence.
public struct RosterError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
