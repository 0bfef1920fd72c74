import AcesCore
import AcesStore
import Foundation

/// What `rotateKey` did.
public struct KeyRotation: Sendable {
    /// The key that signed the announcement and signs nothing after it.
    public let retired: String
    /// The key that signs from now on.
    public let current: String
    /// The entry that announced the new key.
    public let announcedAt: Version
    /// Whether this call finished a rotation a crash had interrupted, rather than starting one.
    public let resumed: Bool
    /// Why the roster file could not be updated, if it could not.
    public let rosterProblem: String?
}

extension NodeDirectory {
    /// Replaces the node's signing key. A new key is written to `keys/<id>.key` (0600), an entry
    /// signed by the current key announces it in the node's own log, and `aces.toml` and the
    /// chapter's roster file then list it, with the old key valid until the announcement. The old
    /// private key file is deleted: from the entry after the announcement, every node refuses
    /// anything signed with it. Safe to run again after a crash at any point: a rotation whose
    /// entry is written but whose files are not is finished instead.
    public func rotateKey(to newKey: SigningKey = SigningKey()) throws -> (NodeDirectory, KeyRotation) {
        let store = try openStore()
        let config = currentConfig
        guard let current = config.keys.last else { throw NodeError.key("no signing key is configured") }
        if let announced = try store.chainKey(of: chapter), announced.announcement.keyID != current.id {
            return try finishRotation(config, store: store, to: announced, resumed: true)
        }
        let author = try self.author()
        let next = newKey.publicKey.keyID(chapter: chapter)
        let file = "keys/\(next).key"
        try NodeDirectory.writeSecret(Base64URL.encode(newKey.seed) + "\n", to: path + "/" + file)
        let entry: Entry
        do { entry = try store.announceKey(newKey.publicKey, as: author) } catch {
            try? FileManager.default.removeItem(atPath: path + "/" + file)
            throw error
        }
        let announced = ChainKey(seq: entry.envelope.seq, announcement: entry.envelope.nextKey!)
        return try finishRotation(config, store: store, to: announced, resumed: false)
    }

    /// Lists the announced key in `aces.toml` (the others end at the announcement), deletes the
    /// retired private keys and updates the roster file.
    private func finishRotation(
        _ config: NodeConfig, store: Store, to announced: ChainKey, resumed: Bool
    ) throws -> (NodeDirectory, KeyRotation) {
        let id = announced.announcement.keyID
        let file = "keys/\(id).key"
        let key: SigningKey
        do { key = try NodeDirectory.readKey(path + "/" + file) } catch {
            throw NodeError.key(
                "this node's log names '\(id)' as its signing key since \(chapter):\(announced.seq), but its private key \(path)/\(file) cannot be read (\(error)); restore that file from your key backup"
            )
        }
        guard key.publicKey == announced.announcement.publicKey else {
            throw NodeError.key("\(path)/\(file) does not hold the key \(chapter):\(announced.seq) announced")
        }
        guard let entry = try store.entries(of: chapter, after: announced.seq - 1, limit: 1).first else {
            throw NodeError.key("the entry \(chapter):\(announced.seq) that announced the key is missing")
        }
        let at = entry.envelope.hlc.millis
        var updated = config
        var retiredFiles = [String]()
        let retired = entry.envelope.keyID
        updated.keys = config.keys.filter { $0.id != id }.map { k in
            var k = k
            if k.validUntil.map({ $0 > at + 1 }) ?? true { k.validUntil = at + 1 }
            if let f = k.file {
                retiredFiles.append(f)
                k.file = nil
            }
            return k
        }
        updated.keys.append(.init(id: id, publicKey: key.publicKey.base64url, file: file, validFrom: at, validUntil: nil))
        let dir = try saving(updated)
        for f in retiredFiles where f != file { try? FileManager.default.removeItem(atPath: path + "/" + f) }
        var rosterProblem: String? = nil
        if config.roster != nil {
            do { try dir.publishToRoster() } catch { rosterProblem = "\(error)" }
        }
        return (
            dir,
            KeyRotation(
                retired: retired, current: id, announcedAt: Version(origin: chapter, seq: announced.seq), resumed: resumed,
                rosterProblem: rosterProblem)
        )
    }
}
