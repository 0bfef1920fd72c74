import AcesCore
import AcesFormats
import AcesStore
import Foundation

/// A spreadsheet of events read and checked against the replica. Rows are matched by their
/// `id` column when it names an event of this chapter, else by title and start; times are local
/// wall times in the row's zone (`2027-03-14 18:30` or `2027-03-14T18:30`) or UTC instants.
public struct EventImport: SpreadsheetImport {
    public private(set) var added: [ImportChange] = []
    public private(set) var updated: [ImportChange] = []
    public private(set) var unchanged = 0
    public private(set) var problems: [(line: Int, reason: String)] = []
    public private(set) var ignoredColumns: [String] = []
    public private(set) var blankRows = 0

    /// Column names as people write them, English, French and German, to field names (keys as
    /// `SpreadsheetCells.columnKey` makes them). `event import --help` and docs/DIRECTORY.md list them.
    static let aliases: [String: String] = [
        "id": "id", "title": "title", "event": "title", "titre": "title", "intitulé": "title", "titel": "title",
        "veranstaltung": "title", "description": "description", "beschreibung": "description",
        "start": "start", "starts": "start", "begins": "start", "début": "start", "debut": "start", "date de début": "start",
        "beginn": "start", "anfang": "start", "end": "end", "ends": "end", "fin": "end", "date de fin": "end", "ende": "end",
        "timezone": "timezone", "time zone": "timezone", "tz": "timezone", "fuseau": "timezone", "fuseau horaire": "timezone",
        "zeitzone": "timezone", "venue": "venue", "location": "venue", "place": "venue", "lieu": "venue", "adresse": "venue",
        "ort": "venue", "veranstaltungsort": "venue", "url": "url", "link": "url", "lien": "url", "site": "url",
        "capacity": "capacity", "places": "capacity", "capacité": "capacity", "capacite": "capacity",
        "nombre de places": "capacity", "kapazität": "capacity", "kapazitaet": "capacity", "plätze": "capacity",
        "teilnehmerzahl": "capacity", "status": "status", "statut": "status", "chapter": "chapter", "section": "chapter",
        "chapitre": "chapter", "sektion": "chapter",
    ]

    public static func plan(_ table: CSVTable, chapter: ChapterID, store: Store) throws -> EventImport {
        var plan = EventImport()
        var columns = [(index: Int, field: String)]()
        for (i, name) in table.header.enumerated() {
            if let f = aliases[SpreadsheetCells.columnKey(name)] { columns.append((i, f)) } else { plan.ignoredColumns.append(name) }
        }
        if let dup = Dictionary(grouping: columns.map(\.field), by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw StoreError.invalid("two columns of the header mean the same field '\(dup)'")
        }
        for needed in ["title", "start", "end", "timezone"] where !columns.contains(where: { $0.field == needed }) {
            throw StoreError.invalid("the header has no \(needed) column")
        }
        let existing = try store.records(.event, filter: RecordFilter(chapter: chapter, limit: 1_000_000))
        let byID = Dictionary(existing.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let byTitle = Dictionary(
            existing.map { (($0.values["title"]?.stringValue ?? "") + "\u{0}" + ($0.values["start"]?.stringValue ?? ""), $0) },
            uniquingKeysWith: { a, _ in a })
        var seen = Set<String>()
        let (rows, blank, shapeProblems) = SpreadsheetCells.rows(table)
        plan.blankRows = blank
        plan.problems = shapeProblems
        for row in rows {
            var badTime: String?
            var raw = [String: JSONValue]()
            var id: String?
            var rowChapter: String?
            for (i, f) in columns {
                let cell = MemberImport.cell(row.fields[i])
                switch f {
                case "id": id = cell.isEmpty ? nil : cell.lowercased()
                case "chapter": rowChapter = cell.isEmpty ? nil : cell
                case "capacity":
                    if cell.isEmpty {
                        raw[f] = .null
                    } else if let n = Int(cell) {
                        raw[f] = .number(Double(n))
                    } else {
                        raw[f] = .string(cell)
                    }
                case "start", "end":
                    if cell.isEmpty {
                        raw[f] = .null
                    } else if let time = SpreadsheetCells.localTime(cell) {
                        raw[f] = .string(time)
                    } else {
                        badTime = badTime ?? f
                    }
                case "status": raw[f] = cell.isEmpty ? .null : .string(SpreadsheetCells.choice(cell, field: f))
                default: raw[f] = cell.isEmpty ? .null : .string(cell)
                }
            }
            if let c = rowChapter, c != chapter.rawValue {
                plan.problems.append((row.line, "belongs to chapter '\(c.prefix(32))'; its own chapter's node imports it"))
                continue
            }
            do {
                if let badTime {
                    throw StoreError.invalid(
                        "\(badTime) is not a date and time like 2031-03-14 18:30, 14/03/2031 18:30 or 14.03.2031 18:30")
                }
                let known = id.flatMap { byID[$0] }
                for needed in ["title", "start", "end", "timezone"] where raw[needed] == .null && (known == nil || needed == "title") {
                    throw StoreError.invalid("\(needed) is required")
                }
                if let id, known == nil, RecordID.isValid(id) == false {
                    throw StoreError.invalid("id is not an event id")
                }
                var values = try Editor.eventValues(
                    raw.filter { !($0.value == .null && ["title", "start", "end", "timezone"].contains($0.key)) }, current: known)
                let key = (values["title"]?.stringValue ?? "") + "\u{0}" + (values["start"]?.stringValue ?? "")
                guard seen.insert(known?.id ?? key).inserted else { throw StoreError.invalid("repeats an event of an earlier line") }
                if let current = known ?? byTitle[key] {
                    let changed = values.filter { current.values[$0.key] ?? .null != $0.value }
                    if changed.isEmpty {
                        plan.unchanged += 1
                    } else {
                        plan.updated.append(.init(line: row.line, id: current.id, values: changed, before: current.values))
                    }
                } else {
                    values = values.filter { $0.value != .null }
                    values["chapter"] = .string(chapter.rawValue)
                    if values["status"] == nil { values["status"] = "scheduled" }
                    plan.added.append(.init(line: row.line, id: nil, values: values))
                }
            } catch let e as StoreError {
                plan.problems.append((row.line, e.description))
            }
        }
        plan.problems.sort { $0.line < $1.line }
        return plan
    }

    /// A new event, or an update of an existing one.
    public func mutations(_ c: ImportChange, draft: Draft, author: Author) throws -> [Mutation] {
        let id = c.id ?? RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
        return [.set(.event, id: id, values: c.values)]
    }
}
