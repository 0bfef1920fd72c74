import AcesCore
import Foundation
import TOMLKit

/// One chapter as the roster describes it: `chapters/<id>.toml`.
public struct ChapterProfile: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// ISO 3166-1 alpha-2.
    public var country: String
    /// IANA time zone.
    public var timezone: String
    /// Base URL of the node's federation listener (mutual TLS), e.g. `https://aces.example.fr:7443`.
    public var federationURL: String?
    /// Base URL of the node's public listener.
    public var publicURL: String?
    /// Public signing keys with their validity; filled in by the tooling (`aces roster publish`).
    public var keys: [RosterKey]
    /// What else the chapter is to the federation: `steward` (may write, grant and transfer any
    /// record: PROTOCOL.md §2, *Ownership*). Only the roster makes a steward.
    public var roles: [String]?

    /// The roles a roster may give.
    public static let knownRoles: Set<String> = ["steward"]

    enum CodingKeys: String, CodingKey {
        case id, name, country, timezone, keys, roles
        case federationURL = "federation_url"
        case publicURL = "public_url"
    }

    public init(
        id: String, name: String, country: String, timezone: String, federationURL: String? = nil, publicURL: String? = nil,
        keys: [RosterKey] = []
    ) {
        self.id = id
        self.name = name
        self.country = country
        self.timezone = timezone
        self.federationURL = federationURL
        self.publicURL = publicURL
        self.keys = keys
    }

    public var chapter: ChapterID? { ChapterID(id) }
}

/// A chapter's public signing key in the roster. Times are RFC 3339 instants in UTC.
public struct RosterKey: Codable, Sendable, Equatable {
    public var id: String
    public var publicKey: String
    public var validFrom: String
    public var validUntil: String?

    enum CodingKeys: String, CodingKey {
        case id
        case publicKey = "public_key"
        case validFrom = "valid_from"
        case validUntil = "valid_until"
    }

    public init(id: String, publicKey: String, validFrom: Int64, validUntil: Int64?) {
        self.id = id
        self.publicKey = publicKey
        self.validFrom = RosterTime.format(validFrom)
        self.validUntil = validUntil.map(RosterTime.format)
    }
}

/// Instants with milliseconds, as the roster writes them: `2026-11-29T13:16:40.123Z`.
enum RosterTime {
    static func format(_ millis: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    static func parse(_ s: String) -> Int64? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s).map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }
}

/// The federation's roster: every chapter's profile, from the signed roster a node holds
/// (`SignedRoster`) or, before it holds one, from a folder of TOML files.
public struct Roster: Sendable {
    public let chapters: [ChapterProfile]
    /// Chapters that left the federation: listed (their keys still verify their past entries),
    /// but no longer peers, and their certificates are refused.
    public let retired: [String]

    public init(chapters: [ChapterProfile], retired: [String] = []) {
        self.chapters = chapters.sorted { $0.id < $1.id }
        self.retired = retired.sorted()
    }

    /// The chapters that have not retired.
    public var active: [ChapterProfile] { chapters.filter { !retired.contains($0.id) } }

    /// Whether `chapter` is listed and has not retired.
    public func isActive(_ chapter: ChapterID) -> Bool { profile(chapter) != nil && !retired.contains(chapter.rawValue) }

    /// Reads every `*.toml` in `dir`. Each mistake is reported with the file and the setting.
    public static func load(from dir: String) throws -> Roster {
        let dir = (dir as NSString).standardizingPath
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw NodeError.config("the roster folder \(dir) does not exist")
        }
        var out = [ChapterProfile]()
        for name in names.sorted() where name.hasSuffix(".toml") {
            let file = dir + "/" + name
            let text = try String(contentsOfFile: file, encoding: .utf8)
            try checkKeys(text, file: file)
            let p: ChapterProfile
            do { p = try TOMLDecoder().decode(ChapterProfile.self, from: text) } catch {
                throw NodeError.config("\(file): \(error)")
            }
            do { try check(p, in: file) } catch let e as RosterError { throw NodeError.config(e.description) }
            guard name == "\(p.id).toml" else {
                throw NodeError.config("\(file): a chapter file is named after its id (\(p.id).toml)")
            }
            out.append(p)
        }
        return Roster(chapters: out)
    }

    /// Checks one chapter's record; `place` starts each sentence (a file, or a roster record).
    static func check(_ p: ChapterProfile, in place: String) throws {
        guard p.chapter != nil else { throw RosterError("\(place): id: \(ChapterID.rule)") }
        guard IANATimeZone.isKnown(p.timezone) else { throw RosterError("\(place): timezone: not a known IANA time zone") }
        if let unknown = p.roles?.first(where: { !ChapterProfile.knownRoles.contains($0) }) {
            throw RosterError("\(place): roles: '\(unknown.prefix(40))' is not a role (the roles are: steward)")
        }
        for url in [p.federationURL, p.publicURL].compactMap({ $0 }) where URL(string: url)?.host == nil {
            throw RosterError("\(place): '\(url)' is not a URL")
        }
        for k in p.keys {
            guard (try? PublicSigningKey(base64url: k.publicKey)) != nil else {
                throw RosterError("\(place): key \(k.id): public_key is not a 32-byte base64url Ed25519 key")
            }
            guard RosterTime.parse(k.validFrom) != nil, k.validUntil.map({ RosterTime.parse($0) != nil }) ?? true else {
                throw RosterError("\(place): key \(k.id): valid_from and valid_until must be instants like 2026-01-01T00:00:00Z")
            }
        }
    }

    /// Every setting a roster file may hold (`roles` is the ownership rules' steward marker).
    static let known: [String: Set<String>] = [
        "": ["id", "name", "country", "timezone", "federation_url", "public_url", "keys", "roles"],
        "keys": ["id", "public_key", "valid_from", "valid_until"],
    ]

    /// Refuses a setting the roster does not know, naming it: a typo (`federation_ur`) must not
    /// silently cut a peer off.
    static func checkKeys(_ text: String, file: String) throws(NodeError) {
        guard let table = try? TOMLTable(string: text) else { throw NodeError.config("\(file) is not valid TOML; fix the roster file") }
        func check(_ t: TOMLTable, _ section: String) throws(NodeError) {
            let allowed = known[section] ?? []
            for k in t.keys.sorted() where !allowed.contains(k) {
                throw NodeError.config(
                    "\(file): unknown setting '\(k)'\(section.isEmpty ? "" : " in [[\(section)]]") (known: \(allowed.sorted().joined(separator: ", "))); fix the roster file"
                )
            }
        }
        try check(table, "")
        for k in table["keys"]?.array ?? [] { if let t = k.table { try check(t, "keys") } }
    }

    /// The profile of `chapter`, if listed.
    public func profile(_ chapter: ChapterID) -> ChapterProfile? { chapters.first { $0.id == chapter.rawValue } }

    /// Every listed key, for verifying entries.
    public var keyRing: KeyRing {
        var ring = KeyRing()
        for p in chapters {
            guard let c = p.chapter else { continue }
            if p.roles?.contains("steward") == true { ring.stewards.insert(c) }
            for k in p.keys {
                guard let pub = try? PublicSigningKey(base64url: k.publicKey), let from = RosterTime.parse(k.validFrom) else { continue }
                ring.add(KeyGrant(keyID: k.id, publicKey: pub, validFrom: from, validUntil: k.validUntil.flatMap(RosterTime.parse)), for: c)
            }
        }
        return ring
    }

    /// Writes a chapter's profile to `dir/<id>.toml`.
    public static func write(_ profile: ChapterProfile, to dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let header = "# Aces roster: chapter \(profile.id). Keys are written by 'aces roster publish'; do not edit them by hand.\n"
        try (header + TOMLEncoder().encode(profile).convert(to: .toml) + "\n")
            .write(toFile: dir + "/\(profile.id).toml", atomically: true, encoding: .utf8)
    }
}
