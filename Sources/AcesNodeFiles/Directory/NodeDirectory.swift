import AcesCore
import AcesStore
import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A node's data directory: `aces.toml`, the SQLite replica `aces.sqlite`, and `keys/` with the
/// private signing key (owner-only permissions).
public struct NodeDirectory: Sendable {
    public let path: String
    public let config: NodeConfig
    /// The signing key as last read, shared by the copies of this value.
    let signingKeys = SigningKeyCache()
    public var chapter: ChapterID { ChapterID(config.chapter)! }

    static let configName = "aces.toml"
    public static let databaseName = "aces.sqlite"

    /// The replica's file.
    public var databasePath: String { path + "/" + NodeDirectory.databaseName }

    /// Creates a node: the folder, its signing key, configuration and empty replica.
    /// Refuses when the folder already holds a node or is a non-empty folder of other files.
    public static func initialize(
        at path: String, chapter: ChapterID, roster: String? = nil, key: SigningKey = SigningKey(),
        now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)
    ) throws -> NodeDirectory {
        let fm = FileManager.default
        let path = (path as NSString).standardizingPath
        if fm.fileExists(atPath: path + "/" + configName) || fm.fileExists(atPath: path + "/" + databaseName) {
            throw NodeError.alreadyANode(path)
        }
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDir) {
            guard isDir.boolValue else { throw NodeError.config("\(path) exists and is not a folder") }
            guard (try? fm.contentsOfDirectory(atPath: path))?.isEmpty ?? false else {
                throw NodeError.config("\(path) is a folder with other files in it; choose an empty or new folder")
            }
        }
        try fm.createDirectory(atPath: path + "/keys", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        let keyID = key.publicKey.keyID(chapter: chapter)
        let keyFile = "keys/\(keyID).key"
        try writeSecret(Base64URL.encode(key.seed) + "\n", to: path + "/" + keyFile)
        let config = NodeConfig(
            chapter: chapter.rawValue, roster: roster,
            keys: [.init(id: keyID, publicKey: key.publicKey.base64url, file: keyFile, validFrom: now, validUntil: nil)])
        try config.toml().write(toFile: path + "/" + configName, atomically: true, encoding: .utf8)
        _ = try Store.create(at: path + "/" + databaseName, chapter: chapter)
        return NodeDirectory(path: path, config: config)
    }

    /// Opens an existing node's directory.
    public static func open(_ path: String) throws -> NodeDirectory {
        let path = (path as NSString).standardizingPath
        let (hasConfig, hasReplica) = (
            FileManager.default.fileExists(atPath: path + "/" + configName),
            FileManager.default.fileExists(atPath: path + "/" + databaseName)
        )
        guard hasConfig || hasReplica else { throw NodeError.notANode(path) }
        guard hasConfig else {
            throw NodeError.config("\(path) holds a replica but no \(configName); put the node's \(configName) back (from a backup)")
        }
        guard let data = FileManager.default.contents(atPath: path + "/" + configName) else {
            throw NodeError.config("\(path)/\(configName) cannot be read by this user; check its permissions and owner")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw NodeError.config("\(path)/\(configName) is not a text file (not UTF-8); fix it, see docs/OPERATIONS.md for its format")
        }
        guard hasReplica else {
            throw NodeError.config(
                "\(path) holds \(configName) but no replica (\(databaseName)); bring it back with 'aces restore --data \(path) --from BACKUP' or '--from-peers'"
            )
        }
        return NodeDirectory(path: path, config: try NodeConfig.parse(text))
    }

    /// `aces.toml` as it is on disk now (another command, such as `aces keys rotate`, may have
    /// changed it since this directory was opened); the opened one if it cannot be read.
    var currentConfig: NodeConfig { (try? NodeDirectory.open(path).config) ?? config }

    /// Opens the replica, with the roster's stewards and chapters deciding ownership.
    public func openStore() throws -> Store {
        let store = try Store.open(at: databasePath)
        store.setOwnershipRoster(OwnershipRoster(try keyRing()))
        try store.recheckOwnershipIfNeeded()
        return store
    }

    /// The current signing key, as `aces.toml` names it now: read once, and again only when
    /// `aces.toml` or the key file changed (so a server picks up `aces keys rotate` run beside it).
    /// Refuses a key file others can read.
    public func signingKey() throws -> (id: String, key: SigningKey) {
        let configFile = path + "/" + NodeDirectory.configName
        if let known = signingKeys.current(configFile: configFile) { return known }
        let configStamp = FileStamp(configFile)
        guard let k = currentConfig.keys.last, let name = k.file else { throw NodeError.key("no signing key is configured") }
        let keyStamp = FileStamp(path + "/" + name)
        let key = try NodeDirectory.readKey(path + "/" + name)
        guard key.publicKey.base64url == k.publicKey else {
            throw NodeError.key("the signing key file \(path + "/" + name) does not match the public key in aces.toml")
        }
        signingKeys.keep((k.id, key), configStamp: configStamp, keyFile: path + "/" + name, keyStamp: keyStamp)
        return (k.id, key)
    }

    /// Reads a private key file, refusing one that others can read.
    static func readKey(_ file: String) throws -> SigningKey {
        let attrs = try? FileManager.default.attributesOfItem(atPath: file)
        guard let mode = (attrs?[.posixPermissions] as? NSNumber)?.intValue else {
            throw NodeError.key("the signing key file \(file) is missing")
        }
        guard mode & 0o077 == 0 else {
            throw NodeError.key(
                "the signing key file \(file) is readable by others (mode \(String(mode, radix: 8))); run 'chmod 600 \(file)'")
        }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8),
            let seed = Base64URL.decode(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { throw NodeError.key("the signing key file \(file) is not a base64url Ed25519 seed") }
        return try SigningKey(seed: seed)
    }

    /// The author of this node's local writes.
    public func author(
        wallMillis: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws -> Author {
        let (id, key) = try signingKey()
        return Author(origin: chapter, key: key, keyID: id, wallMillis: wallMillis)
    }

    /// A path from the configuration, resolved against the data directory.
    public func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : path + "/" + p }

    /// The roster in force: the signed roster the replica holds (docs/PROTOCOL.md §2.1) or, until
    /// it holds one, the folder of TOML files the configuration names.
    public func roster() throws -> Roster? {
        if let signed = try signedRoster() { return signed.roster }
        guard let r = config.roster else { return nil }
        return try Roster.load(from: resolve(r))
    }

    /// The signed roster the replica holds, if any.
    public func signedRoster() throws -> SignedRoster? {
        guard FileManager.default.fileExists(atPath: databasePath) else { return nil }
        // The replica as it is, without the roster (which `openStore` reads through here).
        guard let stored = try Store.open(at: databasePath).currentRoster() else { return nil }
        return try SignedRoster(bytes: Array(stored.document.utf8))
    }

    /// Replaces the configuration file (written atomically).
    public func saving(_ config: NodeConfig) throws -> NodeDirectory {
        try config.toml().write(toFile: path + "/" + NodeDirectory.configName, atomically: true, encoding: .utf8)
        return NodeDirectory(path: path, config: config)
    }

    /// The keys entries are checked against: the roster's, and this node's own keys.
    public func keyRing() throws -> KeyRing { keyRing(for: try roster()) }

    /// The keys entries are checked against under `roster`, with this node's own keys.
    public func keyRing(for roster: Roster?) -> KeyRing {
        var ring = roster?.keyRing ?? KeyRing()
        for k in config.keys {
            guard let pub = try? PublicSigningKey(base64url: k.publicKey) else { continue }
            ring.add(
                KeyGrant(keyID: k.id, publicKey: pub, validFrom: k.validFrom, validUntil: k.validUntil), for: chapter)
        }
        return ring
    }

    /// Creates a secret file exclusively with mode 0600 from the start (never readable by others,
    /// never replacing an existing file).
    static func writeSecret(_ text: String, to file: String) throws {
        do { try FederationCA.createExclusively(file, contents: Array(text.utf8), mode: 0o600) } catch {
            throw NodeError.key("could not write the key file \(file): \(error)")
        }
    }
}

/// What identifies a file's version cheaply: inode, size, modification time, mode and owner (an
/// atomic replacement, an edit, a chmod or a chown changes it). One `stat`, no more: a TLS
/// handshake looks at two of them.
public struct FileStamp: Equatable, Sendable {
    let attributes: [Int64]

    public init(_ file: String) {
        var info = stat()
        guard stat(file, &info) == 0 else {
            attributes = []
            return
        }
        #if canImport(Darwin)
            let modified = info.st_mtimespec
        #else
            let modified = info.st_mtim
        #endif
        attributes = [
            Int64(info.st_ino), Int64(info.st_size), Int64(modified.tv_sec), Int64(modified.tv_nsec), Int64(info.st_mode),
            Int64(info.st_uid),
        ]
    }
}

/// The signing key a node read, kept with the stamps of `aces.toml` and the key file it came
/// from: a writer looks at two stamps instead of parsing the configuration and the key again.
final class SigningKeyCache: Sendable {
    private struct Kept {
        let value: (id: String, key: SigningKey)
        let configStamp: FileStamp
        let keyFile: String
        let keyStamp: FileStamp
    }
    private let kept = NIOLockedValueBox<Kept?>(nil)

    /// The kept key, if neither file changed since it was read.
    func current(configFile: String) -> (id: String, key: SigningKey)? {
        guard let k = kept.withLockedValue({ $0 }), FileStamp(configFile) == k.configStamp, FileStamp(k.keyFile) == k.keyStamp
        else { return nil }
        return k.value
    }

    func keep(_ value: (id: String, key: SigningKey), configStamp: FileStamp, keyFile: String, keyStamp: FileStamp) {
        kept.withLockedValue { $0 = Kept(value: value, configStamp: configStamp, keyFile: keyFile, keyStamp: keyStamp) }
    }
}
