import AcesCore
import AcesStore
import Foundation
import TOMLKit

/// A node's configuration, `aces.toml` in its data directory.
public struct NodeConfig: Codable, Sendable, Equatable {
    /// The chapter this node belongs to; its own entries' origin.
    public var chapter: String
    /// Folder of the roster (one TOML file per chapter), relative to the data directory or absolute.
    public var roster: String?
    /// The node's own signing keys, newest last.
    public var keys: [KeyConfig]
    /// The federation listener (mutual TLS) and this node's certificate.
    public var federation: FederationConfig?
    /// The public listener (directory, calendar, health).
    public var web: WebConfig?
    /// How the node syncs with its peers.
    public var sync: SyncConfig?
    /// How long quarantine evidence, sessions and sign-in links are kept.
    public var retention: RetentionConfig?

    /// `[retention]`: days kept once a row stopped mattering (defaults: `RetentionPolicy.standard`).
    public struct RetentionConfig: Codable, Sendable, Equatable {
        /// Days a refused entry stays in quarantine (default 365); a frozen origin's fork evidence stays.
        public var quarantineDays: Int?
        /// Days a session is kept after it expired or was revoked (default 30).
        public var sessionDays: Int?
        /// Days a sign-in link is kept after it expired, was used or was revoked (default 30).
        public var inviteDays: Int?

        enum CodingKeys: String, CodingKey {
            case quarantineDays = "quarantine_days"
            case sessionDays = "session_days"
            case inviteDays = "invite_days"
        }

        public init(quarantineDays: Int? = nil, sessionDays: Int? = nil, inviteDays: Int? = nil) {
            self.quarantineDays = quarantineDays
            self.sessionDays = sessionDays
            self.inviteDays = inviteDays
        }
    }

    /// The retention policy these settings give.
    public var retentionPolicy: RetentionPolicy {
        let d = RetentionPolicy.standard
        return RetentionPolicy(
            quarantineDays: retention?.quarantineDays ?? d.quarantineDays, sessionDays: retention?.sessionDays ?? d.sessionDays,
            inviteDays: retention?.inviteDays ?? d.inviteDays)
    }

    /// What signed-in members may do with their own profile.
    public var directory: DirectoryConfig?

    /// `[directory]`: members' own profiles (docs/DIRECTORY.md).
    public struct DirectoryConfig: Codable, Sendable, Equatable {
        /// `immediate` (default): a member's confirmed erasure request is carried out at once;
        /// `review`: it waits for the chapter's admins (`aces member erasures`).
        public var memberErasure: String?
        /// The most profile writes (edits and erasure requests) one member may make per minute (default 10).
        public var memberWritesPerMinute: Int?

        enum CodingKeys: String, CodingKey {
            case memberErasure = "member_erasure"
            case memberWritesPerMinute = "member_writes_per_minute"
        }

        public init(memberErasure: String? = nil, memberWritesPerMinute: Int? = nil) {
            self.memberErasure = memberErasure
            self.memberWritesPerMinute = memberWritesPerMinute
        }

        /// Whether erasures members ask for wait for the admins.
        public var reviewsErasures: Bool { memberErasure == "review" }
        /// The profile writes one member may make per minute.
        public var writesPerMinute: Int { memberWritesPerMinute ?? 10 }
    }

    /// `[federation]`: where the node listens for peers and the TLS material it uses.
    public struct FederationConfig: Codable, Sendable, Equatable {
        /// `host:port` to listen on.
        public var listen: String
        /// The base URL peers use to reach this node (as the roster lists it).
        public var url: String
        /// PEM files, relative to the data directory or absolute.
        public var certificate: String
        public var privateKey: String
        public var ca: String
        /// Seconds a silent connection stays open (default 60).
        public var idleTimeoutSeconds: Int?
        /// Seconds a request may take to arrive, head to last body byte (default 60).
        public var requestTimeoutSeconds: Int?

        enum CodingKeys: String, CodingKey {
            case listen, url, certificate, ca
            case privateKey = "private_key"
            case idleTimeoutSeconds = "idle_timeout_seconds"
            case requestTimeoutSeconds = "request_timeout_seconds"
        }

        public init(listen: String, url: String, certificate: String, privateKey: String, ca: String) {
            self.listen = listen
            self.url = url
            self.certificate = certificate
            self.privateKey = privateKey
            self.ca = ca
        }
    }

    /// `[web]`: the public listener.
    public struct WebConfig: Codable, Sendable, Equatable {
        /// `host:port` to listen on.
        public var listen: String
        /// The base URL people use to reach it.
        public var url: String
        /// Seconds a silent connection stays open (default 30).
        public var idleTimeoutSeconds: Int?
        /// Seconds a request may take to arrive, head to last body byte (default 30).
        public var requestTimeoutSeconds: Int?
        /// Whether search engines may index the public pages (`/robots.txt`); default false.
        public var allowIndexing: Bool?

        enum CodingKeys: String, CodingKey {
            case listen, url
            case idleTimeoutSeconds = "idle_timeout_seconds"
            case requestTimeoutSeconds = "request_timeout_seconds"
            case allowIndexing = "allow_indexing"
        }

        public init(listen: String, url: String) {
            self.listen = listen
            self.url = url
        }
    }

    /// `[sync]`: peers and timing.
    public struct SyncConfig: Codable, Sendable, Equatable {
        /// Chapters to pull from (default: every other chapter of the roster with a federation URL).
        public var peers: [String]?
        /// Seconds between anti-entropy passes with each peer (default 30).
        public var intervalSeconds: Double?
        /// Seconds a peer has to connect and answer (default 10).
        public var timeoutSeconds: Double?
        /// Pull from this many chapters of the roster's ring rather than from all (see `SyncTopology`).
        public var fanout: Int?
        /// `/readyz` answers 503 when no peer has been reachable for this many seconds (default 600).
        public var unreachableSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case peers, fanout
            case intervalSeconds = "interval_seconds"
            case timeoutSeconds = "timeout_seconds"
            case unreachableSeconds = "unreachable_seconds"
        }

        /// Seconds may be written as whole numbers (`30`) or decimals (`0.5`).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            peers = try c.decodeIfPresent([String].self, forKey: .peers)
            func seconds(_ key: CodingKeys) throws -> Double? {
                guard c.contains(key) else { return nil }
                if let d = try? c.decode(Double.self, forKey: key) { return d }
                return Double(try c.decode(Int64.self, forKey: key))
            }
            intervalSeconds = try seconds(.intervalSeconds)
            timeoutSeconds = try seconds(.timeoutSeconds)
            fanout = try c.decodeIfPresent(Int.self, forKey: .fanout)
            unreachableSeconds = try seconds(.unreachableSeconds)
        }

        public init(peers: [String]? = nil, intervalSeconds: Double? = nil, timeoutSeconds: Double? = nil) {
            self.peers = peers
            self.intervalSeconds = intervalSeconds
            self.timeoutSeconds = timeoutSeconds
        }
    }

    /// One of the node's signing keys.
    public struct KeyConfig: Codable, Sendable, Equatable {
        public var id: String
        /// Unpadded base64url of the public key.
        public var publicKey: String
        /// The private key's file, relative to the data directory; none for a retired key
        /// (`aces keys rotate` deletes it: nothing may be signed with it any more).
        public var file: String?
        /// Validity, in Unix milliseconds.
        public var validFrom: Int64
        public var validUntil: Int64?

        enum CodingKeys: String, CodingKey {
            case id
            case publicKey = "public_key"
            case file
            case validFrom = "valid_from"
            case validUntil = "valid_until"
        }
    }

    public init(
        chapter: String, roster: String? = nil, keys: [KeyConfig], federation: FederationConfig? = nil, web: WebConfig? = nil,
        sync: SyncConfig? = nil, retention: RetentionConfig? = nil
    ) {
        self.retention = retention
        self.chapter = chapter
        self.roster = roster
        self.keys = keys
        self.federation = federation
        self.web = web
        self.sync = sync
    }

    /// Reads and checks a configuration; the error says which setting is wrong.
    public static func parse(_ text: String) throws(NodeError) -> NodeConfig {
        let table: TOMLTable
        do { table = try TOMLTable(string: text) } catch {
            let place = (error as? TOMLParseError).map { " (line \($0.source.begin.line): \($0.description))" } ?? ""
            throw NodeError.config("aces.toml is not valid TOML\(place); fix it, see docs/OPERATIONS.md for its format")
        }
        try checkKeys(table)
        let config: NodeConfig
        do {
            config = try TOMLDecoder().decode(NodeConfig.self, from: text)
        } catch {
            throw NodeError.config("aces.toml: a setting has the wrong type; see docs/OPERATIONS.md for each setting's type")
        }
        guard ChapterID(config.chapter) != nil else { throw NodeError.config("aces.toml: chapter: \(ChapterID.rule)") }
        guard let current = config.keys.last else { throw NodeError.config("aces.toml: no signing key is configured") }
        guard current.file != nil else { throw NodeError.config("aces.toml: the last key, \(current.id), needs its 'file'") }
        for listen in [config.federation?.listen, config.web?.listen].compactMap({ $0 }) where HostPort(listen) == nil {
            throw NodeError.config("aces.toml: listen = '\(listen)' is not host:port (for example 127.0.0.1:7443)")
        }
        if let e = config.directory?.memberErasure, !["immediate", "review"].contains(e) {
            throw NodeError.config("aces.toml: directory.member_erasure must be \"immediate\" or \"review\"")
        }
        if let n = config.directory?.memberWritesPerMinute, !(1...1000).contains(n) {
            throw NodeError.config("aces.toml: directory.member_writes_per_minute must be from 1 to 1000")
        }
        if let i = config.sync?.intervalSeconds, !(0.05...86_400).contains(i) {
            throw NodeError.config("aces.toml: sync.interval_seconds must be from 0.05 to 86400")
        }
        if let t = config.sync?.timeoutSeconds, !(0.1...600).contains(t) {
            throw NodeError.config("aces.toml: sync.timeout_seconds must be from 0.1 to 600")
        }
        if let u = config.sync?.unreachableSeconds, !(1...604_800).contains(u) {
            throw NodeError.config("aces.toml: sync.unreachable_seconds must be from 1 to 604800")
        }
        for (name, days) in [
            ("quarantine_days", config.retention?.quarantineDays), ("session_days", config.retention?.sessionDays),
            ("invite_days", config.retention?.inviteDays),
        ] {
            if let days, !(1...36_500).contains(days) { throw NodeError.config("aces.toml: retention.\(name) must be from 1 to 36500") }
        }
        for peer in config.sync?.peers ?? [] where ChapterID(peer) == nil {
            throw NodeError.config("aces.toml: sync.peers: '\(peer)' is not a chapter id")
        }
        let timeouts = [
            ("federation.idle_timeout_seconds", config.federation?.idleTimeoutSeconds),
            ("web.idle_timeout_seconds", config.web?.idleTimeoutSeconds),
            ("federation.request_timeout_seconds", config.federation?.requestTimeoutSeconds),
            ("web.request_timeout_seconds", config.web?.requestTimeoutSeconds),
        ]
        for (name, t) in timeouts {
            if let t, !(1...3600).contains(t) { throw NodeError.config("aces.toml: \(name) must be from 1 to 3600") }
        }
        for (name, url) in [("federation.url", config.federation?.url), ("web.url", config.web?.url)] {
            guard let url else { continue }
            guard let u = URL(string: url), ["http", "https"].contains(u.scheme ?? ""), u.host != nil else {
                throw NodeError.config(
                    "aces.toml: \(name) = '\(url)' is not an http(s) URL with a host (for example https://aces.example.fr)")
            }
        }
        return config
    }

    /// Every setting aces.toml may hold, by table; anything else is a typo worth saying.
    static let known: [String: Set<String>] = [
        "": ["chapter", "roster", "keys", "federation", "web", "sync", "retention", "directory"],
        "keys": ["id", "public_key", "file", "valid_from", "valid_until"],
        "federation": ["listen", "url", "certificate", "private_key", "ca", "idle_timeout_seconds", "request_timeout_seconds"],
        "web": ["listen", "url", "idle_timeout_seconds", "request_timeout_seconds", "allow_indexing"],
        "sync": ["peers", "interval_seconds", "timeout_seconds", "unreachable_seconds", "fanout"],
        "retention": ["quarantine_days", "session_days", "invite_days"],
        "directory": ["member_erasure", "member_writes_per_minute"],
    ]

    /// The type each setting must have, as the error names it.
    static let types: [String: String] = [
        "chapter": "a quoted string", "roster": "a quoted string", "keys": "a [[keys]] list of tables", "federation": "a table",
        "web": "a table", "sync": "a table", "retention": "a table", "quarantine_days": "a whole number",
        "session_days": "a whole number", "invite_days": "a whole number", "directory": "a table", "member_erasure": "a quoted string",
        "member_writes_per_minute": "a whole number", "id": "a quoted string", "public_key": "a quoted string", "file": "a quoted string",
        "valid_from": "a whole number", "valid_until": "a whole number", "listen": "a quoted string", "url": "a quoted string",
        "certificate": "a quoted string", "private_key": "a quoted string", "ca": "a quoted string",
        "idle_timeout_seconds": "a whole number", "request_timeout_seconds": "a whole number",
        "peers": "a list of quoted chapter ids", "interval_seconds": "a number", "timeout_seconds": "a number",
        "unreachable_seconds": "a number", "fanout": "a whole number",
    ]

    /// Refuses unknown and missing settings with their name, rather than ignoring a typo.
    static func checkKeys(_ table: TOMLTable) throws(NodeError) {
        func check(_ t: TOMLTable, _ section: String, required: [String]) throws(NodeError) {
            let allowed = known[section] ?? []
            for k in t.keys where !allowed.contains(k) {
                let place = section.isEmpty ? "" : " in [\(section)]"
                throw NodeError.config(
                    "aces.toml: unknown setting '\(k)'\(place) (known: \(allowed.sorted().joined(separator: ", "))); see docs/OPERATIONS.md"
                )
            }
            for k in required where !t.keys.contains(k) {
                throw NodeError.config("aces.toml: '\(k)' is missing\(section.isEmpty ? "" : " in [\(section)]")")
            }
            for k in t.keys {
                guard let expected = types[k], let value = t[k] else { continue }
                let ok: Bool
                switch expected {
                case "a number": ok = value.type == .int || value.type == .double
                case "a whole number": ok = value.type == .int
                case "a list of quoted chapter ids": ok = value.array.map { $0.allSatisfy { $0.type == .string } } ?? false
                case "a [[keys]] list of tables": ok = value.array.map { $0.allSatisfy { $0.type == .table } } ?? false
                case "a table": ok = value.type == .table
                default: ok = value.type == .string
                }
                guard ok else {
                    let name = section.isEmpty ? k : "\(section).\(k)"
                    throw NodeError.config(
                        "aces.toml: \(name) must be \(expected) (it is written as a TOML \(value.type)); see docs/OPERATIONS.md")
                }
            }
        }
        try check(table, "", required: ["chapter", "keys"])
        if let keys = table["keys"]?.array {
            for k in keys { if let t = k.table { try check(t, "keys", required: ["id", "public_key", "valid_from"]) } }
        }
        if let f = table["federation"]?.table {
            try check(f, "federation", required: ["listen", "url", "certificate", "private_key", "ca"])
        }
        if let w = table["web"]?.table { try check(w, "web", required: ["listen", "url"]) }
        if let s = table["sync"]?.table { try check(s, "sync", required: []) }
        if let r = table["retention"]?.table { try check(r, "retention", required: []) }
        if let d = table["directory"]?.table { try check(d, "directory", required: []) }
    }

    /// The configuration as TOML.
    public func toml() throws -> String {
        try TOMLEncoder().encode(self).convert(to: .toml) + "\n"
    }
}

/// A `host:port` listen address.
public struct HostPort: Sendable, Equatable {
    public let host: String
    public let port: Int

    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
