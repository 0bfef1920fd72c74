/// Who may write a record: its owner, the chapters the owner granted it to, and the federation's
/// stewards (docs/PROTOCOL.md §2, *Ownership*). A pure function of the record's id, the custody
/// changes (grants, revocations, transfers) held for it, and the roster's stewards; never of the
/// order in which entries arrived.
public struct Custody: Sendable, Hashable {
    /// Who holds the record before any transfer.
    public enum Holder: Sendable, Hashable {
        /// The chapter whose owner tag the record id carries (ids minted from protocol version 3).
        case tag(UInt32)
        /// A chapter by name: the creator of a record older than version 3, or a transfer's recipient.
        case chapter(ChapterID)
        /// Nobody but a steward may write the record (an old id that no old entry created).
        case none

        public func isHeld(by chapter: ChapterID) -> Bool {
            switch self {
            case .tag(let t): RecordID.ownerTag(of: chapter) == t
            case .chapter(let c): c == chapter
            case .none: false
            }
        }

        /// The holder's chapter id, looking a tag up among `chapters`.
        public func chapter(among chapters: [ChapterID]) -> ChapterID? {
            switch self {
            case .tag(let t): chapters.first { RecordID.ownerTag(of: $0) == t }
            case .chapter(let c): c
            case .none: nil
            }
        }
    }

    /// One grant, revocation or transfer, with the stamp of the entry that wrote it.
    public struct Change: Sendable, Hashable {
        public let stamp: Stamp
        public let action: Action
        public let to: ChapterID

        public init(stamp: Stamp, action: Action, to: ChapterID) {
            self.stamp = stamp
            self.action = action
            self.to = to
        }

        public var origin: ChapterID { stamp.version.origin }
    }

    /// Who may write the record at one point of its history.
    public struct Standing: Sendable, Hashable {
        public var holder: Holder
        public var grants: Set<ChapterID>

        /// Whether `origin`, not a steward, may write an operation `action` naming `fields`: the
        /// holder anything; a chapter holding a grant only a `set` naming neither `merged_into`
        /// nor `_removed` (bringing a removed record back is the owner's).
        public func permits(_ action: Action, fields: some Collection<String>, by origin: ChapterID) -> Bool {
            if holder.isHeld(by: origin) { return true }
            return grants.contains(origin) && action == .set
                && !fields.contains("merged_into") && !fields.contains(LogOperation.removedField)
        }
    }

    public let creator: Holder
    /// Every custody change held for the record, valid or not, by stamp.
    public private(set) var changes: [Change]

    /// The custody of record `id`: its creator is the chapter its id names (a UUIDv8), or else
    /// `legacyCreator`, the origin of the earliest operation on it in an entry older than version 3.
    public init(id: String, legacyCreator: ChapterID?, changes: [Change] = []) {
        if let tag = RecordID.ownerTag(in: id) {
            creator = .tag(tag)
        } else if let c = legacyCreator {
            creator = .chapter(c)
        } else {
            creator = .none
        }
        self.changes = changes.sorted { $0.stamp < $1.stamp }
    }

    /// Adds a change (kept in stamp order).
    public mutating func add(_ change: Change) {
        let i = changes.firstIndex { change.stamp < $0.stamp } ?? changes.count
        changes.insert(change, at: i)
    }

    /// Whether the record has no history of custody changes (the common case, checked first).
    public var isPlain: Bool { changes.isEmpty }

    /// The standing just before `stamp` (after every change when nil): the changes before it are
    /// replayed in stamp order, each taking effect only when its origin held the record or was a
    /// steward at that point. A transfer ends every grant.
    public func standing(before stamp: Stamp?, stewards: Set<ChapterID>) -> Standing {
        var s = Standing(holder: creator, grants: [])
        for c in changes {
            if let stamp, !(c.stamp < stamp) { break }
            guard stewards.contains(c.origin) || s.holder.isHeld(by: c.origin) else { continue }
            switch c.action {
            case .grant: s.grants.insert(c.to)
            case .revoke: s.grants.remove(c.to)
            case .transfer:
                s.holder = .chapter(c.to)
                s.grants = []
            default: break
            }
        }
        return s
    }

    /// Why `op`, written by its entry at `stamp`, is not allowed, or nil when it is. Owners and
    /// stewards may do anything; a chapter holding a grant may only `set` fields other than
    /// `merged_into` (no `_removed`: bringing a removed record back is the owner's).
    public func refusal(of op: LogOperation, at stamp: Stamp, stewards: Set<ChapterID>) -> OwnershipRefusal? {
        let origin = stamp.version.origin
        if stewards.contains(origin) { return nil }
        let s = standing(before: stamp, stewards: stewards)
        if s.permits(op.action, fields: op.bases.keys, by: origin) { return nil }
        return OwnershipRefusal(
            kind: op.kind, id: op.id, origin: origin, holder: s.holder, granted: s.grants.contains(origin), action: op.action)
    }
}

/// Why an operation was refused for ownership: it is kept as evidence and not applied, while the
/// rest of its origin's chain keeps flowing. Names chapters and record ids only.
public struct OwnershipRefusal: Sendable, Hashable, CustomStringConvertible {
    public let kind: RecordKind
    public let id: String
    public let origin: ChapterID
    public let holder: Custody.Holder
    /// Whether the origin held a grant (which does not cover this action).
    public let granted: Bool
    public let action: Action

    /// A short stable code, used in metrics and listings.
    public var code: String { granted ? "beyond_grant" : "not_owner" }

    /// The sentence, naming the owner by `chapters` (the roster's) when the id carries only its tag.
    public func sentence(chapters: [ChapterID] = []) -> String {
        let record = "\(kind.rawValue) \(id)"
        let owner = holder.chapter(among: chapters)?.rawValue
        if granted {
            return
                "\(origin) holds a grant on \(record) of \(owner ?? "another chapter"), which lets it change fields, not \(action == .set ? "merge or bring back" : action.rawValue) the record"
        }
        guard let owner else {
            if case .none = holder { return "\(record) has no owner: only a federation steward may change it" }
            return "\(record) belongs to a chapter not in the roster: \(origin) may not change it"
        }
        return "\(record) belongs to \(owner): \(origin) may not change it (\(owner) can grant it with 'aces \(kind.rawValue) grant')"
    }

    public var description: String { sentence() }
}
