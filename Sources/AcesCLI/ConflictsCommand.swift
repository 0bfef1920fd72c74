import AcesCore
import AcesNode
import AcesStore
import ArgumentParser
import Foundation

struct ConflictsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "See and settle conflicts: concurrent edits, deletes beside edits, duplicate identities.",
        discussion: "Every node lists the same conflicts with the same ids. See docs/CONFLICTS.md.",
        subcommands: [List.self, Show.self, Resolve.self])
}

extension ConflictsCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List open conflicts.")
        @OptionGroup var node: NodeOptions
        @Option(help: "Only this kind: field, delete or duplicate.") var kind: String?
        @Option(help: "Only conflicts about records of this chapter.") var chapter: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let kind, Conflict.Kind(rawValue: kind) == nil { throw ValidationError("--kind must be field, delete or duplicate") }
            if let chapter, ChapterID(chapter) == nil { throw ValidationError("--chapter: \(ChapterID.rule)") }
        }

        func run() throws {
            let list = try node.node().openStore().conflicts(
                kind: kind.flatMap(Conflict.Kind.init), chapter: chapter.flatMap(ChapterID.init))
            if output.json { return Out.json(.array(list.map(ConflictText.json))) }
            if list.isEmpty { return Out.line("No open conflicts.") }
            Out.table(
                ["ID", "KIND", "RECORD", "FIELD", "SIDES", "CHAPTER"],
                list.map { c in
                    [
                        c.id, c.kind.rawValue, "\(c.recordKind.rawValue) \(c.records.joined(separator: " "))", c.field ?? "",
                        c.candidates.map(\.version.origin.rawValue).joined(separator: ", "), c.chapter ?? "",
                    ]
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each side of a conflict: who, when, with which key, what it replaced.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The conflict's id (from 'aces conflicts list').") var id: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard let c = try node.node().openStore().conflict(id: id) else { throw ConflictText.gone(id) }
            if output.json { return Out.json(ConflictText.json(c)) }
            ConflictText.show(c)
        }
    }

    struct Resolve: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Settle a conflict with a signed entry whose base is every current head.",
            discussion: """
                aces conflicts resolve ID --take fr             keep the side written by chapter fr
                aces conflicts resolve ID --value "Lyon"        write another value (field conflicts)
                aces conflicts resolve ID --merge-into MEMBER   fold a duplicate into MEMBER and retire the other
                aces conflicts resolve --all --strategy latest  accept every automatic winner (duplicates are left)
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The conflict's id.") var id: String?
        @Option(help: "Keep the side written by this chapter.") var take: String?
        @Option(help: "Write this value instead (field conflicts).") var value: String?
        @Option(help: "Keep this member and retire the other duplicate(s).") var mergeInto: String?
        @Flag(help: "Settle every open field and delete conflict.") var all = false
        @Option(help: "With --all: latest (accept the automatic winners).") var strategy: String?

        func validate() throws {
            let chosen = [take != nil, value != nil, mergeInto != nil].filter { $0 }.count
            if all {
                guard id == nil, chosen == 0, strategy == "latest" else {
                    throw ValidationError("use --all with --strategy latest and no id, --take, --value or --merge-into")
                }
                return
            }
            guard id != nil else {
                throw ValidationError("name the conflict's id (see 'aces conflicts list'), or use --all --strategy latest")
            }
            guard strategy == nil else { throw ValidationError("--strategy goes with --all") }
            guard chosen == 1 else {
                throw ValidationError("say how to settle it: exactly one of --take ORIGIN, --value VALUE or --merge-into MEMBER_ID")
            }
            if let take, ChapterID(take) == nil { throw ValidationError("--take: \(ChapterID.rule)") }
            if let mergeInto { _ = try FieldInput.recordID(.member, mergeInto) }
        }

        func run() throws {
            let dir = try node.node()
            let store = try dir.openStore()
            let author = try dir.author()
            if all {
                var settled = 0, skipped = 0
                try store.author(as: author) { draft in
                    var mutations = [Mutation]()
                    var touched = Set<String>()
                    for c in try draft.openConflicts() {
                        guard c.kind != .duplicate, !touched.contains(c.records[0]) else { skipped += 1; continue }
                        touched.insert(c.records[0])
                        mutations += try draft.mutations(resolving: c, with: .latest)
                        settled += 1
                    }
                    return Self.merged(mutations)
                }
                Out.line("Settled \(settled) conflict(s) with their automatic winners; \(skipped) left (duplicates need --merge-into).")
                return
            }
            let id = self.id!
            try store.author(as: author) { draft in
                guard let c = try draft.conflict(id: id) else { throw ConflictText.gone(id) }
                let resolution: Resolution
                if let take {
                    resolution = .take(ChapterID(take)!)
                } else if let mergeInto {
                    resolution = .mergeInto(mergeInto.lowercased())
                } else {
                    resolution = .value(ConflictText.parse(value!, field: c.field.flatMap { c.recordKind.field($0) }))
                }
                return try draft.mutations(resolving: c, with: resolution)
            }
            Out.line("Settled conflict \(id). The resolution is a signed entry; it closes the conflict on every node it reaches.")
        }

        /// One operation per record: several settlements of one record's fields are merged.
        static func merged(_ ms: [Mutation]) -> [Mutation] {
            var sets = [String: (RecordKind, [String: JSONValue])]()
            var order = [String]()
            var others = [Mutation]()
            for m in ms {
                if case .set(let k, let id, let v) = m {
                    if sets[id] == nil { order.append(id) }
                    sets[id, default: (k, [:])].1.merge(v) { $1 }
                } else {
                    others.append(m)
                }
            }
            return order.map { .set(sets[$0]!.0, id: $0, values: sets[$0]!.1) } + others
        }
    }
}

enum ConflictText {
    static func gone(_ id: String) -> StoreError {
        .invalid("no open conflict \(id.prefix(40)) (it may have been settled, or changed by a newer edit: see 'aces conflicts list')")
    }

    static func parse(_ text: String, field: FieldSpec?) -> JSONValue {
        switch field?.type {
        case .count?: Int(text).map { .number(Double($0)) } ?? .string(text)
        case .urlList?: .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
        default: .string(text)
        }
    }

    static func time(_ h: HLC) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: Double(h.millis) / 1000))
    }

    static func json(_ c: Conflict) -> JSONValue {
        [
            "id": .string(c.id), "kind": .string(c.kind.rawValue), "record_kind": .string(c.recordKind.rawValue),
            "records": .array(c.records.map { .string($0) }), "field": c.field.map { .string($0) } ?? .null,
            "chapter": c.chapter.map { .string($0) } ?? .null,
            "sides": .array(
                c.candidates.map { s in
                    [
                        "version": .string(s.version.description), "origin": .string(s.version.origin.rawValue),
                        "time": .string(time(s.hlc)),
                        "key": .string(s.keyID), "action": .string(s.action.rawValue), "record": .string(s.record),
                        "value": s.value ?? .null, "winner": .bool(s.isWinner),
                        "replaced": .array(s.replaced.map { ["version": .string($0.version.description), "value": $0.value ?? .null] }),
                    ]
                }),
        ]
    }

    static func show(_ c: Conflict) {
        switch c.kind {
        case .field:
            Out.line(
                "conflict \(c.id): \(c.recordKind.rawValue) \(c.records[0]), field '\(c.field!)', \(c.candidates.count) concurrent values")
        case .delete: Out.line("conflict \(c.id): \(c.recordKind.rawValue) \(c.records[0]) was deleted while another chapter edited it")
        case .duplicate: Out.line("conflict \(c.id): \(c.records.count) members share one email address")
        }
        for s in c.candidates {
            let what: String
            switch (c.kind, s.action) {
            case (.field, _): what = s.value.map { "\"\($0.display)\"" } ?? "(erased)"
            case (.delete, .set): what = "edited " + s.fields.keys.sorted().joined(separator: ", ")
            case (.delete, _): what = s.action == .erase ? "erased the record" : "deleted the record"
            case (.duplicate, _): what = "member \(s.record): \(s.fields["name"]?.display ?? "") (\(s.fields["chapter"]?.display ?? ""))"
            }
            Out.line(
                "  \(s.version.origin.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)) \(what)\(s.isWinner ? "   <- automatic winner" : "")"
            )
            Out.line("       entry \(s.version) at \(time(s.hlc)), key \(s.keyID)")
            for r in s.replaced { Out.line("       replaced \(r.version): \(r.value.map { "\"\($0.display)\"" } ?? "(no value)")") }
        }
        let origins = Array(Set(c.candidates.map(\.version.origin.rawValue))).sorted()
        switch c.kind {
        case .field:
            Out.line(
                "Settle it: aces conflicts resolve \(c.id) " + origins.map { "--take \($0)" }.joined(separator: " | ") + " | --value VALUE")
        case .delete:
            Out.line("Settle it: aces conflicts resolve \(c.id) " + origins.map { "--take \($0)" }.joined(separator: " | "))
        case .duplicate:
            Out.line("Settle it: aces conflicts resolve \(c.id) --merge-into " + c.records.joined(separator: " | --merge-into "))
        }
    }
}
