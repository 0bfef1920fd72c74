import AcesCore
import AcesStore
import ArgumentParser

/// `aces member grant|transfer` and `aces event grant|transfer`: the owner of a record lets
/// another chapter edit it, ends that, or hands the record over (PROTOCOL.md §2, *Ownership*).
enum OwnershipCLI {
    static func grant(_ kind: RecordKind, id: String, chapter: String, revoke: Bool, node: NodeOptions) throws {
        let id = try FieldInput.recordID(kind, id)
        let to = try chapterID(chapter, option: "--chapter")
        let dir = try node.node()
        let store = try dir.openStore()
        try store.author(as: try dir.author()) { _ in [revoke ? .revoke(kind, id: id, to: to) : .grant(kind, id: id, to: to)] }
        Out.line(
            revoke
                ? "Revoked \(to)'s grant on \(kind.rawValue) \(id): entries \(to) signs from now on are refused on every node."
                : "Granted \(to) the right to edit \(kind.rawValue) \(id) (its fields, not its removal, erasure or owner).")
    }

    static func transfer(_ kind: RecordKind, id: String, to chapter: String, node: NodeOptions) throws {
        let id = try FieldInput.recordID(kind, id)
        let to = try chapterID(chapter, option: "--to")
        let dir = try node.node()
        let store = try dir.openStore()
        try store.author(as: try dir.author()) { _ in [.transfer(kind, id: id, to: to)] }
        Out.line("Transferred \(kind.rawValue) \(id) to \(to): from this entry on, \(to) owns it on every node.")
    }

    static func chapterID(_ s: String, option: String) throws -> ChapterID {
        guard let c = ChapterID(s) else { throw StoreError.invalid("\(option): \(ChapterID.rule)") }
        return c
    }

    /// The owner and grants of a record, as lines for `show`.
    static func lines(_ store: Store, _ kind: RecordKind, id: String) throws -> [(String, String)] {
        let o = try store.ownership(of: kind, id: id)
        var rows = [("owner", o.owner?.rawValue ?? "(no chapter in the roster)")]
        if !o.grants.isEmpty { rows.append(("grants", o.grants.map(\.rawValue).joined(separator: ", "))) }
        for t in o.transfers { rows.append(("transferred", "\(t.from) → \(t.to) in entry \(t.version)")) }
        return rows
    }
}

extension MemberCommand {
    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let another chapter edit one of this chapter's members (or end that with --revoke).",
            discussion: """
                aces member grant ID --chapter uk
                aces member grant ID --chapter uk --revoke
                A grant lets the chapter change the member's fields; removing, erasing, merging and \
                transferring stay with the owner. Every node enforces it.
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @Option(help: "The chapter the grant is for.") var chapter: String
        @Flag(help: "End the chapter's grant instead.") var revoke = false

        func run() throws { try OwnershipCLI.grant(.member, id: id, chapter: chapter, revoke: revoke, node: node) }
    }

    struct Transfer: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Hand one of this chapter's members to another chapter (a member moving country).")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @Option(help: "The chapter that owns the member from now on.") var to: String

        func run() throws { try OwnershipCLI.transfer(.member, id: id, to: to, node: node) }
    }
}

extension EventCommand {
    struct Grant: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Let another chapter edit one of this chapter's events (a co-organised event), or end that with --revoke.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The event's id.") var id: String
        @Option(help: "The chapter the grant is for.") var chapter: String
        @Flag(help: "End the chapter's grant instead.") var revoke = false

        func run() throws { try OwnershipCLI.grant(.event, id: id, chapter: chapter, revoke: revoke, node: node) }
    }

    struct Transfer: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand one of this chapter's events to another chapter.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The event's id.") var id: String
        @Option(help: "The chapter that owns the event from now on.") var to: String

        func run() throws { try OwnershipCLI.transfer(.event, id: id, to: to, node: node) }
    }
}
