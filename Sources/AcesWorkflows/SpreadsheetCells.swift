import AcesCore
import AcesFormats
import Foundation

/// What French, British and German admins write in their spreadsheets, read the way Aces stores it:
/// header names, the words of choice fields, dates and times, and rows as Excel and Google Sheets
/// export them (rows of separators only, trailing cells left out).
enum SpreadsheetCells {
    /// A header name as the aliases tables key it: lowercased, `_` read as a space, runs of white
    /// space made one space.
    static func columnKey(_ name: String) -> String {
        TextTrim.trimmed(name).lowercased().replacingOccurrences(of: "_", with: " ")
            .split(whereSeparator: { $0 == " " || $0 == "\u{A0}" }).joined(separator: " ")
    }

    /// The rows worth importing: rows made only of separators and white space (Excel writes an empty
    /// row as `;;;;`) are skipped and counted; a row with fewer cells than the header gets empty
    /// trailing cells (a left-out trailing cell is an empty one); a row with more is refused unless
    /// the extra cells are empty.
    static func rows(_ table: CSVTable) -> (rows: [CSVRow], blank: Int, problems: [(line: Int, reason: String)]) {
        var rows = [CSVRow]()
        var blank = 0
        var problems = [(line: Int, reason: String)]()
        let width = table.header.count
        for var row in table.rows {
            if row.fields.allSatisfy({ TextTrim.trimmed($0).isEmpty }) {
                blank += 1
                continue
            }
            if row.fields.count < width {
                row.fields += Array(repeating: "", count: width - row.fields.count)
            } else if row.fields.count > width {
                guard row.fields[width...].allSatisfy({ TextTrim.trimmed($0).isEmpty }) else {
                    problems.append((row.line, "has \(row.fields.count) cells where the header has \(width)"))
                    continue
                }
                row.fields.removeLast(row.fields.count - width)
            }
            rows.append(row)
        }
        return (rows, blank, problems)
    }

    /// The stored word for a choice field's cell, English, French or German (`membres` → `members`,
    /// `annulé` → `cancelled`, `aktiv` → `active`); any other word lowercased, for the field's own check
    /// to refuse.
    static func choice(_ cell: String, field: String) -> String {
        let word = cell.lowercased()
        return choiceWords[field]?[word] ?? word
    }

    private static let choiceWords: [String: [String: String]] = [
        "visibility": [
            "publique": "public", "öffentlich": "public", "oeffentlich": "public", "offen": "public",
            "membres": "members", "membre": "members", "adhérents": "members", "adherents": "members", "mitglieder": "members",
            "nur mitglieder": "members", "chapitre": "chapter", "section": "chapter", "sektion": "chapter",
            "kapitel": "chapter", "landesgruppe": "chapter",
        ],
        "email_visibility": [
            "membres": "members", "mitglieder": "members", "masqué": "hidden", "masquée": "hidden", "versteckt": "hidden",
        ],
        "status": [
            "actif": "active", "active": "active", "aktiv": "active", "inactif": "inactive", "inactive": "inactive",
            "inaktiv": "inactive",
            "prévu": "scheduled", "prevu": "scheduled", "planifié": "scheduled", "planifie": "scheduled", "confirmé": "scheduled",
            "geplant": "scheduled", "annulé": "cancelled", "annule": "cancelled", "annulée": "cancelled",
            "canceled": "cancelled", "abgesagt": "cancelled", "storniert": "cancelled", "ausgefallen": "cancelled",
        ],
    ]

    /// A date and time as spreadsheets write them, as the local time Aces reads
    /// (`2031-03-14T18:30`): `2031-03-14 18:30`, `14/03/2031 18:30` (French and British), `14.03.2031
    /// 18:30` (German), seconds or none, `18h30`, `18:30 Uhr`. An instant with a zone
    /// (`2031-03-14T17:30:00Z`) is kept as it is. nil when the cell is none of these.
    static func localTime(_ cell: String) -> String? {
        if Instant.parse(cell) != nil { return cell }
        var text = cell.lowercased()
        if text.hasSuffix("uhr") { text = String(text.dropLast(3)) }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "T" || $0 == "t" || $0 == "," }).map(String.init)
        guard parts.count == 2, let date = day(parts[0]), let time = clock(parts[1]) else { return nil }
        return date + "T" + time
    }

    /// `yyyy-MM-dd` from `2031-03-14`, `14/03/2031`, `14.03.2031` or `14-03-2031` (day and month may have one digit).
    private static func day(_ s: String) -> String? {
        let fields = s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "-" || $0 == "/" || $0 == "." })
        guard fields.count == 3, fields.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
            let a = Int(fields[0]), let b = Int(fields[1]), let c = Int(fields[2])
        else { return nil }
        let (y, m, d) = fields[0].count == 4 ? (a, b, c) : fields[2].count == 4 ? (c, b, a) : (0, 0, 0)
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1000...9999).contains(y), (1...12).contains(m), (1...days[m - 1]).contains(d) else { return nil }
        return "\(y)-\(two(m))-\(two(d))"
    }

    /// `HH:mm` or `HH:mm:ss` from `18:30`, `18:30:00`, `9:05`, `18h30` or `18h`.
    private static func clock(_ s: String) -> String? {
        var fields = s.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "h" }).map(String.init)
        if s.hasSuffix("h"), fields.last == "" { fields[fields.count - 1] = "00" }
        guard (2...3).contains(fields.count), fields.allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy(\.isASCII) }),
            let h = Int(fields[0]), let m = Int(fields[1]), (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        guard fields.count == 3 else { return "\(two(h)):\(two(m))" }
        guard let sec = Int(fields[2]), (0...59).contains(sec) else { return nil }
        return "\(two(h)):\(two(m)):\(two(sec))"
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}
