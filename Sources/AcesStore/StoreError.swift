import AcesCore

/// Why a store operation failed, with its cause kept so a caller can tell causes apart
/// (the HTTP API picks its status by case, never by the text).
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No record of this kind has this id (or it was removed).
    case notFound(RecordKind, String)
    /// A value or combination of values is refused.
    case invalid(String)
    /// Another live member has this email (`existing` is its id); `line` is the spreadsheet line
    /// of an import whose member appeared meanwhile.
    case duplicateEmail(existing: String, line: Int? = nil)
    /// The record is erased already; erasing it again has nothing to do.
    case alreadyErased(RecordKind, String)
    /// The record was erased and is never written again.
    case erased(RecordKind, String)
    /// A field of the record would hold more concurrent versions than the state can keep
    /// (`RecordState.maxHeads`): the entry that would cause it is refused.
    case tooManyHeads(RecordKind, String, field: String)
    /// The record was erased, but its old values could not be purged from the file yet (the
    /// search index's segments, the WAL): `cause` says why; `aces prune` finishes the purge.
    case purgeIncomplete(RecordKind, String, cause: String)
    /// The database stayed locked by another writer longer than the busy timeout.
    case busy
    /// SQLite failed with this result code (the extended code where SQLite gives one).
    case sqlite(code: Int32, message: String)
    /// The database file is not an Aces replica, or is damaged.
    case notAReplica(String)
    /// The origin is frozen after a fork and cannot author.
    case frozen(ChapterID)
    /// The node was restored and may not author until `quorum` peers have shown it its own latest
    /// entries (`confirmed` so far): a temporary refusal (HTTP 503), lifted by sync.
    case restoreLocked(quorum: Int, confirmed: Int)
    /// This chapter may not make the change: the record belongs to another chapter and this one
    /// holds no grant that covers it (HTTP 403). The sentence names the owner and what to do.
    case notOwner(String)

    public var description: String {
        switch self {
        case .notFound(let k, let id): "no \(k.rawValue) with id \(id) (see 'aces \(k.rawValue) list')"
        case .invalid(let why): why
        case .duplicateEmail(let other, nil): "a member with this email already exists (\(other))"
        case .duplicateEmail(let other, let line?): "line \(line): a member with this email appeared meanwhile (\(other))"
        case .alreadyErased(let k, let id): "\(k.rawValue) \(id) is already erased"
        case .erased(let k, let id): "\(k.rawValue) \(id) was erased and cannot be written again"
        case .tooManyHeads(let k, let id, let field):
            "\(k.rawValue) \(id) would keep more than \(RecordState.maxHeads) concurrent versions of '\(field)'; settle its conflict first (see 'aces conflicts')"
        case .purgeIncomplete(let k, let id, let cause):
            "\(k.rawValue) \(id) is erased, but its old values could not be purged from the database file yet (\(cause)); run 'aces prune' to finish"
        case .busy: "the database is busy with another writer; try again in a moment"
        case .sqlite(let code, let message): "SQLite error \(code): \(message)"
        case .notAReplica(let why): why
        case .notOwner(let why): why
        case .frozen(let o): "origin '\(o)' is frozen after a fork; resolve it before writing (see 'aces status')"
        case .restoreLocked(let quorum, let confirmed):
            "this node was restored and has not yet seen its own latest entries from \(quorum) peer(s) (\(confirmed) so far); run 'aces sync' or 'aces serve' with a reachable peer first, so it cannot fork its own log"
        }
    }

    /// The error for a failed SQLite call: `.busy` when the database is locked, else the code.
    static func fromSQLite(_ code: Int32, _ message: String) -> StoreError {
        code & 0xFF == 5 || code & 0xFF == 6 ? .busy : .sqlite(code: code, message: message)
    }
}
