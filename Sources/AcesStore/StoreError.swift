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

    public var description: String {
        switch self {
        case .notFound(let k, let id): "no \(k.rawValue) with id \(id) (see 'aces \(k.rawValue) list')"
        case .invalid(let why): why
        case .notAReplica(let why): why
        case .frozen(let o): "origin '\(o)' is frozen after a fork; resolve it before writing (see 'aces status')"
        }
    }
}
