/// A CSV file read whole: its header and records, with the physical line each record starts on.
public struct CSVTable: Sendable, Equatable {
    /// The byte that separates fields: `,`, `;` or tab as detected, or the separator given to the reader.
    public var separator: UInt8
    /// The column names of the header record, trimmed of surrounding white space; as read, none is empty
    /// and no two are equal ignoring case.
    public var header: [String]
    /// The records after the header, in file order. Empty lines are not records.
    public var rows: [CSVRow]
    /// The encoding the file was in (`readDetectingEncoding` converts Windows-1252 and Latin-1 to UTF-8).
    public var encoding: CSVEncoding

    /// Creates a table from its separator, header and records.
    public init(separator: UInt8, header: [String], rows: [CSVRow], encoding: CSVEncoding = .utf8) {
        self.separator = separator
        self.header = header
        self.rows = rows
        self.encoding = encoding
    }
}

/// One record of a CSV file, with the physical line it starts on.
public struct CSVRow: Sendable, Equatable {
    /// The 1-based physical line number where the record starts; the header is on line 1 unless empty lines precede it.
    public var line: Int
    /// The fields as written: quotes removed, doubled quotes undone, nothing trimmed. There may be more or fewer
    /// fields than header columns.
    public var fields: [String]

    /// Creates a record starting on `line` with `fields`.
    public init(line: Int, fields: [String]) {
        self.line = line
        self.fields = fields
    }

    /// The field under a header name (exact match after trimming; case-insensitive), or nil when absent/short row.
    ///
    /// Both `column` and the names in `header` are trimmed of surrounding white space and compared ignoring
    /// case. The first matching column wins. The field itself is returned untrimmed.
    public func value(_ column: String, in header: [String]) -> String? {
        let wanted = CSVReader.columnKey(column)
        guard let index = header.firstIndex(where: { CSVReader.columnKey($0) == wanted }), index < fields.count else {
            return nil
        }
        return fields[index]
    }
}

/// The error thrown by `CSVReader` for a file it cannot read.
///
/// The description is one sentence naming the line, such as `line 12: a quoted field is not closed (field 3)`.
/// It never repeats the text of a cell, since cells may hold personal data.
public struct CSVError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The 1-based physical line number where the problem was found.
    public let line: Int
    /// A short reason without the line number and without any cell text.
    public let reason: String

    /// Creates an error on `line` with `reason`; `reason` must not contain cell text.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// One sentence such as `line 12: a quoted field is not closed (field 3)`.
    public var description: String { "line \(line): \(reason)" }
}

/// Reads CSV files as exported by spreadsheets (Excel, LibreOffice, Google Sheets, Numbers).
///
/// The reader works on UTF-8 bytes and follows RFC 4180 quoting, while accepting what spreadsheets
/// produce in practice: a UTF-8 byte-order mark, `;` or tab separators, and CRLF, LF or lone CR line ends.
/// A quote inside an unquoted field (such as `5'10"`) is kept as an ordinary character; only a quote as
/// the very first character makes a quoted field, so `a, "b"` has the field ` "b"`.
public enum CSVReader {
    private static let quote: UInt8 = 0x22
    private static let comma: UInt8 = 0x2C
    private static let semicolon: UInt8 = 0x3B
    private static let tab: UInt8 = 0x09
    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D

    /// Reads UTF-8 bytes (a leading BOM EF BB BF is skipped).
    ///
    /// `separator` nil = detect from the header line: the most frequent of ';', ',' and '\t' outside quotes
    /// (ties: ','; a tie between ';' and tab: ';'; none at all: ',').
    ///
    /// RFC 4180 quoting: fields may be quoted with "; "" inside quotes is one quote; quoted fields may hold
    /// separators, CR, LF and CRLF, which are kept as written. Line ends CRLF, LF or lone CR are all accepted.
    /// Empty lines (no characters at all) are skipped but still counted for line numbers, including empty
    /// lines before the header; a final newline does not make an extra record. Unquoted fields are kept as
    /// written (not trimmed); header names are trimmed. Rows with a different number of fields than the
    /// header are returned as they are (the importer reports them).
    ///
    /// - Parameters:
    ///   - bytes: The whole file.
    ///   - separator: The field separator, or nil to detect it.
    /// - Precondition: `separator`, when given, is an ASCII byte other than a quote, CR or LF.
    /// - Throws: `CSVError` for invalid UTF-8 (with the line; UTF-16 files are named as such), a quote that is
    ///   never closed (line where the field started), a character other than separator/line end right after a
    ///   closing quote, an empty file (line 1) or a header with an empty or duplicate column name
    ///   (case-insensitive).
    public static func read(_ bytes: [UInt8], separator: UInt8? = nil) throws(CSVError) -> CSVTable {
        if let separator {
            precondition(
                separator < 0x80 && separator != quote && separator != cr && separator != lf,
                "a CSV separator must be an ASCII byte other than a quote, CR or LF")
        }
        return try bytes.withUnsafeBufferPointer { buffer in
            read(buffer: buffer, separator: separator)
        }.get()
    }

    /// Reads a spreadsheet's bytes as `read` does, after converting a Windows-1252 or Latin-1 file to
    /// UTF-8 (see `CSVEncoding.toUTF8`); the table names the encoding found.
    public static func readDetectingEncoding(_ bytes: [UInt8], separator: UInt8? = nil) throws(CSVError) -> CSVTable {
        let (utf8, encoding) = CSVEncoding.toUTF8(bytes)
        var table = try read(utf8, separator: separator)
        table.encoding = encoding
        return table
    }

    /// The key two column names are compared by: trimmed of surrounding white space, lowercased.
    static func columnKey(_ name: String) -> String {
        trimmed(name).lowercased()
    }

    /// `name` without leading and trailing white space (Unicode white space, including no-break space and line ends).
    private static func trimmed(_ name: String) -> String {
        guard let first = name.firstIndex(where: { !$0.isWhitespace }),
            let last = name.lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return String(name[first...last])
    }

    private static func read(buffer: UnsafeBufferPointer<UInt8>, separator: UInt8?) -> Result<CSVTable, CSVError> {
        do throws(CSVError) {
            return .success(try parse(buffer, separator: separator))
        } catch {
            return .failure(error)
        }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8?) throws(CSVError) -> CSVTable {
        var index = 0
        if bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF {
            index = 3
        } else if bytes.count >= 2 && ((bytes[0] == 0xFF && bytes[1] == 0xFE) || (bytes[0] == 0xFE && bytes[1] == 0xFF)) {
            throw CSVError(line: 1, reason: "the file is UTF-16 text, not UTF-8 (save it as \"CSV UTF-8\")")
        }
        let separator = separator ?? detectSeparator(bytes, from: index)
        var line = 1
        var scratch: [UInt8] = []
        guard let headerRecord = try nextRecord(bytes, &index, &line, separator: separator, scratch: &scratch) else {
            throw CSVError(line: 1, reason: "the file is empty")
        }
        let header = headerRecord.fields.map(trimmed)
        try checkHeader(header, line: headerRecord.line)
        var rows: [CSVRow] = []
        while let row = try nextRecord(bytes, &index, &line, separator: separator, scratch: &scratch) {
            rows.append(row)
        }
        return CSVTable(separator: separator, header: header, rows: rows)
    }

    private static func checkHeader(_ header: [String], line: Int) throws(CSVError) {
        var seen: [String: Int] = [:]
        for (offset, name) in header.enumerated() {
            let column = offset + 1
            if name.isEmpty {
                throw CSVError(line: line, reason: "column \(column) of the header has no name")
            }
            let key = name.lowercased()
            if let earlier = seen[key] {
                throw CSVError(line: line, reason: "column \(column) of the header has the same name as column \(earlier)")
            }
            seen[key] = column
        }
    }

    /// The most frequent of `,`, `;` and tab outside quotes on the first non-empty line.
    ///
    /// A quote opens a quoted field only at the start of the line or right after one of the candidates,
    /// mirroring how the parser treats quotes.
    private static func detectSeparator(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> UInt8 {
        var index = start
        while index < bytes.count && (bytes[index] == lf || bytes[index] == cr) {
            index += 1
        }
        var commas = 0
        var semicolons = 0
        var tabs = 0
        var inQuotes = false
        var atFieldStart = true
        scan: while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inQuotes {
                if byte == quote {
                    if index < bytes.count && bytes[index] == quote {
                        index += 1
                    } else {
                        inQuotes = false
                    }
                }
                continue
            }
            switch byte {
            case quote where atFieldStart: inQuotes = true
            case comma: commas += 1
            case semicolon: semicolons += 1
            case tab: tabs += 1
            case lf, cr: break scan
            default: break
            }
            atFieldStart = byte == comma || byte == semicolon || byte == tab
        }
        if semicolons > commas && semicolons >= tabs { return semicolon }
        if tabs > commas && tabs > semicolons { return tab }
        return comma
    }

    /// Reads the record starting at `index`, skipping empty lines first; nil at the end of the input.
    /// On return `index` is past the record's line end and `line` is the line after it.
    private static func nextRecord(
        _ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ line: inout Int, separator: UInt8, scratch: inout [UInt8]
    ) throws(CSVError) -> CSVRow? {
        let end = bytes.count
        while index < end {
            if bytes[index] == lf {
                index += 1
            } else if bytes[index] == cr {
                index += 1
                if index < end && bytes[index] == lf { index += 1 }
            } else {
                break
            }
            line += 1
        }
        guard index < end else { return nil }
        let recordLine = line
        var fields: [String] = []
        while true {
            let fieldNumber = fields.count + 1
            if index < end && bytes[index] == quote {
                let fieldLine = line
                index += 1
                scratch.removeAll(keepingCapacity: true)
                var segment = index
                while true {
                    guard index < end else {
                        throw CSVError(line: fieldLine, reason: "a quoted field is not closed (field \(fieldNumber))")
                    }
                    let byte = bytes[index]
                    if byte == quote {
                        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[segment..<index]))
                        index += 1
                        guard index < end && bytes[index] == quote else { break }
                        scratch.append(quote)
                        index += 1
                        segment = index
                    } else if byte == lf {
                        index += 1
                        line += 1
                    } else if byte == cr {
                        index += 1
                        if index < end && bytes[index] == lf { index += 1 }
                        line += 1
                    } else if byte >= 0x80 {
                        index = try skipScalar(bytes, at: index, line: line)
                    } else {
                        index += 1
                    }
                }
                fields.append(String(decoding: scratch, as: UTF8.self))
                if index < end && bytes[index] != separator && bytes[index] != lf && bytes[index] != cr {
                    throw CSVError(
                        line: line,
                        reason: "field \(fieldNumber) has a character other than the separator or a line end after its closing quote")
                }
            } else {
                let start = index
                while index < end {
                    let byte = bytes[index]
                    if byte == separator || byte == lf || byte == cr { break }
                    if byte >= 0x80 {
                        index = try skipScalar(bytes, at: index, line: line)
                    } else {
                        index += 1
                    }
                }
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
            }
            // Here index is at the end, a separator or a line end.
            guard index < end else { break }
            let byte = bytes[index]
            index += 1
            if byte == separator { continue }
            if byte == cr && index < end && bytes[index] == lf { index += 1 }
            line += 1
            break
        }
        return CSVRow(line: recordLine, fields: fields)
    }

    /// The index just past the well-formed UTF-8 sequence whose lead byte (0x80 or more) is at `index`.
    private static func skipScalar(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int, line: Int) throws(CSVError) -> Int {
        let invalid = CSVError(line: line, reason: "the text is not valid UTF-8 (save the file as \"CSV UTF-8\")")
        let continuations: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch bytes[index] {
        case 0xC2...0xDF: continuations = 1
        case 0xE0: continuations = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: continuations = 2
        case 0xED: continuations = 2; high = 0x9F
        case 0xF0: continuations = 3; low = 0x90
        case 0xF1...0xF3: continuations = 3
        case 0xF4: continuations = 3; high = 0x8F
        default: throw invalid
        }
        guard index + continuations < bytes.count else { throw invalid }
        let second = bytes[index + 1]
        guard second >= low && second <= high else { throw invalid }
        var next = index + 2
        while next <= index + continuations {
            guard bytes[next] & 0xC0 == 0x80 else { throw invalid }
            next += 1
        }
        return next
    }
}
