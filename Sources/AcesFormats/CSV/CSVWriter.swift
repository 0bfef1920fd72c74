/// Writes CSV documents that spreadsheets (Excel, LibreOffice, Google Sheets, Numbers) open safely.
///
/// Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula, and
/// a member could type such a value on purpose. So every field (header names included) that begins with
/// `=`, `+`, `-`, `@`, a tab or a CR is written with a single quote `'` in front, which spreadsheets show as
/// text. This is the OWASP recommendation and a known trade-off: negative numbers (`-5` becomes `'-5`),
/// international phone numbers (`+33 6 12 34 56 78` becomes `'+33 6 12 34 56 78`) and names like `-Z-`
/// get the prefix too. `CSVReader` does not remove it, so a file written here and read back has the
/// prefix in those fields.
public enum CSVWriter {
    private static let quote: UInt8 = 0x22
    private static let apostrophe: UInt8 = 0x27
    private static let space: UInt8 = 0x20
    private static let tab: UInt8 = 0x09
    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D

    /// The first bytes that make a spreadsheet read a cell as a formula: `=`, `+`, `-`, `@`, tab and CR.
    private static func startsFormula(_ byte: UInt8) -> Bool {
        byte == 0x3D || byte == 0x2B || byte == 0x2D || byte == 0x40 || byte == tab || byte == cr
    }

    /// One CSV document: header then rows, separator given, CRLF line ends (RFC 4180, also after the last
    /// record), fields quoted only when needed (separator, quote, CR or LF inside, or leading/trailing space
    /// or tab), and — to defuse formula injection in spreadsheets — a field beginning with = + - @ (or a
    /// tab/CR) is prefixed with a single quote ' before quoting rules apply. Known trade-off: negative numbers
    /// (`-5` is written `'-5`) and phone numbers like `+33…` get the prefix too.
    ///
    /// A record that would be an empty line (no fields, or one empty field) is written as `""` so that a
    /// reader, which skips empty lines, still sees it. Rows are written with as many fields as they have;
    /// nothing checks them against the header.
    ///
    /// - Parameters:
    ///   - header: The column names, written as the first record with the same rules as the fields.
    ///   - rows: The records.
    ///   - separator: The field separator, usually `,`, or `;` for French spreadsheets.
    ///   - bom: `true` prepends EF BB BF (what Excel needs to read UTF-8).
    /// - Precondition: `separator` is an ASCII byte other than a quote, CR or LF.
    public static func write(header: [String], rows: [[String]], separator: UInt8 = UInt8(ascii: ","), bom: Bool = false) -> [UInt8] {
        precondition(
            separator < 0x80 && separator != quote && separator != cr && separator != lf,
            "a CSV separator must be an ASCII byte other than a quote, CR or LF")
        var out: [UInt8] = []
        if bom { out.append(contentsOf: [0xEF, 0xBB, 0xBF]) }
        append(record: header, separator: separator, to: &out)
        for row in rows {
            append(record: row, separator: separator, to: &out)
        }
        return out
    }

    private static func append(record: [String], separator: UInt8, to out: inout [UInt8]) {
        if record.isEmpty || (record.count == 1 && record[0].isEmpty) {
            out.append(contentsOf: [quote, quote])
        } else {
            for (offset, field) in record.enumerated() {
                if offset > 0 { out.append(separator) }
                append(field: field, separator: separator, to: &out)
            }
        }
        out.append(contentsOf: [cr, lf])
    }

    private static func append(field: String, separator: UInt8, to out: inout [UInt8]) {
        let utf8 = field.utf8
        guard let first = utf8.first, let last = utf8.last else { return }
        let prefixed = startsFormula(first)
        var quoted = (!prefixed && (first == space || first == tab)) || last == space || last == tab
        if !quoted {
            quoted = utf8.contains { $0 == separator || $0 == quote || $0 == cr || $0 == lf }
        }
        if quoted { out.append(quote) }
        if prefixed { out.append(apostrophe) }
        if quoted {
            for byte in utf8 {
                out.append(byte)
                if byte == quote { out.append(quote) }
            }
            out.append(quote)
        } else {
            out.append(contentsOf: utf8)
        }
    }
}
