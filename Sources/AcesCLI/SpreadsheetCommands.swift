import AcesCore
import AcesNode
import AcesStore
import ArgumentParser
import Foundation

/// What `import` reads and how it reports, shared by members and events.
struct ImportOptions: ParsableArguments {
    @Argument(help: "The CSV file (UTF-8, with or without BOM; comma or semicolon detected).") var file: String
    @Flag(help: "Report what would change and write nothing.") var dryRun = false
    @Flag(help: "Import the valid rows even if some are invalid (they are listed).") var skipInvalid = false
    @Option(help: "The separator, if detection guesses wrong: comma, semicolon or tab.") var separator: String?

    func validate() throws {
        if let separator, Separator(separator) == nil { throw ValidationError("--separator must be comma, semicolon or tab") }
    }

    func table() throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file): no such file, or not readable")
        }
        do { return try CSVReader.read([UInt8](data), separator: separator.flatMap(Separator.init)?.byte) } catch {
            throw ValidationError("\(file), \(error)")
        }
    }

    /// Prints the plan; unless it is a dry run, writes it. Throws (non-zero exit) when rows are
    /// invalid and --skip-invalid is not given: nothing is written then.
    func run(_ plan: some SpreadsheetImport, kind: String, editor: Editor) throws {
        if !plan.ignoredColumns.isEmpty {
            Out.error("ignored columns (not \(kind) fields): \(plan.ignoredColumns.joined(separator: ", "))")
        }
        let problems = plan.problems
        for p in problems.prefix(200) { Out.error("line \(p.line): \(p.reason)") }
        if problems.count > 200 { Out.error("… and \(problems.count - 200) more invalid rows") }
        let (added, updated) = (plan.added.count, plan.updated.count)
        Out.line(
            dryRun
                ? "\(file): would add \(added), would update \(updated), unchanged \(plan.unchanged), invalid \(problems.count) (nothing written)"
                : "\(file): adding \(added), updating \(updated), unchanged \(plan.unchanged), invalid \(problems.count)")
        if !problems.isEmpty && !skipInvalid && !dryRun {
            throw ValidationError("\(problems.count) invalid row(s): nothing was written; fix them or use --skip-invalid")
        }
        guard !dryRun && added + updated > 0 else { return }
        let n = try plan.apply(editor, progress: Progress(label: "Importing").update)
        Out.line("Wrote \(n) signed entries.")
    }
}

enum Separator {
    case comma, semicolon, tab
    init?(_ s: String) {
        switch s.lowercased() {
        case "comma", ",": self = .comma
        case "semicolon", ";": self = .semicolon
        case "tab", "\\t": self = .tab
        default: return nil
        }
    }
    var byte: UInt8 { self == .comma ? 44 : self == .semicolon ? 59 : 9 }
}

/// A progress bar on a terminal; nothing when standard error is piped.
struct Progress {
    let label: String
    let enabled = isatty(2) == 1

    func update(_ done: Int, _ total: Int) {
        guard enabled, total > 0 else { return }
        let width = 30
        let filled = width * done / total
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total)".utf8))
        if done >= total { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}

extension MemberCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import members of this chapter from a spreadsheet (CSV); a second import of the same file changes nothing.",
            discussion: """
                aces member import members.csv --dry-run
                aces member import members.csv
                The header names the columns: email (required; matches existing members), name (required for new
                members), organisation, role, city, country (two letters), bio, links (separated by spaces), visibility
                (public, members, chapter), status (active, inactive); French names work too (courriel, nom, fonction,
                ville, pays…). Other columns are ignored. The file is the truth for its columns: an empty cell clears
                that field. Every row is checked first; if one is invalid nothing is written (unless --skip-invalid),
                and each problem is listed with its line number.
                """)
        @OptionGroup var node: NodeOptions
        @OptionGroup var options: ImportOptions

        func run() throws {
            let dir = try node.node()
            let store = try dir.openStore()
            let plan = try MemberImport.plan(try options.table(), chapter: dir.chapter, store: store)
            try options.run(plan, kind: "member", editor: Editor(directory: dir, store: store))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export members (this chapter's by default) as CSV, JSON or vCards.",
            discussion: """
                aces member export --format csv --output members.csv
                aces member export --format csv --separator semicolon --bom > membres.csv   (French Excel)
                aces member export --format vcf --all > europe.vcf
                The file holds personal data (emails): it is created readable by you only.
                """)
        @OptionGroup var node: NodeOptions
        @Option(help: "csv, json or vcf.") var format = "csv"
        @Option(help: "Write here instead of standard output (created with mode 0600).") var output: String?
        @Option(help: "CSV separator: comma or semicolon.") var separator = "comma"
        @Flag(help: "Start the CSV with a UTF-8 BOM (what Excel needs).") var bom = false
        @Option(help: "Only this chapter's members (default: this node's chapter).") var chapter: String?
        @Flag(help: "Every chapter's members this node holds.") var all = false

        func validate() throws {
            guard ["csv", "json", "vcf"].contains(format) else { throw ValidationError("--format must be csv, json or vcf") }
            guard Separator(separator).map({ $0 != .tab }) == true else { throw ValidationError("--separator must be comma or semicolon") }
            if let chapter, ChapterID(chapter) == nil { throw ValidationError("--chapter: \(ChapterID.rule)") }
            if all && chapter != nil { throw ValidationError("give --chapter or --all, not both") }
        }

        func run() throws {
            let dir = try node.node()
            let filter = RecordFilter(chapter: all ? nil : ChapterID(chapter ?? dir.chapter.rawValue), limit: 10_000_000)
            let members = try dir.openStore().records(.member, filter: filter)
            let fields = ["email", "name", "organisation", "role", "city", "country", "bio", "links", "visibility", "status", "chapter"]
            let bytes: [UInt8]
            switch format {
            case "json": bytes = CanonicalJSON.encode(.array(members.map(\.json)))
            case "vcf":
                let base = dir.config.web?.url ?? ""
                bytes = Array(
                    VCard.render(
                        members.map { r in
                            let v = r.values
                            return ContactCard(
                                uid: "urn:aces:member:\(r.id)", fullName: v["name"]?.stringValue ?? r.id,
                                organisation: v["organisation"]?.stringValue,
                                role: v["role"]?.stringValue, city: v["city"]?.stringValue, country: v["country"]?.stringValue,
                                note: v["bio"]?.stringValue, email: v["email"]?.stringValue,
                                urls: (v["links"]?.arrayValue ?? []).compactMap(\.stringValue),
                                revision: Date(timeIntervalSince1970: Double(r.state.lastChanged?.millis ?? 0) / 1000),
                                source: base.isEmpty ? nil : "\(base)/members/\(r.id).vcf")
                        }
                    ).utf8)
            default:
                let rows = members.map { r in
                    [r.id]
                        + fields.map { f in
                            f == "links"
                                ? (r.values[f]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ")
                                : (r.values[f].map { $0.stringValue ?? $0.display } ?? "")
                        }
                }
                bytes = CSVWriter.write(header: ["id"] + fields, rows: rows, separator: Separator(separator)!.byte, bom: bom)
            }
            try Out.write(bytes, to: output)
            if let output { Out.error("Wrote \(members.count) members to \(output).") }
        }
    }
}

extension EventCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import events of this chapter from a spreadsheet (CSV); a second import of the same file changes nothing.",
            discussion: """
                Columns: title, start, end, timezone (required), description, venue, url, capacity, status, id. Times are
                local to the event's zone: 2027-03-14 18:30. Rows are matched by id when it names an event of this
                chapter, else by title and start.
                """)
        @OptionGroup var node: NodeOptions
        @OptionGroup var options: ImportOptions

        func run() throws {
            let dir = try node.node()
            let store = try dir.openStore()
            let plan = try EventImport.plan(try options.table(), chapter: dir.chapter, store: store)
            try options.run(plan, kind: "event", editor: Editor(directory: dir, store: store))
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Export events (this chapter's by default) as CSV or an iCalendar file.",
            discussion: "aces event export --format ics --all > europe.ics")
        @OptionGroup var node: NodeOptions
        @Option(help: "csv or ics.") var format = "csv"
        @Option(help: "Write here instead of standard output.") var output: String?
        @Option(help: "CSV separator: comma or semicolon.") var separator = "comma"
        @Flag(help: "Start the CSV with a UTF-8 BOM (what Excel needs).") var bom = false
        @Flag(help: "Every chapter's events this node holds.") var all = false

        func validate() throws {
            guard ["csv", "ics"].contains(format) else { throw ValidationError("--format must be csv or ics") }
            guard Separator(separator).map({ $0 != .tab }) == true else { throw ValidationError("--separator must be comma or semicolon") }
        }

        func run() throws {
            let dir = try node.node()
            let events = try dir.openStore().records(.event, filter: RecordFilter(chapter: all ? nil : dir.chapter, limit: 10_000_000))
            let bytes: [UInt8]
            if format == "ics" {
                bytes = Array(
                    ICalendar.render(
                        events.compactMap { r in
                            guard let s = r.values["start"]?.stringValue.flatMap(Instant.parse),
                                let e = r.values["end"]?.stringValue.flatMap(Instant.parse)
                            else { return nil }
                            return CalendarEvent(
                                uid: "\(r.id)@aces", title: r.values["title"]?.stringValue ?? "",
                                description: r.values["description"]?.stringValue,
                                start: s, end: e, timeZone: r.values["timezone"]?.stringValue ?? "UTC",
                                location: r.values["venue"]?.stringValue,
                                url: r.values["url"]?.stringValue, cancelled: r.values["status"] == "cancelled",
                                sequence: max(0, r.revision - 1),
                                lastModified: Date(timeIntervalSince1970: Double(r.state.lastChanged?.millis ?? 0) / 1000))
                        }, name: "Aces \(all ? "Europe" : dir.chapter.rawValue)"
                    ).utf8)
            } else {
                let header = ["id", "title", "start", "end", "timezone", "venue", "url", "capacity", "status", "description", "chapter"]
                let rows = events.map { r in
                    header.map { f -> String in
                        switch f {
                        case "id": return r.id
                        case "start", "end":
                            return EventTime.local(
                                r.values[f]?.stringValue, zone: r.values["timezone"]?.stringValue, format: "yyyy-MM-dd HH:mm")
                        default: return r.values[f].map { $0.stringValue ?? $0.display } ?? ""
                        }
                    }
                }
                bytes = CSVWriter.write(header: header, rows: rows, separator: Separator(separator)!.byte, bom: bom)
            }
            try Out.write(bytes, to: output)
        }
    }
}

extension Out {
    /// One line on standard error.
    static func error(_ s: String) { FileHandle.standardError.write(Data((s + "\n").utf8)) }

    /// Bytes to a new file (mode 0600, refusing to overwrite) or to standard output.
    static func write(_ bytes: [UInt8], to path: String?) throws {
        guard let path else { return FileHandle.standardOutput.write(Data(bytes)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot create \(path): it exists already or the folder is not writable") }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
    }
}
