import AcesCore
import AcesFormats
import AcesStore
import Foundation

/// A spreadsheet of members read and checked against the replica: what importing it would
/// add, change and refuse. Rows are matched to members by email (case-folded); the file is the
/// truth for the columns it has, so an empty cell clears an optional field.
///
/// ```swift
/// let plan = try MemberImport.plan(CSVReader.read(bytes), editor: editor)
/// if plan.problems.isEmpty { try plan.apply(editor) { done in print(done) } }
/// ```
public struct MemberImport: SpreadsheetImport {
    public private(set) var added: [ImportChange] = []
    public private(set) var updated: [ImportChange] = []
    public private(set) var unchanged = 0
    public private(set) var problems: [(line: Int, reason: String)] = []
    public private(set) var ignoredColumns: [String] = []
    public private(set) var blankRows = 0

    /// Column names as people write them, English, French and German, to field names (keys as
    /// `SpreadsheetCells.columnKey` makes them). `member import --help` and docs/DIRECTORY.md list them.
    static let aliases: [String: String] = [
        "email": "email", "e-mail": "email", "mail": "email", "courriel": "email", "adresse e-mail": "email",
        "adresse mail": "email", "adresse électronique": "email", "email address": "email", "e-mail address": "email",
        "e-mail-adresse": "email", "email-adresse": "email",
        "name": "name", "full name": "name", "nom": "name", "nom complet": "name", "vollständiger name": "name",
        "organisation": "organisation", "organization": "organisation", "company": "organisation", "employer": "organisation",
        "société": "organisation", "entreprise": "organisation", "employeur": "organisation", "organisme": "organisation",
        "firma": "organisation", "unternehmen": "organisation", "arbeitgeber": "organisation",
        "role": "role", "job title": "role", "title": "role", "position": "role", "fonction": "role", "poste": "role",
        "funktion": "role", "rolle": "role", "berufsbezeichnung": "role",
        "city": "city", "town": "city", "ville": "city", "stadt": "city", "ort": "city", "wohnort": "city",
        "country": "country", "pays": "country", "land": "country",
        "bio": "bio", "biography": "bio", "biographie": "bio", "biografie": "bio", "über mich": "bio", "présentation": "bio",
        "links": "links", "liens": "links", "website": "links", "site": "links", "site web": "links", "webseite": "links",
        "visibility": "visibility", "visibilité": "visibility", "sichtbarkeit": "visibility",
        "email_visibility": "email_visibility", "email visibility": "email_visibility", "visibilité de l'e-mail": "email_visibility",
        "status": "status", "statut": "status", "chapter": "chapter", "section": "chapter", "chapitre": "chapter",
        "sektion": "chapter", "id": "id",
    ]

    /// Columns holding a first name; beside one, a `nom`, `name`, `last name` or `Nachname` column
    /// holds the last name, and the member's name is "first last".
    static let firstNameColumns: Set<String> = [
        "first name", "firstname", "first-name", "given name", "forename", "prénom", "prenom", "vorname",
    ]
    /// Columns holding a last name (alone, without a first-name column, such a column is the full name).
    static let lastNameColumns: Set<String> = [
        "last name", "lastname", "last-name", "surname", "family name", "nom", "nom de famille", "name", "nachname",
        "familienname",
    ]

    /// A cell as the importer reads it: trimmed, and without the `'` our exports put before a
    /// leading `= + - @` so spreadsheets do not run it as a formula.
    static func cell(_ raw: String) -> String {
        let t = TextTrim.trimmed(raw)
        if t.hasPrefix("'"), let next = t.dropFirst().first, "=+-@".contains(next) { return String(t.dropFirst()) }
        return t
    }

    /// Reads a table and compares it with the replica. Throws only when the header cannot be used.
    public static func plan(_ table: CSVTable, chapter: ChapterID, store: Store) throws -> MemberImport {
        var plan = MemberImport()
        let keys = table.header.map(SpreadsheetCells.columnKey)
        let split = keys.contains(where: firstNameColumns.contains)
        var columns = [(index: Int, field: String)]()
        for (i, key) in keys.enumerated() {
            if split && firstNameColumns.contains(key) {
                columns.append((i, "first name"))
            } else if split && lastNameColumns.contains(key) {
                columns.append((i, "last name"))
            } else if let f = aliases[key] {
                columns.append((i, f))
            } else {
                plan.ignoredColumns.append(table.header[i])
            }
        }
        let fields = columns.map(\.field)
        guard fields.contains("email") else {
            throw StoreError.invalid("the header has no email column (email, e-mail or courriel); rows are matched to members by email")
        }
        if let dup = Dictionary(grouping: fields, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw StoreError.invalid("two columns of the header mean the same field '\(dup)'")
        }
        if split && fields.contains("name") {
            throw StoreError.invalid("the header has both a full-name column and a first-name column: keep one or the other")
        }
        let (rows, blank, shapeProblems) = SpreadsheetCells.rows(table)
        plan.blankRows = blank
        plan.problems = shapeProblems
        // A row's cells as field values depend on nothing but the row: read on every core.
        let fieldColumns = columns
        let cells = concurrentMap(rows) { row in MemberImport.values(of: row, columns: fieldColumns, split: split) }
        var seen = [String: Int]()
        var pending = [(line: Int, raw: [String: JSONValue])]()
        for (row, (raw, chapterCell)) in zip(rows, cells) {
            if let c = chapterCell, c != chapter.rawValue {
                plan.problems.append((row.line, "belongs to chapter '\(c.prefix(32))'; its own chapter's node imports it"))
                continue
            }
            guard let email = raw["email"]?.stringValue else {
                plan.problems.append((row.line, "has no email"))
                continue
            }
            let key = EmailAddress.identityKey(email)
            if let first = seen[key] {
                plan.problems.append((row.line, "has the same email as line \(first)"))
                continue
            }
            seen[key] = row.line
            pending.append((row.line, raw))
        }
        // One read for every row's email, then each row is compared with what it matched (on
        // every core again: a row's verdict depends on the row and its match only).
        let existing = try store.liveMembers(withEmails: pending.compactMap { $0.raw["email"]?.stringValue })
        let outcomes = concurrentMap(pending) { p in
            Result { () throws(StoreError) -> Outcome in
                try MemberImport.outcome(
                    p.line, p.raw, chapter: chapter, existing: existing[EmailAddress.identityKey(p.raw["email"]?.stringValue ?? "")])
            }
        }
        for (p, outcome) in zip(pending, outcomes) {
            switch outcome {
            case .success(.added(let c)): plan.added.append(c)
            case .success(.updated(let c)): plan.updated.append(c)
            case .success(.unchanged): plan.unchanged += 1
            case .failure(let e): plan.problems.append((p.line, e.description))
            }
        }
        plan.problems.sort { $0.line < $1.line }
        return plan
    }

    /// A row's cells as the fields they fill, and its chapter cell if it has one.
    private static func values(of row: CSVRow, columns: [(index: Int, field: String)], split: Bool) -> (
        [String: JSONValue], String?
    ) {
        var raw = [String: JSONValue]()
        var chapterCell: String?
        var nameParts = ["first name": "", "last name": ""]
        for (i, f) in columns {
            let cell = MemberImport.cell(row.fields[i])
            switch f {
            case "id": continue
            case "chapter": chapterCell = cell.isEmpty ? nil : cell
            case "first name", "last name": nameParts[f] = cell
            case "links":
                let urls = cell.split(whereSeparator: { $0 == " " || $0 == "|" || $0 == "\n" }).map { JSONValue.string(String($0)) }
                raw[f] = urls.isEmpty ? .null : .array(urls)
            case "country": raw[f] = cell.isEmpty ? .null : .string(cell.uppercased())
            case "visibility", "email_visibility", "status":
                raw[f] = cell.isEmpty ? .null : .string(SpreadsheetCells.choice(cell, field: f))
            default: raw[f] = cell.isEmpty ? .null : .string(cell)
            }
        }
        if split {
            let full = [nameParts["first name"]!, nameParts["last name"]!].filter { !$0.isEmpty }.joined(separator: " ")
            raw["name"] = full.isEmpty ? .null : .string(full)
        }
        return (raw, chapterCell)
    }

    /// What a row does to the replica.
    private enum Outcome: Sendable {
        case added(ImportChange), updated(ImportChange), unchanged
    }

    private static func outcome(_ line: Int, _ raw: [String: JSONValue], chapter: ChapterID, existing: Record?) throws(StoreError)
        -> Outcome
    {
        var values = [String: JSONValue]()
        for (name, value) in raw {
            guard let spec = RecordKind.member.field(name) else { continue }
            if value == .null && spec.required { continue }  // an empty required cell keeps what is there
            do { values[name] = try spec.validate(value) } catch { throw StoreError.invalid(error.description) }
        }
        guard let existing else {
            guard (values["name"] ?? .null) != .null else { throw StoreError.invalid("a new member needs a name") }
            var v = values.filter { $0.value != .null }
            v["chapter"] = .string(chapter.rawValue)
            if v["visibility"] == nil { v["visibility"] = "members" }
            if v["status"] == nil { v["status"] = "active" }
            return .added(ImportChange(line: line, id: nil, values: v))
        }
        guard existing.values["chapter"]?.stringValue == chapter.rawValue else {
            throw StoreError.invalid("this email belongs to a member of chapter '\(existing.values["chapter"]?.stringValue ?? "?")'")
        }
        let changed = values.filter { existing.values[$0.key] ?? .null != $0.value }
        if changed.isEmpty { return .unchanged }
        return .updated(ImportChange(line: line, id: existing.id, values: changed, before: existing.values))
    }

    /// `transform` of every element, in order, computed on every core when there are enough
    /// (rows of a large sheet are checked independently of each other).
    static func concurrentMap<T: Sendable, R: Sendable>(_ items: [T], _ transform: @Sendable (T) -> R) -> [R] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard cores > 1, items.count >= 1_000 else { return items.map(transform) }
        let slices = cores * 8
        var out = [R?](repeating: nil, count: items.count)
        out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let results = buffer
            DispatchQueue.concurrentPerform(iterations: slices) { s in
                for i in items.count * s / slices..<items.count * (s + 1) / slices { results[i] = transform(items[i]) }
            }
        }
        return out.map { $0! }
    }

    /// A new member (refused if its email appeared meanwhile), or an update of an existing one.
    public func mutations(_ c: ImportChange, draft: Draft, author: Author) throws -> [Mutation] {
        if let id = c.id {
            guard let r = try draft.record(.member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
            return [.set(.member, id: id, values: c.values)]
        }
        if let email = c.values["email"]?.stringValue, let other = try draft.memberIDs(withEmail: email).first {
            throw StoreError.duplicateEmail(existing: other, line: c.line)
        }
        let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
        return [.set(.member, id: id, values: c.values)]
    }
}
