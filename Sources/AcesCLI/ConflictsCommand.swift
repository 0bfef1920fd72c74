import AcesCore
import AcesStore
import AcesWorkflows
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
        static let configuration = CommandConfiguration(
            abstract: "List open conflicts (or settled ones) with the member or event, each side's value, origin and time.")
        @OptionGroup var node: NodeOptions
        @Option(help: "Only this kind: field, delete or duplicate.") var kind: String?
        @Option(help: "Only conflicts about records of this chapter.") var chapter: String?
        @Flag(help: "List settled conflicts instead, newest first, with how each was settled.") var settled = false
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let kind, Conflict.Kind(rawValue: kind) == nil { throw ValidationError("--kind must be field, delete or duplicate") }
            if let chapter, ChapterID(chapter) == nil { throw ValidationError("--chapter: \(ChapterID.rule)") }
        }

        func run() throws {
            let store = try node.node().openStore()
            let (kind, chapter) = (kind.flatMap(Conflict.Kind.init), chapter.flatMap(ChapterID.init))
            let list = try settled ? store.settledConflicts(kind: kind, chapter: chapter) : store.conflicts(kind: kind, chapter: chapter)
            let mine = try list.map { try settled ? true : store.maySettle($0) }
            if output.json {
                return Out.json(.array(zip(list, mine).map { c, may in settled ? c.json : c.json(maySettle: may) }))
            }
            if list.isEmpty { return Out.line(settled ? "No settled conflicts." : "No open conflicts.") }
            Out.table(
                ["ID", "KIND", "CHAPTER", "RECORD", "FIELD", settled ? "SETTLED BY" : "SIDES (* automatic winner)"]
                    + (settled ? [] : ["HERE"]),
                zip(list, mine).map { c, may in
                    [
                        c.id, c.kind.rawValue, c.chapter ?? "", ConflictText.record(c), c.field ?? "",
                        c.settledBy.map { ConflictText.side(c, $0) }
                            ?? c.candidates.map { ConflictText.side(c, $0) }.joined(separator: " | "),
                    ] + (settled ? [] : [may ? "may settle" : "owner settles"])
                })
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show each side of a conflict, open or settled: its value, who wrote it, when, with which key, what it replaced.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The conflict's id (from 'aces conflicts list').") var id: String
        @OptionGroup var output: OutputOptions

        func run() throws {
            let store = try node.node().openStore()
            guard let c = try store.conflict(id: id) ?? store.settledConflicts().first(where: { $0.id == id }) else {
                throw ConflictText.gone(id)
            }
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

                --all settles every field and delete conflict in one call. A duplicate identity needs a \
                chosen survivor, so it is left and counted. Writing the value shown as the automatic \
                winner with 'aces member update' or 'aces event update' also settles a field conflict.
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
            let editor = Editor(directory: dir, store: try dir.openStore())
            if all {
                let done = try editor.settleAllWithAutomaticWinners()
                Out.line(
                    "Settled \(done.settled) conflict(s) with their automatic winners in \(done.entries) signed entr\(done.entries == 1 ? "y" : "ies")."
                )
                if done.duplicates > 0 {
                    Out.line(
                        "\(done.duplicates) duplicate identit\(done.duplicates == 1 ? "y is" : "ies are") left: each needs a survivor chosen with 'aces conflicts resolve ID --merge-into MEMBER' (see 'aces conflicts list --kind duplicate')."
                    )
                }
                if done.forOwner > 0 {
                    Out.line(
                        "\(done.forOwner) conflict(s) are left to their records' owners: this chapter may not settle them (see 'aces conflicts list', column HERE)."
                    )
                }
                if done.unsettled > 0 {
                    Out.line("\(done.unsettled) field or delete conflict(s) are still open (new edits arrived): see 'aces conflicts list'.")
                }
                return
            }
            let id = self.id!
            let choice: SettlementChoice =
                if let take { .take(ChapterID(take)!) } else if let mergeInto { .mergeInto(mergeInto) } else { .value(value!) }
            do { try editor.settle(conflict: id, choice) } catch let error as SettlementError {
                switch error {
                case .gone(let id): throw ConflictText.gone(id)
                case .requiredValue(let field):
                    throw CLIError("--value: \(field) is required and cannot be empty; give a value or use --take ORIGIN")
                case .invalidValue(let e): throw CLIError("--value: \(e)")
                case .noSide(let origin, let sides):
                    throw CLIError("no side of conflict \(id) was written by '\(origin)' (sides: \(sides.joined(separator: ", ")))")
                case .notADuplicate(let survivor, let records):
                    throw CLIError("\(survivor.prefix(40)) is not one of the duplicates (\(records.joined(separator: ", ")))")
                case .doesNotFit(.duplicate, let records):
                    throw CLIError(
                        "a duplicate identity is settled with --merge-into MEMBER_ID (one of \(records.joined(separator: ", ")))")
                case .doesNotFit(_, _) where mergeInto != nil: throw CLIError("--merge-into settles duplicate identities only")
                case .doesNotFit(_, _):
                    throw CLIError("a delete conflict is settled with --take ORIGIN (the deleting or the editing chapter)")
                }
            }
            Out.line("Settled conflict \(id). The resolution is a signed entry; it closes the conflict on every node it reaches.")
        }
    }
}

enum ConflictText {
    static func gone(_ id: String) -> CLIError {
        CLIError(
            "no open conflict \(id.prefix(40)) (it may have been settled: see 'aces conflicts list --settled'; or changed by a newer edit: see 'aces conflicts list')"
        )
    }

    static func time(_ h: HLC) -> String { Conflict.time(h) }

    /// The record(s) as the operator knows them: the member's name or the event's title, and the id.
    static func record(_ c: Conflict) -> String {
        let name = c.label.map { "\"\($0)\" " } ?? ""
        return c.kind == .duplicate ? "\(name)(\(c.records.count) members)" : "\(c.recordKind.rawValue) \(name)\(c.records[0])"
    }

    /// What one side wrote, beside its origin and time: `fr "Lyon" 2031-03-14T17:30:00.000Z`.
    static func side(_ c: Conflict, _ s: Conflict.Candidate) -> String {
        "\(s.version.origin.rawValue) \(what(c, s)) \(time(s.hlc))\(s.isWinner && c.settledBy == nil ? " *" : "")"
    }

    static func what(_ c: Conflict, _ s: Conflict.Candidate) -> String {
        switch (c.kind, s.action) {
        case (.field, _): return s.value.map { $0 == .null ? "(cleared)" : "\"\($0.display)\"" } ?? "(erased)"
        case (.delete, .set): return s.fields.isEmpty ? "kept the record" : "edited " + s.fields.keys.sorted().joined(separator: ", ")
        case (.delete, _): return s.action == .erase ? "erased the record" : "deleted the record"
        case (.duplicate, _): return "\(s.fields["email"]?.display ?? "")"
        }
    }

    /// Fields whose values differ between the duplicates, with each record's value.
    static func differences(_ c: Conflict) -> [(field: String, values: [String])] {
        RecordKind.member.fields.map(\.name).filter { $0 != "merged_into" }.compactMap { name in
            let values = c.candidates.map { $0.fields[name] ?? .null }
            guard Set(values.map(\.display)).count > 1 else { return nil }
            return (name, values.map { $0 == .null ? "(empty)" : "\"\($0.display)\"" })
        }
    }

    static func json(_ c: Conflict) -> JSONValue { c.json }

    static func show(_ c: Conflict) {
        let state = c.settledBy == nil ? "" : " (settled)"
        let chapter = c.chapter.map { ", chapter \($0)" } ?? ""
        switch c.kind {
        case .field:
            Out.line(
                "conflict \(c.id)\(state): \(record(c))\(chapter), field '\(c.field!)', \(c.candidates.count) concurrent values")
        case .delete: Out.line("conflict \(c.id)\(state): \(record(c))\(chapter) was deleted while another chapter edited it")
        case .duplicate: Out.line("conflict \(c.id): \(c.records.count) members share one email address\(chapter)")
        }
        for s in c.candidates {
            let who = s.version.origin.rawValue.padding(toLength: 4, withPad: " ", startingAt: 0)
            if c.kind == .duplicate {
                let home = s.fields["chapter"]?.display ?? ""
                Out.line("  \(who) member \(s.record) (\(home)): \(s.fields["email"]?.display ?? ""), \(s.fields["name"]?.display ?? "")")
            } else {
                Out.line("  \(who) \(what(c, s))\(s.isWinner && c.settledBy == nil ? "   <- automatic winner" : "")")
            }
            Out.line("       entry \(s.version) at \(time(s.hlc)), key \(s.keyID)")
            for r in s.replaced { Out.line("       replaced \(r.version): \(r.value.map { "\"\($0.display)\"" } ?? "(no value)")") }
        }
        if c.kind == .duplicate {
            let diffs = differences(c)
            Out.line(diffs.isEmpty ? "  No other field differs." : "  Fields that differ (in the order above):")
            for d in diffs { Out.line("    \(d.field): \(d.values.joined(separator: " | "))") }
        }
        if let settled = c.settledBy {
            let how = c.kind == .field ? what(c, settled) : settled.action == .set ? "kept the record" : "kept it removed"
            Out.line("Settled by \(settled.version.origin.rawValue) in entry \(settled.version) at \(time(settled.hlc)): \(how).")
            return
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
