import AcesCore
import AcesStore
import Foundation
import X509

/// The federation's root of trust: the folder of the federation CA's holder (`ca.pem`,
/// `ca-key.pem`), which also keeps the roster key (`roster-key`, an Ed25519 seed, mode 0600) and
/// the latest signed roster (`roster.json`). Every roster change is signed here; nodes verify it
/// with the root key they were given when they joined (docs/PROTOCOL.md §2.1, SECURITY.md).
public struct RosterRoot: Sendable {
    public let dir: String

    public init(dir: String) { self.dir = dir }

    public var caCertificate: String { dir + "/ca.pem" }
    public var caKey: String { dir + "/ca-key.pem" }
    public var keyFile: String { dir + "/roster-key" }
    public var rosterFile: String { dir + "/roster.json" }

    /// Creates the roster key and signs version 1 of the roster with `chapters`.
    @discardableResult
    public static func create(in dir: String, chapters: [ChapterProfile]) throws -> (RosterRoot, SignedRoster) {
        let root = RosterRoot(dir: dir)
        for f in [root.keyFile, root.rosterFile] where FileManager.default.fileExists(atPath: f) {
            throw NodeError.config("\(f) already exists: this folder already holds a federation's roster")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let key = SigningKey()
        try NodeDirectory.writeSecret(Base64URL.encode(key.seed) + "\n", to: root.keyFile)
        let doc = try SignedRoster.sign(version: 1, chapters: chapters, retired: [], root: key)
        try root.save(doc)
        return (root, doc)
    }

    /// The roster key (refused when others can read it).
    public func key() throws -> SigningKey {
        guard FileManager.default.fileExists(atPath: keyFile) else {
            throw NodeError.config("\(dir) holds no roster key (roster-key); create it with 'aces roster init --dir \(dir)'")
        }
        return try NodeDirectory.readKey(keyFile)
    }

    /// The latest roster the root signed.
    public func current() throws -> SignedRoster {
        guard let data = FileManager.default.contents(atPath: rosterFile) else {
            throw NodeError.config("\(dir) holds no roster.json; create it with 'aces roster init --dir \(dir)'")
        }
        return try SignedRoster(bytes: Array(data))
    }

    /// Signs the next version with `chapters` and `retired`, and keeps it as the current one.
    public func publish(chapters: [ChapterProfile], retired: [String], now: Date = Date()) throws -> SignedRoster {
        let current = try current()
        let key = try key()
        guard key.publicKey == current.rootKey else { throw NodeError.config("\(keyFile) is not the key that signed \(rosterFile)") }
        let doc = try SignedRoster.sign(version: current.version + 1, chapters: chapters, retired: retired, root: key, now: now)
        try save(doc)
        return doc
    }

    /// Keeps `doc` as the root's current roster (written atomically).
    func save(_ doc: SignedRoster) throws {
        guard FileManager.default.createFile(atPath: rosterFile + ".tmp", contents: Data(doc.bytes)),
            rename(rosterFile + ".tmp", rosterFile) == 0
        else { throw NodeError.config("could not write \(rosterFile)") }
    }

    /// A chapter added, or its record replaced (keys, URLs, roles): the next version.
    public func admit(_ profile: ChapterProfile, now: Date = Date()) throws -> SignedRoster {
        let current = try current()
        guard !current.retired.contains(profile.id) else {
            throw NodeError.config("chapter '\(profile.id)' has retired; a retired chapter id is not used again")
        }
        return try publish(
            chapters: current.chapters.filter { $0.id != profile.id } + [profile], retired: current.retired, now: now)
    }

    /// A chapter retired: its keys stop being valid now (its past entries stay valid), its
    /// certificate is refused by every node, and no node syncs with it any more.
    public func retire(_ chapter: ChapterID, now: Date = Date()) throws -> SignedRoster {
        let current = try current()
        guard var p = current.chapters.first(where: { $0.id == chapter.rawValue }) else {
            throw NodeError.config("chapter '\(chapter)' is not in the roster")
        }
        guard !current.retired.contains(chapter.rawValue) else { throw NodeError.config("chapter '\(chapter)' has already retired") }
        let millis = Int64(now.timeIntervalSince1970 * 1000)
        p.keys = p.keys.map { k in
            var k = k
            if (k.validUntil.flatMap(RosterTime.parse) ?? .max) > millis { k.validUntil = RosterTime.format(millis) }
            return k
        }
        return try publish(
            chapters: current.chapters.filter { $0.id != p.id } + [p], retired: current.retired + [chapter.rawValue], now: now)
    }

    /// Approves a join request: checks it, issues the chapter's certificate for the public key of
    /// its request (the private key never left its machine), signs the roster that lists it, and
    /// returns the bundle `aces init --join` completes the node with.
    public func approve(_ request: JoinRequest, now: Date = Date()) throws -> JoinBundle {
        let profile = request.profile
        guard let chapter = profile.chapter else { throw NodeError.config("the request's chapter id is not valid: \(ChapterID.rule)") }
        do { try Roster.check(profile, in: "the request") } catch let e as RosterError { throw NodeError.config(e.description) }
        guard !profile.keys.isEmpty, profile.federationURL != nil else {
            throw NodeError.config("the request names no signing key or no federation URL; make it with 'aces join request'")
        }
        if let existing = try current().chapters.first(where: { $0.id == profile.id }), !existing.keys.isEmpty,
            Set(existing.keys.map(\.publicKey)).isDisjoint(with: profile.keys.map(\.publicKey))
        {
            throw NodeError.config(
                "chapter '\(chapter)' is already in the roster with other keys; retire it first or rotate its key")
        }
        let csr: CertificateSigningRequest
        do { csr = try CertificateSigningRequest(pemEncoded: request.certificateRequestPEM) } catch {
            throw NodeError.config("the request's certificate request is not a PEM CSR")
        }
        guard csr.publicKey.isValidSignature(csr.signature, for: csr) else {
            throw NodeError.config("the request's certificate request is not signed by its own key")
        }
        let ca = try FederationCA.read(certificate: caCertificate, privateKey: caKey)
        let certificate = try FederationCA.sign(publicKey: csr.publicKey, chapter: chapter, ca: ca, hosts: request.hosts, now: now)
        let doc = try admit(profile, now: now)
        return JoinBundle(
            chapter: chapter, certificatePEM: try certificate.serializeAsPEM().pemString, caPEM: ca.certificatePEM, roster: doc)
    }
}

/// What a new chapter sends the root (`aces join request`): its roster record (public keys,
/// URLs) and a certificate request. No private key is in it.
public struct JoinRequest: Sendable {
    public var profile: ChapterProfile
    public var certificateRequestPEM: String
    /// The DNS names and addresses its certificate names.
    public var hosts: [String]

    public var json: JSONValue {
        get throws {
            .object([
                "format": "aces-join-request", "chapter": try JSONParser.parse(Array(try JSONEncoder().encode(profile))),
                "certificate_request": .string(certificateRequestPEM), "hosts": .array(hosts.map { .string($0) }),
            ])
        }
    }

    public init(profile: ChapterProfile, certificateRequestPEM: String, hosts: [String]) {
        self.profile = profile
        self.certificateRequestPEM = certificateRequestPEM
        self.hosts = hosts
    }

    public init(bytes: [UInt8]) throws {
        guard let j = try? JSONParser.parse(bytes), j["format"]?.stringValue == "aces-join-request", let c = j["chapter"],
            let csr = j["certificate_request"]?.stringValue, let hosts = j["hosts"]?.arrayValue?.compactMap(\.stringValue),
            let profile = try? JSONDecoder().decode(ChapterProfile.self, from: Data(CanonicalJSON.encode(c)))
        else { throw NodeError.config("this is not a join request made by 'aces join request'") }
        self.init(profile: profile, certificateRequestPEM: csr, hosts: hosts)
    }

    /// On the new chapter's machine: creates the node in `path` (its signing key) and a TLS key
    /// (`tls/<id>-key.pem`, mode 0600) with a certificate request naming the chapter and `hosts`.
    public static func make(at path: String, profile: ChapterProfile, hosts: [String]) throws -> (NodeDirectory, JoinRequest) {
        guard let chapter = profile.chapter else { throw NodeError.config("--chapter: \(ChapterID.rule)") }
        do { try Roster.check(profile, in: "the chapter") } catch let e as RosterError { throw NodeError.config(e.description) }
        _ = try FederationCA.subjectAlternativeNames(hosts: hosts)
        let node = try NodeDirectory.initialize(at: path, chapter: chapter)
        try FileManager.default.createDirectory(atPath: node.path + "/tls", withIntermediateDirectories: true)
        let key = P256Key()
        try NodeDirectory.writeSecret(key.pem, to: node.path + "/" + JoinBundle.keyFile(chapter))
        var p = profile
        p.keys = node.config.keys.map { RosterKey(id: $0.id, publicKey: $0.publicKey, validFrom: $0.validFrom, validUntil: $0.validUntil) }
        return (node, JoinRequest(profile: p, certificateRequestPEM: try key.request(chapter: chapter), hosts: hosts))
    }
}

/// What the root hands back to a new chapter (`aces roster approve`): its certificate, the CA
/// certificate, and the signed roster that lists it (and so every peer).
public struct JoinBundle: Sendable {
    public var chapter: ChapterID
    public var certificatePEM: String
    public var caPEM: String
    public var roster: SignedRoster

    static func keyFile(_ c: ChapterID) -> String { "tls/\(c)-key.pem" }

    public var json: JSONValue {
        get throws {
            .object([
                "format": "aces-join-bundle", "chapter": .string(chapter.rawValue), "certificate": .string(certificatePEM),
                "ca": .string(caPEM), "roster": try JSONParser.parse(roster.bytes),
                "peers": .array(
                    roster.roster.active.filter { $0.id != chapter.rawValue && $0.federationURL != nil }.map { .string($0.id) }),
            ])
        }
    }

    public init(chapter: ChapterID, certificatePEM: String, caPEM: String, roster: SignedRoster) {
        self.chapter = chapter
        self.certificatePEM = certificatePEM
        self.caPEM = caPEM
        self.roster = roster
    }

    public init(bytes: [UInt8]) throws {
        guard let j = try? JSONParser.parse(bytes), j["format"]?.stringValue == "aces-join-bundle",
            let c = j["chapter"]?.stringValue.flatMap(ChapterID.init), let cert = j["certificate"]?.stringValue,
            let ca = j["ca"]?.stringValue, let r = j["roster"]
        else { throw NodeError.config("this is not a bundle made by 'aces roster approve'") }
        self.init(chapter: c, certificatePEM: cert, caPEM: ca, roster: try SignedRoster(bytes: CanonicalJSON.encode(r)))
    }

    /// Completes the node `join request` made: writes the certificates beside its TLS key, trusts
    /// the roster's root key, and configures its listeners from the URLs the roster lists.
    public func complete(_ node: NodeDirectory) throws -> NodeDirectory {
        guard node.chapter == chapter else {
            throw NodeError.config("this bundle is for chapter '\(chapter)', and the node in \(node.path) is '\(node.chapter)'")
        }
        guard node.config.federation == nil else { throw NodeError.config("the node in \(node.path) is already complete") }
        guard let me = roster.roster.profile(chapter), let fedURL = me.federationURL, let fed = URL(string: fedURL),
            let fedHost = fed.host, let fedPort = fed.port
        else { throw NodeError.config("the bundle's roster lists no federation URL with a port for '\(chapter)'") }
        guard Set(me.keys.map(\.publicKey)).isSuperset(of: node.config.keys.map(\.publicKey)) else {
            throw NodeError.config("the bundle's roster does not list this node's signing key: was it approved from another request?")
        }
        let keyFile = Self.keyFile(chapter)
        guard FileManager.default.fileExists(atPath: node.resolve(keyFile)) else {
            throw NodeError.config("\(node.resolve(keyFile)) is missing: complete the node that 'aces join request' made")
        }
        let certFile = "tls/\(chapter).pem"
        try Array(certificatePEM.utf8).write(to: node.resolve(certFile))
        try Array(caPEM.utf8).write(to: node.resolve("tls/ca.pem"))
        try node.install(roster, trusting: true)
        var config = node.config
        config.federation = .init(
            listen: "\(fedHost):\(fedPort)", url: fedURL, certificate: certFile, privateKey: keyFile, ca: "tls/ca.pem")
        if let pub = me.publicURL, let u = URL(string: pub), let h = u.host {
            config.web = .init(listen: "\(h):\(u.port ?? 80)", url: pub)
        }
        config.sync = config.sync ?? .init()
        return try node.saving(config)
    }
}

extension [UInt8] {
    fileprivate func write(to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(self)) else {
            throw NodeError.config("could not write \(path)")
        }
    }
}

extension NodeDirectory {
    /// Installs a signed roster in the replica: a successor of the one held, signed by the same
    /// root; or, with `trusting` and when none is held yet, any (its root key becomes the one this
    /// node trusts). A running node takes it within a second.
    @discardableResult
    public func install(_ doc: SignedRoster, trusting: Bool = false) throws -> Bool {
        let store = try openStore()
        if let held = try store.currentRoster().map({ try SignedRoster(bytes: Array($0.document.utf8)) }) {
            switch held.successor(doc) {
            case .alreadyHeld: return false
            case .refuse(let why): throw NodeError.config(why)
            case .adopt: break
            }
        } else if !trusting {
            throw NodeError.config("this node holds no signed roster yet; trust one with 'aces roster install --trust FILE'")
        }
        return try store.saveRoster(StoredRoster(version: doc.version, document: doc.text, peer: nil))
    }
}
