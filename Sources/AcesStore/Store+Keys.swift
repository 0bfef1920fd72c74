import AcesCore
import Foundation
import GRDB

extension Store {
    /// The key `origin`'s chain names for its entries after `seq` (nil when it announced none
    /// up to there).
    static func chainKey(_ db: Database, originID: Int64, before seq: Int64) throws -> ChainKey? {
        guard
            let r = try Row.fetchOne(
                db,
                sql: "SELECT seq, key_id, public_key FROM key_announcements WHERE origin = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
                arguments: [originID, seq])
        else { return nil }
        return try chainKey(r)
    }

    /// A row of `key_announcements` (columns `seq`, `key_id`, `public_key`).
    private static func chainKey(_ r: Row) throws -> ChainKey {
        guard let key = try? PublicSigningKey(raw: [UInt8](r["public_key"] as Data)) else {
            throw StoreError.notAReplica("a stored key announcement is damaged")
        }
        return ChainKey(seq: r["seq"], announcement: KeyAnnouncement(keyID: r["key_id"], publicKey: key))
    }

    /// The key `origin`'s own chain names as its current signing key, if it announced one.
    public func chainKey(of origin: ChapterID) throws -> ChainKey? {
        try pool.read { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [origin.rawValue]) else {
                return nil
            }
            return try Store.chainKey(db, originID: id, before: 1 << 40)
        }
    }

    /// Every key announcement held, oldest first per origin.
    public func keyAnnouncements() throws -> [(origin: ChapterID, key: ChainKey)] {
        try pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.name, k.seq, k.key_id, k.public_key FROM key_announcements k JOIN origins o ON o.id = k.origin
                    ORDER BY o.name, k.seq
                    """
            ).compactMap { r in
                guard let o = ChapterID(r["name"]) else { return nil }
                return (o, try Store.chainKey(r))
            }
        }
    }

    /// Appends to this node's log an entry, signed by the current key, that names `next` as the
    /// key signing everything after it. The node must sign with `next` from then on: entries
    /// signed by the old key after this one are refused on every node.
    @discardableResult
    public func announceKey(_ next: PublicSigningKey, as author: Author) throws -> Entry {
        let announcement = KeyAnnouncement(keyID: next.keyID(chapter: author.origin), publicKey: next)
        guard announcement.keyID != author.keyID else { throw StoreError.invalid("the new key must differ from the current one") }
        return try pool.write { db in
            try authorEntries(db, as: author, count: 1, announcing: announcement) { _, _ in [] }[0]
        }
    }
}
