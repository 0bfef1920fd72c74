import AcesCore
import AcesStore
import Foundation

/// A fresh temporary folder, removed when the value is released.
public final class TempDir: @unchecked Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "aces-test-" + UUID().uuidString.lowercased()
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func file(_ name: String) -> String { path + "/" + name }
}

/// A wall clock tests move by hand.
public final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var millis: Int64

    public init(_ start: Int64 = 1_800_000_000_000) { millis = start }

    public func now() -> Int64 { lock.withLock { millis } }
    public func advance(_ ms: Int64) { lock.withLock { millis += ms } }
    public func set(_ ms: Int64) { lock.withLock { millis = ms } }
}

/// Deterministic bytes for salts and ids.
public final class SeededBytes: @unchecked Sendable {
    private let lock = NSLock()
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public func next(_ n: Int) -> [UInt8] {
        lock.withLock {
            (0..<n).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
        }
    }
}

/// A chapter's replica with a fixed key and clock, for tests.
public struct TestNode: Sendable {
    public let chapter: ChapterID
    public let key: SigningKey
    public let store: Store
    public let clock: ManualClock
    public let author: Author
    let bytes: SeededBytes
    /// Keeps the folder alive as long as the node is used.
    public let dir: TempDir

    public init(_ chapter: String, in dir: TempDir, clock: ManualClock = ManualClock(), seed: UInt8 = 1) throws {
        self.chapter = ChapterID(chapter)!
        self.dir = dir
        key = try SigningKey(seed: [UInt8](repeating: seed, count: 31) + [UInt8(chapter.utf8.count)])
        store = try Store.create(at: dir.file("\(chapter)-\(UUID().uuidString).sqlite"), chapter: self.chapter)
        self.clock = clock
        let bytes = SeededBytes(seed: UInt64(seed) << 8 | UInt64(chapter.utf8.first!))
        self.bytes = bytes
        author = Author(origin: self.chapter, key: key, wallMillis: { clock.now() }, randomBytes: { bytes.next($0) })
    }

    /// The key grant tests list for this node.
    public var grant: KeyGrant {
        KeyGrant(keyID: author.keyID, publicKey: key.publicKey, validFrom: 0, validUntil: nil)
    }

    /// A new record id, created by this chapter.
    public func newID() -> String { RecordID.mint(millis: clock.now(), random: bytes.next(10), owner: chapter) }

    /// A new record id owned by `owner`, which only `owner` or a steward may create.
    public func newID(owner: String) -> String { RecordID.mint(millis: clock.now(), random: bytes.next(10), owner: ChapterID(owner)!) }

    /// Makes this node a federation steward among `chapters` (it may write every chapter's records).
    public func becomeSteward(among chapters: [String]) {
        store.setOwnershipRoster(OwnershipRoster(stewards: [chapter], chapters: chapters.compactMap(ChapterID.init)))
    }

    /// Writes one entry.
    @discardableResult
    public func write(_ mutations: [Mutation]) throws -> Entry? {
        clock.advance(1)
        return try store.author(as: author) { _ in mutations }
    }

    /// A member's valid field values.
    public static func member(_ n: Int, chapter: String = "fr", city: String = "Lyon") -> [String: JSONValue] {
        [
            "chapter": .string(chapter), "email": .string("member\(n)@example.org"), "name": .string("Member \(n)"),
            "city": .string(city), "visibility": "public", "status": "active",
        ]
    }
}

/// A key ring listing every given node's key, with `stewards` as the roster's stewards. Each
/// node's own authoring then decides ownership by the same roster.
public func keyRing(_ nodes: [TestNode], stewards: Set<String> = []) -> KeyRing {
    var ring = KeyRing()
    for n in nodes { ring.add(n.grant, for: n.chapter) }
    ring.stewards = Set(stewards.compactMap(ChapterID.init))
    if !stewards.isEmpty { for n in nodes { n.store.setOwnershipRoster(OwnershipRoster(ring)) } }
    return ring
}

/// A key ring in which every given chapter is a steward: any of them may write any record, as
/// before chapters owned their records. For tests of the merge itself (concurrent edits of one
/// record by several chapters).
public func stewardRing(_ nodes: [TestNode]) -> KeyRing { keyRing(nodes, stewards: Set(nodes.map(\.chapter.rawValue))) }

/// Copies every entry `from` holds that `to` lacks, origin by origin.
@discardableResult
public func sync(from: TestNode, to: TestNode, keys: KeyRing) throws -> Int {
    var moved = 0
    let held = Dictionary(uniqueKeysWithValues: try to.store.heads().map { ($0.origin, $0.seq) })
    for h in try from.store.heads() {
        let entries = try from.store.entries(of: h.origin, after: held[h.origin] ?? 0, limit: 1_000_000)
        if entries.isEmpty { continue }
        let r = try to.store.apply(entries, origin: h.origin, keys: keys)
        moved += r.applied
    }
    return moved
}
