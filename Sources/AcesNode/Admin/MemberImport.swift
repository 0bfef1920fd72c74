import AcesCore
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

    /// Column names as people write them, English and French, to field names.
    static let aliases: [String: String] = [
        "email": "email", "e-mail": "email", "mail": "email", "courriel": "email", "adresse e-mail": "email",
        "name": "name", "full name": "name", "nom": "name", "nom complet": "name",
        "organisation": "organisation", "organization": "organisation", "company": "organisation", "société": "organisation",
        "entreprise": "organisation", "role": "role", "job title": "role", "title": "role", "fonction": "role", "poste": "role",
        "city": "city", "ville": "city", "country": "country", "pays": "country", "bio": "bio", "biography": "bio",
        "biographie": "bio", "links": "links", "liens": "links", "website": "links", "site": "links", "visibility": "visibility",
        "visibilité": "visibility", "status": "status", "statut": "status", "chapter": "chapter", "section": "chapter", "id": "id",
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
        var columns = [(index: Int, field: String)]()
        for (i, name) in table.header.enumerated() {
            if let f = aliases[name.lowercased()] { columns.append((i, f)) } else { plan.ignoredColumns.append(name) }
        }
        let fields = columns.map(\.field)
        guard fields.contains("email") else {
            throw StoreError.invalid("the header has no email column (email, e-mail or courriel); rows are matched to members by email")
        }
        if let dup = Dictionary(grouping: fields, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw StoreError.invalid("two columns of the header mean the same field '\(dup)'")
        }
        var seen = [String: Int]()
        var pending = [(line: Int, raw: [String: JSONValue])]()
        for row in table.rows {
            guard row.fields.count == table.header.count else {
                plan.problems.append((row.line, "has \(row.fields.count) cells where the header has \(table.header.count)"))
                continue
            }
            var raw = [String: JSONValue]()
            var chapterCell: String?
            for (i, f) in columns {
                let cell = MemberImport.cell(row.fields[i])
                switch f {
                case "id": continue
                case "chapter": chapterCell = cell.isEmpty ? nil : cell
                case "links":
                    let urls = cell.split(whereSeparator: { $0 == " " || $0 == "|" || $0 == "\n" }).map { JSONValue.string(String($0)) }
                    raw[f] = urls.isEmpty ? .null : .array(urls)
                case "country": raw[f] = cell.isEmpty ? .null : .string(cell.uppercased())
                case "visibility", "status": raw[f] = cell.isEmpty ? .null : .string(cell.lowercased())
                default: raw[f] = cell.isEmpty ? .null : .string(cell)
                }
            }
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
        // One read for every row's email, then each row is compared with what it matched.
        let existing = try store.liveMembers(withEmails: pending.compactMap { $0.raw["email"]?.stringValue })
        for (line, raw) in pending {
            do {
                try plan.add(line, raw, chapter: chapter, existing: existing[EmailAddress.identityKey(raw["email"]?.stringValue ?? "")])
            } catch let e as StoreError {
                plan.problems.append((line, e.description))
            }
        }
        plan.problems.sort { $0.line < $1.line }
        return plan
    }

    private mutating func add(_ line: Int, _ raw: [String: JSONValue], chapter: ChapterID, existing: Record?) throws {
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
            added.append(ImportChange(line: line, id: nil, values: v))
            return
        }
        guard existing.values["chapter"]?.stringValue == chapter.rawValue else {
            throw StoreError.invalid("this email belongs to a member of chapter '\(existing.values["chapter"]?.stringValue ?? "?")'")
        }
        let changed = values.filter { existing.values[$0.key] ?? .null != $0.value }
        if changed.isEmpty { unchanged += 1 } else { updated.append(ImportChange(line: line, id: existing.id, values: changed)) }
    }

    /// A new member (refused if its email appeared meanwhile), or an update of an existing one.
    public func mutations(_ c: ImportChange, draft: Draft, author: Author) throws -> [Mutation] {
        if let id = c.id {
            guard let r = try draft.record(.member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
            return [.set(.member, id: id, values: c.values)]
        }
        if let email = c.values["email"]?.stringValue, let other = try draft.memberIDs(withEmail: email).first {
            throw StoreError.invalid("line \(c.line): a member with this email appeared meanwhile (\(other))")
        }
        return [.set(.member, id: RecordID.v7(millis: author.wallMillis(), random: author.randomBytes(10)), values: c.values)]
    }
}
