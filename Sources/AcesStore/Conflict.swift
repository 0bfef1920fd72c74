import AcesCore
import Foundation

/// A clash the merge settled automatically but an operator should see: derived from the log,
/// so every node that holds the same entries lists the same conflicts with the same ids.
public struct Conflict: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        /// Concurrent writes of one field: more than one head.
        case field
        /// A delete beside a write it did not see.
        case delete
        /// Two live members with the same email (compared case-insensitively, Unicode-normalised).
        case duplicate
    }

    /// One side of a conflict.
    public struct Candidate: Sendable {
        public let version: Version
        public let hlc: HLC
        public let keyID: String
        /// `set` for writes; `delete`/`erase` for removals.
        public let action: Action
        /// The record this side belongs to (differs between sides of a duplicate).
        public let record: String
        /// The value written (field conflicts), or nil (removals, erased values).
        public let value: JSONValue?
        /// For a write: the fields it wrote (delete conflicts, duplicates).
        public let fields: [String: JSONValue]
        /// The versions this side replaced, with their values where known.
        public let replaced: [(version: Version, value: JSONValue?)]
        /// Whether this side is the automatic winner now shown.
        public let isWinner: Bool
    }

    public let id: String
    public let kind: Kind
    public let recordKind: RecordKind
    /// The record(s) involved: one, or the duplicates in id order.
    public let records: [String]
    /// The field, for a field conflict.
    public let field: String?
    /// The home chapter of the (first) record: its chapter field, or where that was cleared or the
    /// record removed, the chapter its log names last, else the chapter that wrote that field.
    public let chapter: String?
    public let candidates: [Candidate]
    /// The member's name or the event's title (the last one the log holds for a removed record);
    /// for a duplicate, the first record's name. Shown to the operator, never logged.
    public internal(set) var label: String? = nil
    /// For a settled conflict (`Store.settledConflicts`): the write that settled it, its value and
    /// when; its sides are the versions it replaced.
    public internal(set) var settledBy: Candidate? = nil

    /// The (first) record, as `kind/id`: the conflicts of one record share it.
    var recordKey: String { recordKind.rawValue + "/" + records[0] }

    /// Derives a conflict id: the first 12 hex digits of SHA-256 over what identifies it.
    static func makeID(_ parts: [String]) -> String {
        String(Digest32.sha256(Array(parts.joined(separator: "|").utf8)).hex.prefix(12))
    }
}

/// How an operator settles a conflict.
public enum Resolution: Sendable {
    /// Keep the side written by this origin.
    case take(ChapterID)
    /// Write this value (field conflicts).
    case value(JSONValue)
    /// Fold the other duplicate into this member and retire it with a pointer to the survivor.
    case mergeInto(String)
    /// Accept the automatic winner (field and delete conflicts).
    case latest
}
