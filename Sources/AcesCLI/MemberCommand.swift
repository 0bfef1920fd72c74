import AcesCore
import AcesStore
import AcesWorkflows
import ArgumentParser

struct MemberCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Add, change, remove and look up members of the directory.",
        subcommands: [
            Add.self, Update.self, Remove.self, Erase.self, Show.self, List.self, Invite.self, Import.self, Export.self, Grant.self,
            Transfer.self, History.self, Erasures.self,
        ]
    )
}

/// The member fields as command-line options, all optional (`member update`).
struct MemberFields: ParsableArguments {
    @Option(help: "Email address (the member's identity across Europe).") var email: String?
    @Option(help: "Full name (at most 200 bytes of UTF-8).") var name: String?
    @OptionGroup var details: MemberDetails

    var raw: [String: JSONValue] { details.raw(email: email, name: name) }
}

/// The member fields other than email and name, as command-line options.
struct MemberDetails: ParsableArguments {
    @Option(help: "Organisation (at most 200 bytes).") var organisation: String?
    @Option(help: "Role or job title (at most 200 bytes).") var role: String?
    @Option(help: "City (at most 120 bytes).") var city: String?
    @Option(help: "Two-letter country code, e.g. FR.") var country: String?
    @Option(help: "Short biography (at most 4000 bytes).") var bio: String?
    @Option(name: .customLong("link"), help: "A web link of at most 500 bytes (repeat for up to 10).") var links: [String] = []
    @Option(help: "Who may see the member: public, members or chapter.") var visibility: String?
    @Option(help: "active or inactive.") var status: String?

    func raw(email: String?, name: String?) -> [String: JSONValue] {
        var v = [String: JSONValue]()
        let pairs: [(String, String?)] = [
            ("email", email), ("name", name), ("organisation", organisation), ("role", role), ("city", city),
            ("country", country), ("bio", bio), ("visibility", visibility), ("status", status),
        ]
        for (k, s) in pairs { if let s { v[k] = .string(s) } }
        if !links.isEmpty { v["links"] = .array(links.map { .string($0) }) }
        return v
    }
}

extension MemberCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a member to this node's chapter and print the new id.",
            discussion: "Example: aces member add --email zoe@example.fr --name 'Zoë Martin' --city Lyon --visibility public"
        )
        @OptionGroup var node: NodeOptions
        @Option(help: "Email address (the member's identity across Europe).") var email: String
        @Option(help: "Full name (at most 200 bytes of UTF-8).") var name: String
        @OptionGroup var details: MemberDetails
        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try FieldInput.validated(.member, details.raw(email: email, name: name))
        }

        func run() throws {
            let dir = try node.node()
            let r = try Editor(directory: dir, store: try dir.openStore()).addMember(
                try FieldInput.validated(.member, details.raw(email: email, name: name)))
            let id = r.id
            if output.json { Out.json(r.json) } else { Out.line(id) }
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields of a member.",
            discussion: "Example: aces member update 0193f0c2-… --city Marseille --clear bio"
        )
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @OptionGroup var fields: MemberFields
        @Option(name: .customLong("clear"), help: "Clear an optional field (repeat for several).") var clear: [String] = []
        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try FieldInput.recordID(.member, id)
            let values = try FieldInput.validated(.member, fields.raw).merging(try FieldInput.cleared(.member, clear)) { a, _ in a }
            guard !values.isEmpty else { throw ValidationError("name at least one field to change, e.g. --city Lyon") }
        }

        func run() throws {
            let id = try FieldInput.recordID(.member, id)
            let values = try FieldInput.validated(.member, fields.raw).merging(try FieldInput.cleared(.member, clear)) { a, _ in a }
            let dir = try node.node()
            let r = try Editor(directory: dir, store: try dir.openStore()).updateMember(id, values)
            if output.json { Out.json(r.json) } else { RecordText.show(r) }
        }
    }

    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a member from the directory (a signed tombstone that hides it; 'aces member erase' destroys its values).")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String

        func validate() throws { _ = try FieldInput.recordID(.member, id) }

        func run() throws {
            let id = try FieldInput.recordID(.member, id)
            let dir = try node.node()
            try Editor(directory: dir, store: try dir.openStore()).remove(.member, id: id)
            Out.line("Removed member \(id).")
        }
    }

    struct Erase: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a member for good (GDPR Art. 17), or show which nodes have confirmed an erasure.",
            discussion: """
                aces member erase ID --reason "request of 2026-11-29, ticket 4711"
                aces member erase --status ID
                The erase is a signed entry: every node that receives it removes the member's values from \
                its state and from every stored entry (the digests stay, so logs still verify). No later or \
                concurrent edit brings them back. The reason stays on this node; write no personal data in it.
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @Option(help: "Why (kept on this node only).") var reason: String?
        @Flag(help: "Show which peers hold the erase entry.") var status = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            _ = try FieldInput.recordID(.member, id)
            if status {
                guard reason == nil else { throw ValidationError("--status takes no --reason") }
            } else {
                guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw ValidationError("--reason is required: say why the member is erased (no personal data)")
                }
            }
        }

        func run() throws {
            let id = try FieldInput.recordID(.member, id)
            let dir = try node.node()
            let store = try dir.openStore()
            if !status {
                let e = try Editor(directory: dir, store: store).eraseMember(id, reason: reason!)
                if output.json { return Out.json(["id": .string(id), "entry": .string(e.envelope.version.description)]) }
                return Out.line("Erased member \(id) in entry \(e.envelope.version); it reaches the other nodes with the next sync.")
            }
            guard let erasure = try store.erasure(of: .member, id: id) else {
                throw StoreError.invalid("member \(id) is not erased on this node")
            }
            let peers = try store.peerStatuses()
            let rows: [(String, String)] = peers.map { p in
                guard p.lastSuccess != nil else { return (p.chapter, "unknown (no successful sync yet)") }
                let held = p.heads[erasure.version.origin.rawValue] ?? 0
                return (
                    p.chapter,
                    held >= erasure.version.seq
                        ? "confirmed (holds \(erasure.version))" : "not yet (holds \(erasure.version.origin):\(held))"
                )
            }
            if output.json {
                return Out.json([
                    "id": .string(id), "entry": .string(erasure.version.description), "reason": erasure.reason.map { .string($0) } ?? .null,
                    "peers": .object(Dictionary(uniqueKeysWithValues: rows.map { ($0.0, .bool($0.1.hasPrefix("confirmed"))) })),
                ])
            }
            Out.line("member \(id) erased by entry \(erasure.version)\(erasure.reason.map { " (\($0))" } ?? "")")
            Out.line("  \(dir.chapter)  confirmed (this node)")
            for (c, text) in rows { Out.line("  \(c)  \(text)") }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one member.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try FieldInput.recordID(.member, id) }

        func run() throws {
            let id = try FieldInput.recordID(.member, id)
            let store = try node.node().openStore()
            guard let r = try store.record(.member, id: id) else { throw StoreError.notFound(.member, id) }
            let ownership = try OwnershipCLI.lines(store, .member, id: id)
            guard output.json else { return RecordText.show(r, extra: ownership) }
            guard case .object(var o) = r.json else { return Out.json(r.json) }
            let owned = try store.ownership(of: .member, id: id)
            o["owner"] = owned.owner.map { .string($0.rawValue) } ?? .null
            o["grants"] = .array(owned.grants.map { .string($0.rawValue) })
            Out.json(.object(o))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List members, filtered by chapter and text.")
        @OptionGroup var node: NodeOptions
        @Option(help: "Only members of this chapter.") var chapter: String?
        @Option(name: [.customLong("query"), .customShort("q")], help: "Words to look for in name, organisation, role, city and bio.")
        var query: String?
        @Flag(help: "Include removed members.") var all = false
        @Option(help: "At most this many.") var limit = 1000
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let chapter, ChapterID(chapter) == nil { throw ValidationError("--chapter: \(ChapterID.rule)") }
            guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000") }
        }

        func run() throws {
            let records = try node.node().openStore().records(
                .member, filter: RecordFilter(chapter: chapter.flatMap(ChapterID.init), text: query, includeRemoved: all, limit: limit))
            if output.json { return Out.json(.array(records.map(\.json))) }
            Out.table(
                ["ID", "NAME", "ORGANISATION", "CITY", "CHAPTER"],
                records.map { r in
                    [
                        r.id, r.values["name"]?.display ?? "", r.values["organisation"]?.display ?? "", r.values["city"]?.display ?? "",
                        (r.values["chapter"]?.display ?? "") + (r.removed ? " (removed)" : ""),
                    ]
                })
        }
    }
}
