import AcesCore
import Foundation
import GRDB

/// A node's SQLite replica: the log and the state derived from it.
///
/// The store keeps its own invariants: every write goes through a method that appends the
/// entry and applies it in one transaction, so there is never state without its entry nor an
/// entry without its state.
///
/// ```swift
/// let store = try Store.create(at: dir.appending(path: "aces.sqlite"), chapter: fr)
/// let entry = try store.author(as: author) { draft in [.set(.member, id, values)] }
/// ```
public struct Store: Sendable {
    let pool: DatabasePool
    /// The chapter this replica belongs to (its own origin).
    public let chapter: ChapterID
    /// Where the database lives.
    public let path: String
    /// Tells listeners when this replica's writes move an origin's head.
    let newEntries: NewEntriesWatch
    /// The roster ownership is decided by (see Store+Ownership.swift).
    let ownershipBox = OwnershipRosterBox()

    init(pool: DatabasePool, chapter: ChapterID, path: String) {
        self.pool = pool
        self.chapter = chapter
        self.path = path
        newEntries = NewEntriesWatch()
        pool.add(transactionObserver: newEntries, extent: .observerLifetime)
    }

    /// Calls `listener` after every transaction of this replica (this `Store` and its copies)
    /// that added entries: authored here or applied from a peer. Writes by another process, or
    /// through another `Store` opened on the same file, are not seen: compare `changeCounter()`.
    /// The listener runs on the writer's thread: it must return at once.
    public func onNewEntries(_ listener: @escaping @Sendable () -> Void) { newEntries.add(listener) }

    /// Creates a new replica file for `chapter`; fails if the file exists.
    public static func create(at path: String, chapter: ChapterID) throws -> Store {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError.notAReplica("a database already exists at \(path)")
        }
        let pool = try DatabasePool(path: path, configuration: configuration())
        try Schema.migrator.migrate(pool)
        try pool.write { db in
            try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('chapter', ?), ('format', '1')", arguments: [chapter.rawValue])
        }
        return Store(pool: pool, chapter: chapter, path: path)
    }

    /// Opens an existing replica, running any pending migration.
    public static func open(at path: String) throws -> Store {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError.notAReplica("no replica at \(path)")
        }
        let pool: DatabasePool
        let reindex: Bool
        do {
            pool = try DatabasePool(path: path, configuration: configuration())
            let before = try pool.read { db in try Schema.migrator.appliedIdentifiers(db) }
            try Schema.migrator.migrate(pool)
            reindex = !before.contains("v5-directory")
        } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
            throw StoreError.busy
        } catch {
            throw StoreError.notAReplica("\(path) is not an Aces replica (\(error))")
        }
        let name = try pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'chapter'") }
        guard let name, let chapter = ChapterID(name) else {
            throw StoreError.notAReplica("\(path) is not an Aces replica (it names no chapter)")
        }
        let store = Store(pool: pool, chapter: chapter, path: path)
        // The v5 migration queued every member for the search index: fill it now.
        if reindex { try store.indexPendingSearch() }
        return store
    }

    static func configuration() -> Configuration {
        var c = Configuration()
        c.busyMode = .timeout(10)
        c.prepareDatabase { db in
            // 32 MiB of page cache per connection, and checkpoints every ~16 MiB of WAL rather than
            // every 4 MiB: a catch-up writes hundreds of megabytes.
            try db.execute(
                sql: """
                    PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;
                    PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 4000
                    """)
            db.add(function: Store.foldFunction)
        }
        return c
    }

    /// `aces_fold(text)`: the text with case and accents folded as the directory's search folds
    /// it (`SearchText.fold`), for listings that filter with LIKE.
    static let foldFunction = DatabaseFunction("aces_fold", argumentCount: 1, pure: true) { values in
        String.fromDatabaseValue(values[0]).map(SearchText.fold)
    }

    /// Checkpoints the WAL into the main file and truncates it.
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
    }

    /// `PRAGMA integrity_check`: "ok" or the problems SQLite found.
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check").joined(separator: "; ") }
    }

    /// The chapter's id of an origin's local number, for entry row ids.
    static func rowid(origin: Int64, seq: Int64) -> Int64 { origin << 40 | seq }
}

/// Watches the writer for commits that changed the `origins` table (an entry authored or
/// applied moves its origin's head), and tells the listeners after the commit.
final class NewEntriesWatch: TransactionObserver, @unchecked Sendable {
    private let lock = NSLock()
    private var listeners = [@Sendable () -> Void]()
    /// Only touched on the writer's queue, during one transaction.
    private var moved = false

    func add(_ listener: @escaping @Sendable () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        listeners.append(listener)
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "origins" }

    func databaseDidChange(with event: DatabaseEvent) {
        moved = true
        stopObservingDatabaseChangesUntilNextTransaction()
    }

    func databaseDidCommit(_ db: Database) {
        guard moved else { return }
        moved = false
        lock.lock()
        let all = listeners
        lock.unlock()
        for l in all { l() }
    }

    func databaseDidRollback(_ db: Database) { moved = false }
}
