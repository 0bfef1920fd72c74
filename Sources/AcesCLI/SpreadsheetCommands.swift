import AcesCore
import AcesFormats
import AcesStore
import AcesWorkflows
import ArgumentParser
import Foundation

/// What `import` reads and how it reports, shared by members and events.
struct ImportOptions: ParsableArguments {
    @Argument(
        help: "The CSV file: UTF-8 (with or without BOM), Windows-1252 or Latin-1; comma, semicolon or tab, detected.")
    var file: String
    @Flag(help: "Report what would change and write nothing; exits non-zero when the import would be refused.") var dryRun = false
    @Flag(help: "Import the valid rows even if some are invalid (they are listed).") var skipInvalid = false
    @Flag(help: "Show every update as field: old → new (by default the first 10 and a count per field).") var verbose = false
    @Option(help: "The separator, if detection guesses wrong: comma, semicolon or tab.") var separator: String?

    func validate() throws {
        if let separator, Separator(separator) == nil { throw ValidationError("--separator must be comma, semicolon or tab") }
    }

    func table() throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw CLIError("cannot read \(file): no such file, or not readable")
        }
        let bytes = [UInt8](data)
        let first = bytes.drop(while: { $0 == 0xEF || $0 == 0xBB || $0 == 0xBF || $0 == 0x20 || $0 == 0x0A || $0 == 0x0D }).first
        if file.lowercased().hasSuffix(".json") || first == UInt8(ascii: "[") || first == UInt8(ascii: "{") {
            throw CLIError(
                "\(file) is a JSON file; import reads spreadsheets (CSV): export with --format csv, or save the sheet as CSV")
        }
        do { return try CSVReader.readDetectingEncoding(bytes, separator: separator.flatMap(Separator.init)?.byte) } catch {
            throw CLIError("\(file), \(error)")
        }
    }

    /// Prints the plan; unless it is a dry run, writes it. Throws (exit 1, no usage) when rows are
    /// invalid and --skip-invalid is not given, dry run or not: nothing is written then.
    func run(_ plan: some SpreadsheetImport, table: CSVTable, kind: String, editor: Editor) throws {
        if !plan.ignoredColumns.isEmpty {
            Out.error("ignored columns (not \(kind) fields): \(plan.ignoredColumns.joined(separator: ", "))")
        }
        let problems = plan.problems
        for p in problems.prefix(200) { Out.error("line \(p.line): \(p.reason)") }
        if problems.count > 200 { Out.error("… and \(problems.count - 200) more invalid rows") }
        let (added, updated) = (plan.added.count, plan.updated.count)
        let refused = !problems.isEmpty && !skipInvalid
        let blank = plan.blankRows > 0 ? ", empty rows skipped \(plan.blankRows)" : ""
        let counts = "add \(added), update \(updated), unchanged \(plan.unchanged), invalid \(problems.count)\(blank)"
        // A sheet saved in another encoding than UTF-8 was converted: the summary says so.
        let name = table.encoding == .utf8 ? file : "\(file) (\(table.encoding.rawValue), converted to UTF-8)"
        if dryRun {
            Out.line("\(name): would \(counts) (nothing written)")
            showUpdates(plan.updated)
        } else if !refused {
            Out.line(
                "\(name): "
                    + counts.replacingOccurrences(of: "add ", with: "adding ").replacingOccurrences(of: "update ", with: "updating "))
            if verbose { showUpdates(plan.updated) }
        }
        if refused {
            throw CLIError(
                "\(problems.count) invalid row(s): \(dryRun ? "the import would write nothing" : "nothing was written"); fix them or use --skip-invalid"
            )
        }
        guard !dryRun && added + updated > 0 else { return }
        let n = try plan.apply(editor, progress: Progress(label: "Importing").update)
        Out.line("Wrote \(added + updated) changes in \(n) signed entries.")
    }

    /// Each update as `line N: field: old → new`, all of them with --verbose, else the first 10
    /// and how many rows change each field.
    func showUpdates(_ updates: [ImportChange]) {
        guard !updates.isEmpty else { return }
        func shown(_ v: JSONValue?) -> String { v.map { $0 == .null ? "(empty)" : "\"\($0.display)\"" } ?? "(empty)" }
        let limit = verbose ? updates.count : 10
        for u in updates.prefix(limit) {
            let changes = u.values.keys.sorted().map { "\($0): \(shown(u.before[$0])) → \(shown(u.values[$0]))" }
            Out.line("  line \(u.line): " + changes.joined(separator: "; "))
        }
        guard updates.count > limit else { return }
        var perField = [String: Int]()
        for u in updates { for f in u.values.keys { perField[f, default: 0] += 1 } }
        let summary = perField.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }
        Out.line(
            "  … and \(updates.count - limit) more updates (--verbose shows them all); rows changing each field: \(summary.joined(separator: ", "))"
        )
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

                The header names the columns, in English, French or German (in any case; \
                other columns are ignored and listed):
                - email (required: rows are matched to members by it): email, e-mail, mail, email address, courriel, adresse e-mail, E-Mail-Adresse
                - name (required for new members): name, full name, nom, nom complet
                - first and last name, joined as "first last": Prénom + Nom, First name + Last name (or Surname), Vorname + Nachname (or Name)
                - organisation: organisation, organization, company, employer, société, entreprise, employeur, Firma, Unternehmen, Arbeitgeber
                - role: role, job title, title, position, fonction, poste, Funktion, Rolle
                - city: city, town, ville, Stadt, Ort
                - country (two letters: FR): country, pays, Land
                - bio: bio, biography, biographie, présentation, Biografie
                - links (separated by spaces): links, website, site, liens, site web, Webseite
                - visibility: visibility, visibilité, Sichtbarkeit; public, members or chapter (also publique, membres, chapitre, öffentlich, Mitglieder)
                - email_visibility: email_visibility, email visibility; members or hidden (whether signed-in members see the email)
                - status: status, statut; active or inactive (also actif, inactif, aktiv, inaktiv)

                The file is the truth for its columns: an empty cell clears that field. Rows made only of \
                separators (how Excel writes an empty row) are skipped and counted; a row missing its last \
                cells has them empty. Every row is checked first; if one is invalid nothing is written \
                (unless --skip-invalid), each problem is listed with its line number, and the exit status is \
                1, --dry-run included. --dry-run shows each update as field: old → new.
                """)
        @OptionGroup var node: NodeOptions
        @OptionGroup var options: ImportOptions

        func run() throws {
            let dir = try node.node()
            let store = try dir.openStore()
            let table = try options.table()
            let plan = try MemberImport.plan(table, chapter: dir.chapter, store: store)
            try options.run(plan, table: table, kind: "member", editor: Editor(directory: dir, store: store))
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
            let fields = [
                "email", "name", "organisation", "role", "city", "country", "bio", "links", "visibility", "email_visibility", "status",
                "chapter",
            ]
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
                The header names the columns, in English, French or German:
                - title (required, not empty): title, event, titre, intitulé, Titel, Veranstaltung
                - start and end (required): start, begins, début, date de début, Beginn; end, ends, fin, date de fin, Ende
                - timezone (required, such as Europe/Paris): timezone, time zone, tz, fuseau horaire, Zeitzone
                - venue: venue, location, place, lieu, adresse, Ort, Veranstaltungsort
                - capacity: capacity, places, capacité, nombre de places, Kapazität, Plätze, Teilnehmerzahl
                - status: status, statut; scheduled or cancelled (also prévu, annulé, geplant, abgesagt)
                - also: description (Beschreibung), url (link, lien), id

                Times are local to the event's zone, as spreadsheets write them: 2031-03-14 18:30, \
                14/03/2031 18:30, 14.03.2031 18:30, 18h30. Rows are matched by id when it names an event of \
                this chapter, else by title and start.
                """)
        @OptionGroup var node: NodeOptions
        @OptionGroup var options: ImportOptions

        func run() throws {
            let dir = try node.node()
            let store = try dir.openStore()
            let table = try options.table()
            let plan = try EventImport.plan(table, chapter: dir.chapter, store: store)
            try options.run(plan, table: table, kind: "event", editor: Editor(directory: dir, store: store))
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

    /// A new file (mode 0600, refusing to overwrite), open for writing.
    static func create(_ path: String) throws -> FileHandle {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw CLIError("cannot create \(path): it exists already or the folder is not writable") }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    /// Bytes to a new file (mode 0600, refusing to overwrite) or to standard output.
    static func write(_ bytes: [UInt8], to path: String?) throws {
        guard let path else { return FileHandle.standardOutput.write(Data(bytes)) }
        let handle = try create(path)
        do {
            try handle.write(contentsOf: Data(bytes))
            try handle.close()
        } catch {
            unlink(path)  // a partial export would block the retry, and holds personal data
            throw CLIError("cannot write \(path): the disk is full or the file too large; nothing was kept, free some space and try again")
        }
    }
}
