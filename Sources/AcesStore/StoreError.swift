import AcesCore

/// What went wrong in the store, in one sentence for the user. Never carries field values.
public enum StoreError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No record of this kind has this id (or it was removed).
    case notFound(RecordKind, String)
    /// A value or combination of values is refused.
    case invalid(String)
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
        case .notAReplica(let why): why
        case .notOwner(let why): why
        case .frozen(let o): "origin '\(o)' is frozen after a fork; resolve it before writing (see 'aces status')"
        case .restoreLocked(let quorum, let confirmed):
            "this node was restored and has not yet seen its own latest entries from \(quorum) peer(s) (\(confirmed) so far); run 'aces sync' or 'aces serve' with a reachable peer first, so it cannot fork its own log"
        }
    }
}
