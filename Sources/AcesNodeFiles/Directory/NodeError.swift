/// A problem with a node's files or settings, in one sentence that says what to do.
public enum NodeError: Error, CustomStringConvertible, Sendable, Equatable {
    case notANode(String)
    case alreadyANode(String)
    case config(String)
    case key(String)
    /// A restore cannot proceed (see `NodeRestore`).
    case restore(String)

    public var description: String {
        switch self {
        case .notANode(let p): "\(p) is not an Aces node's data directory (create one with 'aces init --data \(p) --chapter ID')"
        case .alreadyANode(let p): "\(p) already holds an Aces node; refusing to overwrite it"
        case .config(let s): s
        case .key(let s): s
        case .restore(let s): s
        }
    }
}
