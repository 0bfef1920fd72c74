import AcesCore
import AcesFormats
import AcesTestSupport
import Testing

private let bomBytes: [UInt8] = [0xEF, 0xBB, 0xBF]
private let comma = UInt8(ascii: ",")
private let semicolon = UInt8(ascii: ";")
private let tab = UInt8(ascii: "\t")

private func read(_ text: String, separator: UInt8? = nil, bom: Bool = false) throws -> CSVTable {
    try CSVReader.read((bom ? bomBytes : []) + Array(text.utf8), separator: separator)
}

/// The error reading `bytes` throws, or nil when it reads.
private func readError(_ bytes: [UInt8], separator: UInt8? = nil) -> CSVError? {
    do {
        _ = try CSVReader.read(bytes, separator: separator)
        return nil
    } catch {
        return error
    }
}

private func readError(_ text: String, separator: UInt8? = nil) -> CSVError? {
    readError(Array(text.utf8), separator: separator)
}

private func text(_ bytes: [UInt8]) -> String {
    String(decoding: bytes, as: UTF8.self)
}

@Suite("CSVReader")
struct CSVReaderTests {
    @Test("comma file is detected")
    func commaDetected() throws {
        let table = try read("Name,Email\nZoë,zoe@example.org\n")
        #expect(table.separator == comma)
        #expect(table.header == ["Name", "Email"])
        #expect(table.rows == [CSVRow(line: 2, fields: ["Zoë", "zoe@example.org"])])
    }

    @Test("semicolon file (French export) is detected")
    func semicolonDetected() throws {
        let table = try read("Nom;Prénom;Ville\r\nMüller;Anna;Lyon, 3e\r\n")
        #expect(table.separator == semicolon)
        #expect(table.header == ["Nom", "Prénom", "Ville"])
        #expect(table.rows == [CSVRow(line: 2, fields: ["Müller", "Anna", "Lyon, 3e"])])
    }

    @Test("a UTF-8 BOM is skipped, with either separator")
    func bomSkipped() throws {
        let commaTable = try read("Email,Name\r\na@b.c,Zoë\r\n", bom: true)
        #expect(commaTable.separator == comma)
        #expect(commaTable.header == ["Email", "Name"])
        #expect(Array(commaTable.header[0].utf8) == Array("Email".utf8))
        #expect(commaTable.rows[0].fields == ["a@b.c", "Zoë"])

        let semicolonTable = try read("Email;Name\r\na@b.c;Zoë\r\n", bom: true)
        #expect(semicolonTable.separator == semicolon)
        #expect(semicolonTable.header == ["Email", "Name"])
        #expect(semicolonTable.rows[0].fields == ["a@b.c", "Zoë"])
    }

    @Test("a tab file is detected")
    func tabDetected() throws {
        let table = try read("Name\tCity\tNote\nZoë\tŁódź\ta, b; c\n")
        #expect(table.separator == tab)
        #expect(table.header == ["Name", "City", "Note"])
        #expect(table.rows[0].fields == ["Zoë", "Łódź", "a, b; c"])
    }

    @Test("detection ignores separators inside quotes, and ties go to the comma")
    func detectionRules() throws {
        let quoted = try read("\"Last, First\";Email\nx;y\n")
        #expect(quoted.separator == semicolon)
        #expect(quoted.header == ["Last, First", "Email"])

        let tie = try read("a;b,c\n1;2,3\n")
        #expect(tie.separator == comma)
        #expect(tie.header == ["a;b", "c"])

        let single = try read("Email\nx@y.z\n")
        #expect(single.separator == comma)
        #expect(single.rows[0].fields == ["x@y.z"])
    }

    @Test("an explicit separator overrides detection")
    func explicitSeparator() throws {
        let table = try read("a;b;c,d\n1;2;3,4\n", separator: comma)
        #expect(table.separator == comma)
        #expect(table.header == ["a;b;c", "d"])
        #expect(table.rows[0].fields == ["1;2;3", "4"])

        let semicolons = try read("a,b,c;d\n1,2,3;4\n", separator: semicolon)
        #expect(semicolons.header == ["a,b,c", "d"])
    }

    @Test("quoted fields hold separators, doubled quotes, CRLF and LF")
    func quotedFields() throws {
        let source = "Name,Note,Address\r\n\"Müller, Anna\",\"She said \"\"hi\"\"\",\"1 rue X\r\n69000 Lyon\"\r\n\"\",\"a\nb\",\"\"\"\"\r\n"
        let table = try read(source)
        #expect(table.header == ["Name", "Note", "Address"])
        #expect(table.rows.count == 2)
        #expect(table.rows[0] == CSVRow(line: 2, fields: ["Müller, Anna", "She said \"hi\"", "1 rue X\r\n69000 Lyon"]))
        #expect(Array(table.rows[0].fields[2].utf8).contains(0x0D))
        #expect(table.rows[1] == CSVRow(line: 4, fields: ["", "a\nb", "\""]))
    }

    @Test("the record after a multi-line field starts on the right line")
    func lineAfterMultilineField() throws {
        let table = try read("id,note\n1,\"spans\nlines 2-3\"\n2,after\n3,\"x\r\ny\r\nz\"\n4,end")
        #expect(table.rows.map(\.line) == [2, 4, 5, 8])
        #expect(table.rows[1].fields == ["2", "after"])
        #expect(table.rows[3].fields == ["4", "end"])
    }

    @Test("CRLF, LF and lone CR line ends read the same")
    func lineEnds() throws {
        let expected = [CSVRow(line: 2, fields: ["1", "x"]), CSVRow(line: 3, fields: ["2", "y"])]
        for end in ["\r\n", "\n", "\r"] {
            let table = try read("a,b" + end + "1,x" + end + "2,y" + end)
            #expect(table.header == ["a", "b"], "line end \(Array(end.utf8))")
            #expect(table.rows == expected, "line end \(Array(end.utf8))")
        }
        let mixed = try read("a,b\r1,x\r\n2,y\n3,z")
        #expect(mixed.rows.map(\.line) == [2, 3, 4])
        #expect(mixed.rows[2].fields == ["3", "z"])
    }

    @Test("a final newline makes no extra record; without one the last record is kept")
    func trailingNewline() throws {
        #expect(try read("a,b\n1,2\n").rows == [CSVRow(line: 2, fields: ["1", "2"])])
        #expect(try read("a,b\n1,2").rows == [CSVRow(line: 2, fields: ["1", "2"])])
        #expect(try read("a,b\n1,").rows == [CSVRow(line: 2, fields: ["1", ""])])
        #expect(try read("a,b").rows.isEmpty)
    }

    @Test("empty lines are skipped but counted")
    func emptyLinesCounted() throws {
        let table = try read("\r\na,b\r\n\r\n1,2\n\n\r3,4\r\n\r\n")
        #expect(table.header == ["a", "b"])
        #expect(table.rows == [CSVRow(line: 4, fields: ["1", "2"]), CSVRow(line: 7, fields: ["3", "4"])])
        // A line holding only spaces or a separator is not empty: it is a record.
        let blanks = try read("a,b\n \n,\n")
        #expect(blanks.rows == [CSVRow(line: 2, fields: [" "]), CSVRow(line: 3, fields: ["", ""])])
    }

    @Test("unquoted fields are kept as written, header names are trimmed, short and long rows are kept")
    func trimmingAndRaggedRows() throws {
        let table = try read(" Name ,\u{00A0}Email\t\nZoë , a@b.c \n1\n1,2,3\n")
        #expect(table.header == ["Name", "Email"])
        #expect(table.rows[0].fields == ["Zoë ", " a@b.c "])
        #expect(table.rows[1].fields == ["1"])
        #expect(table.rows[2].fields == ["1", "2", "3"])
    }

    @Test("a quote inside an unquoted field is an ordinary character")
    func quoteInsideUnquotedField() throws {
        let table = try read("height,name\n5'10\",a \"b\"\n")
        #expect(table.rows[0].fields == ["5'10\"", "a \"b\""])
    }

    @Test("value(_:in:) matches trimmed names ignoring case and returns nil when absent or short")
    func valueLookup() throws {
        let table = try read("Name,E-mail,Phone\nZoë,zoe@example.org\n")
        let row = table.rows[0]
        #expect(row.value("e-MAIL", in: table.header) == "zoe@example.org")
        #expect(row.value("  name ", in: table.header) == "Zoë")
        #expect(row.value("Phone", in: table.header) == nil)
        #expect(row.value("Email", in: table.header) == nil)
        #expect(row.value("name", in: [" NAME "]) == "Zoë")
    }
}

@Suite("CSVReader errors")
struct CSVReaderErrorTests {
    private let secret = "SECRET-4242"

    @Test("an unclosed quote names the line where the field began")
    func unclosedQuote() {
        let error = readError("a,b\n1,2\n3,\"\(secret)\nmore\nand more\n")
        #expect(error == CSVError(line: 3, reason: "a quoted field is not closed (field 2)"))
        #expect(error?.description == "line 3: a quoted field is not closed (field 2)")
        #expect(error.map { !$0.description.contains(secret) } == true)
    }

    @Test("a character after a closing quote is an error")
    func garbageAfterClosingQuote() {
        let error = readError("a,b\n1,\"\(secret)\"x,2\n")
        #expect(
            error == CSVError(line: 2, reason: "field 2 has a character other than the separator or a line end after its closing quote"))
        #expect(error.map { !$0.description.contains(secret) && !$0.description.contains("x,2") } == true)
        // A space after the closing quote counts too, and the line is where the quote closed.
        #expect(readError("a,b\n1,\"multi\nline\" ,2\n")?.line == 3)
    }

    @Test("invalid UTF-8 names its line")
    func invalidUTF8() {
        // "Müller" saved as Windows-1252: ü is the lone byte FC.
        let bytes = Array("a,b\n1,2\n3,".utf8) + Array(secret.utf8) + [0x4D, 0xFC, 0x6C] + Array("\n".utf8)
        let error = readError(bytes)
        #expect(error == CSVError(line: 3, reason: "the text is not valid UTF-8 (save the file as \"CSV UTF-8\")"))
        #expect(error.map { !$0.description.contains(secret) } == true)
        // Inside a quoted field after a line break, an overlong encoding, a surrogate, a truncated sequence.
        #expect(readError(Array("a\n\"x\ny".utf8) + [0xC0, 0xAF, 0x22])?.line == 3)
        #expect(readError(Array("a\nb\n".utf8) + [0xED, 0xA0, 0x80])?.line == 3)
        #expect(readError(Array("a\n".utf8) + [0xE6, 0x97])?.line == 2)
        #expect(readError([0x61, 0x80])?.line == 1)
        // Valid 2-, 3- and 4-byte sequences pass.
        #expect(readError("a\nÜ日🎉\n") == nil)
    }

    @Test("a UTF-16 file is named as such")
    func utf16() {
        let error = readError([0xFF, 0xFE, 0x61, 0x00, 0x0A, 0x00])
        #expect(error == CSVError(line: 1, reason: "the file is UTF-16 text, not UTF-8 (save it as \"CSV UTF-8\")"))
    }

    @Test("an empty file is an error")
    func emptyFile() {
        let expected = CSVError(line: 1, reason: "the file is empty")
        #expect(readError([]) == expected)
        #expect(readError(bomBytes) == expected)
        #expect(readError("\r\n\n\r") == expected)
    }

    @Test("a duplicate header name is an error, ignoring case and spaces")
    func duplicateHeader() {
        let error = readError("Email,Name, email \nx,y,z\n")
        #expect(error == CSVError(line: 1, reason: "column 3 of the header has the same name as column 1"))
        #expect(error?.description == "line 1: column 3 of the header has the same name as column 1")
        #expect(readError("\n\nName;Nom;NAME\n")?.line == 3)
    }

    @Test("an empty header name is an error")
    func emptyHeaderName() {
        #expect(readError("Name,,Email\n") == CSVError(line: 1, reason: "column 2 of the header has no name"))
        #expect(readError("Name,Email,\n") == CSVError(line: 1, reason: "column 3 of the header has no name"))
        #expect(readError("Name,\"  \"\n") == CSVError(line: 1, reason: "column 2 of the header has no name"))
    }
}

@Suite("CSVWriter")
struct CSVWriterTests {
    @Test("fields are quoted only when needed, with CRLF line ends")
    func quoting() {
        let bytes = CSVWriter.write(
            header: ["Name", "Note"],
            rows: [
                ["plain", "a,b"],
                ["say \"hi\"", "two\nlines"],
                [" lead", "trail "],
                ["cr\rinside", "a;b"],
                ["", "Zoë"],
            ])
        let expected =
            "Name,Note\r\nplain,\"a,b\"\r\n\"say \"\"hi\"\"\",\"two\nlines\"\r\n\" lead\",\"trail \"\r\n\"cr\rinside\",a;b\r\n,Zoë\r\n"
        #expect(text(bytes) == expected)
    }

    @Test("the separator decides what needs quotes")
    func semicolonAndTabSeparators() {
        let semicolons = CSVWriter.write(header: ["a", "b"], rows: [["1,5", "x;y"]], separator: semicolon)
        #expect(text(semicolons) == "a;b\r\n1,5;\"x;y\"\r\n")
        let tabs = CSVWriter.write(header: ["a", "b"], rows: [["x\ty", "1,5"]], separator: tab)
        #expect(text(tabs) == "a\tb\r\n\"x\ty\"\t1,5\r\n")
    }

    @Test("formula-like fields get a leading single quote, negative numbers included")
    func formulaPrefix() {
        let bytes = CSVWriter.write(
            header: ["f"],
            rows: [["=SUM(A1)"], ["-5"], ["+33 6 12 34 56 78"], ["@cmd"], ["\tx"], ["\r"], ["a=b"], ["'quoted"], ["=1,2"]])
        let expected = "f\r\n'=SUM(A1)\r\n'-5\r\n'+33 6 12 34 56 78\r\n'@cmd\r\n'\tx\r\n\"'\r\"\r\na=b\r\n'quoted\r\n\"'=1,2\"\r\n"
        #expect(text(bytes) == expected)
        // The header gets the same treatment, and the prefix survives reading back.
        let header = CSVWriter.write(header: ["-id"], rows: [])
        #expect(text(header) == "'-id\r\n")
    }

    @Test("a record that would be an empty line is written as a quoted empty field")
    func emptyRecord() throws {
        let bytes = CSVWriter.write(header: ["only"], rows: [[""], ["x"], []])
        #expect(text(bytes) == "only\r\n\"\"\r\nx\r\n\"\"\r\n")
        let table = try CSVReader.read(bytes)
        #expect(table.rows.map(\.fields) == [[""], ["x"], [""]])
        #expect(table.rows.map(\.line) == [2, 3, 4])
    }

    @Test("the BOM option prepends EF BB BF")
    func bomOption() throws {
        let with = CSVWriter.write(header: ["a"], rows: [["1"]], bom: true)
        #expect(with == bomBytes + Array("a\r\n1\r\n".utf8))
        let without = CSVWriter.write(header: ["a"], rows: [["1"]])
        #expect(without == Array("a\r\n1\r\n".utf8))
        #expect(try CSVReader.read(with).header == ["a"])
    }

    @Test("accented and non-Latin names round-trip byte-exactly")
    func unicodeRoundTrip() throws {
        let rows = [["Zoë", "Müller"], ["Łódź", "日本"], ["e\u{301}", "👩‍👩‍👧"]]
        for separator in [comma, semicolon, tab] {
            let bytes = CSVWriter.write(header: ["Prénom", "Ville"], rows: rows, separator: separator, bom: true)
            let table = try CSVReader.read(bytes)
            #expect(table.separator == separator)
            #expect(table.header == ["Prénom", "Ville"])
            #expect(table.rows.map { $0.fields.map { Array($0.utf8) } } == rows.map { $0.map { Array($0.utf8) } })
            // "e" + combining accent must not come back as the precomposed "é".
            #expect(Array(table.rows[2].fields[0].utf8) == [0x65, 0xCC, 0x81])
        }
    }

    @Test("write then read returns the same fields for random strings", arguments: [comma, semicolon, tab])
    func randomRoundTrip(separator: UInt8) throws {
        var generator = SplitMix(seed: 0x5EED + UInt64(separator))
        let pieces = [
            "a", "Z", "0", " ", "  ", "\"", "\"\"", ",", ";", "\t", "\r", "\n", "\r\n", "é", "Ł", "日本", "🎉", "'", "=", "-", "+", "@",
        ]
        let unsafeStarts: Set<String> = ["=", "-", "+", "@", "\t", "\r", "\r\n"]
        func field() -> String {
            var result = ""
            for position in 0..<Int.random(in: 0...6, using: &generator) {
                var piece = pieces[Int.random(in: 0..<pieces.count, using: &generator)]
                while position == 0 && unsafeStarts.contains(piece) {
                    piece = pieces[Int.random(in: 0..<pieces.count, using: &generator)]
                }
                result += piece
            }
            return result
        }
        let header = ["id", "name", "note"]
        var rows: [[String]] = []
        for _ in 0..<500 {
            rows.append((0..<Int.random(in: 1...5, using: &generator)).map { _ in field() })
        }
        for bom in [false, true] {
            let bytes = CSVWriter.write(header: header, rows: rows, separator: separator, bom: bom)
            for given in [nil, separator] {
                let table = try CSVReader.read(bytes, separator: given)
                #expect(table.separator == separator)
                #expect(table.header == header)
                #expect(table.rows.count == rows.count)
                let got = table.rows.map { $0.fields.map { Array($0.utf8) } }
                let want = rows.map { $0.map { Array($0.utf8) } }
                let firstDifference = zip(got, want).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                let detail = firstDifference.map { "row \($0) was written as \(rows[$0]) and read as \(table.rows[$0].fields)" } ?? ""
                #expect(firstDifference == nil, "\(detail)")
                // Line numbers follow the line breaks the writer put inside quoted fields.
                var expectedLines: [Int] = []
                var line = 2
                for row in rows {
                    expectedLines.append(line)
                    line += 1 + row.reduce(0) { $0 + lineBreaks(in: $1) }
                }
                let firstWrongLine = zip(table.rows.map(\.line), expectedLines).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                #expect(firstWrongLine == nil, "row \(firstWrongLine ?? -1) starts on the wrong line")
            }
        }
    }

    private func lineBreaks(in field: String) -> Int {
        let bytes = Array(field.utf8)
        var count = 0
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A || (byte == 0x0D && (index + 1 == bytes.count || bytes[index + 1] != 0x0A)) { count += 1 }
        }
        return count
    }
}

@Suite("CSV encodings")
struct CSVEncodingTests {
    /// `text` as Excel on Windows saves it ("CSV (séparateur: point-virgule)"): Windows-1252 bytes.
    static func windows1252(_ text: String) -> [UInt8] {
        let high: [Unicode.Scalar: UInt8] = [
            "€": 0x80, "„": 0x84, "…": 0x85, "Œ": 0x8C, "’": 0x92, "“": 0x93, "”": 0x94, "–": 0x96, "œ": 0x9C,
        ]
        return text.unicodeScalars.map { c -> UInt8 in
            if let b = high[c] { return b }
            precondition(c.value < 0x100, "\(c) is not in Windows-1252")
            return UInt8(c.value)
        }
    }

    @Test("an Excel sheet in Windows-1252 is converted, and named as such")
    func windows() throws {
        let bytes = Self.windows1252("Nom;Prénom;Société\r\nMüller;Zoë;Cœur d’Alène – 20 €\r\n")
        #expect(readError(bytes) != nil, "the strict reader still refuses it")
        let table = try CSVReader.readDetectingEncoding(bytes)
        #expect(table.encoding == .windows1252)
        #expect(table.header == ["Nom", "Prénom", "Société"])
        #expect(table.rows[0].fields == ["Müller", "Zoë", "Cœur d’Alène – 20 €"])
    }

    @Test("without bytes 0x80-0x9F the file is Latin-1; UTF-8 stays UTF-8")
    func latin1AndUTF8() throws {
        let latin = try CSVReader.readDetectingEncoding(Self.windows1252("nom,ville\nZoë Müller,Besançon\n"))
        #expect(latin.encoding == .latin1 && latin.rows[0].fields == ["Zoë Müller", "Besançon"])
        let utf8 = try CSVReader.readDetectingEncoding(Array("nom,ville\nZoë Müller,Besançon\n".utf8))
        #expect(utf8.encoding == .utf8 && utf8.rows[0].fields == ["Zoë Müller", "Besançon"])
        let bom = try CSVReader.readDetectingEncoding(bomBytes + Array("a\n€\n".utf8))
        #expect(bom.encoding == .utf8 && bom.rows[0].fields == ["€"])
    }

    @Test("damaged UTF-8 (well-formed accents beside a bad byte, or a BOM) is still an error on its line")
    func damagedUTF8() {
        for bytes in [Array("a\nZoë\nM".utf8) + [0xFC, 0x6C], bomBytes + Array("a\nb\n".utf8) + [0xE9]] {
            do {
                _ = try CSVReader.readDetectingEncoding(bytes)
                Issue.record("damaged UTF-8 was read")
            } catch {
                #expect(error.line == 3)
            }
        }
    }
}

@Suite("CSV performance")
struct CSVPerformanceTests {
    // How fast it reads is measured by the benchmarks ('aces bench'), not asserted here.
    @Test("a 10,000-row, 10-column file with quoted separators and line breaks reads whole")
    func largeFile() throws {
        var bytes = bomBytes
        bytes.append(contentsOf: Array("id;Prénom;Nom;Email;Téléphone;Ville;Pays;Note;Inscrit;Statut\r\n".utf8))
        for row in 1...10_000 {
            let line =
                "\(row);Zoë-\(row);\"Müller; \"\"Jr\"\"\";member\(row)@example.org;+33 6 12 34 \(row % 100);Łódź;"
                + "FR;\"note with ; separator\r\nand a second line for row \(row)\";2027-03-14T17:30:00Z;active member\r\n"
            bytes.append(contentsOf: Array(line.utf8))
        }
        #expect(bytes.count > 1_500_000)
        let result = try CSVReader.read(bytes)
        #expect(result.separator == semicolon)
        #expect(result.header.count == 10)
        #expect(result.rows.count == 10_000)
        #expect(result.rows.allSatisfy { $0.fields.count == 10 })
        let last = result.rows[9_999]
        #expect(last.line == 2 + 9_999 * 2)
        #expect(last.fields[2] == "Müller; \"Jr\"")
        #expect(last.value("ville", in: result.header) == "Łódź")
        #expect(last.fields[7] == "note with ; separator\r\nand a second line for row 10000")
    }
}
