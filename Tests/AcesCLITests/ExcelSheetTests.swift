import AcesCore
import AcesTestSupport
import Foundation
import Testing

/// Spreadsheets as admins have them: written the way Excel (Windows-1252, CRLF, `;;;;` for an empty
/// row) and Google Sheets (UTF-8, comma, trailing cells left out) write them, in French, English and
/// German, imported through the real `aces` binary.
@Suite struct ExcelSheetTests {
    let dir = TempDir()
    var data: String { dir.file("fr") }

    func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args + ["--data", data]) }

    func initNode() async throws {
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
    }

    /// `text` as Excel on Windows saves "CSV (séparateur: point-virgule)": Windows-1252 bytes.
    static func windows1252(_ text: String) -> Data {
        let high: [Unicode.Scalar: UInt8] = ["€": 0x80, "’": 0x92, "–": 0x96, "œ": 0x9C, "Œ": 0x8C]
        return Data(
            text.unicodeScalars.map { c -> UInt8 in
                if let b = high[c] { return b }
                precondition(c.value < 0x100, "\(c) is not in Windows-1252")
                return UInt8(c.value)
            })
    }

    /// A French admin's member sheet from Excel: last name before first name, an empty row of
    /// separators every 500 rows, CRLF, Windows-1252.
    static func frenchExcelSheet(rows: Int, lastName: (Int) -> String = { "Martin-\($0)" }) -> Data {
        var s = "Nom;Prénom;E-mail;Ville;Société;Visibilité;Statut\r\n"
        for i in 0..<rows {
            s += "\(lastName(i));Zoë;zoe.\(i)@exemple.fr;Besançon;Cœur d’Artichaut – Conseil;membres;actif\r\n"
            if i % 500 == 499 { s += ";;;;;;\r\n" }
        }
        return windows1252(s)
    }

    @Test func aFiveThousandRowFrenchExcelSheetImportsWithFullNamesAndAgainChangesNothing() async throws {
        try await initNode()
        let file = dir.file("membres.csv")
        try Self.frenchExcelSheet(rows: 5_000).write(to: URL(fileURLWithPath: file))

        let first = try await aces("member", "import", file)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("adding 5000, updating 0, unchanged 0, invalid 0, empty rows skipped 10"), "\(first.stdout)")
        #expect(first.stdout.contains("membres.csv (Windows-1252, converted to UTF-8): adding 5000"), "\(first.stdout)")
        let json = try await aces("member", "export", "--format", "json").stdout
        #expect(json.contains("\"name\":\"Zoë Martin-1234\""), "first and last name make the name")
        #expect(json.contains("Cœur d’Artichaut – Conseil") && json.contains("\"visibility\":\"members\""))

        // The same sheet again changes nothing; so does this node's own export fed back.
        let log = try await aces("log", "show", "--json").stdout
        let again = try await aces("member", "import", file)
        #expect(again.status == 0 && again.stdout.contains("adding 0, updating 0, unchanged 5000"), "\(again.stdout)")
        let export = dir.file("export.csv")
        #expect(try await aces("member", "export", "--separator", "semicolon", "--bom", "--output", export).status == 0)
        let back = try await aces("member", "import", export)
        #expect(back.status == 0 && back.stdout.contains("adding 0, updating 0, unchanged 5000"), "\(back.stdout) \(back.stderr)")
        #expect(try await aces("log", "show", "--json").stdout == log)

        // Twelve renamed members: the dry run shows the first ten as old → new and counts the rest;
        // --verbose shows them all. Nothing is written.
        try Self.frenchExcelSheet(rows: 5_000, lastName: { $0 < 12 ? "Dupont-\($0)" : "Martin-\($0)" })
            .write(to: URL(fileURLWithPath: file))
        let dry = try await aces("member", "import", file, "--dry-run")
        #expect(dry.status == 0)
        #expect(dry.stdout.contains("would add 0, update 12, unchanged 4988"), "\(dry.stdout)")
        #expect(dry.stdout.contains("line 9: name: \"Zoë Martin-7\" → \"Zoë Dupont-7\""), "\(dry.stdout)")
        #expect(dry.stdout.contains("… and 2 more updates (--verbose shows them all); rows changing each field: name 12"))
        #expect(!dry.stdout.contains("line 13:"))
        let verbose = try await aces("member", "import", file, "--dry-run", "--verbose")
        #expect(verbose.stdout.contains("line 13: name: \"Zoë Martin-11\" → \"Zoë Dupont-11\"") && !verbose.stdout.contains("more updates"))
        #expect(try await aces("log", "show", "--json").stdout == log)
    }

    @Test func sheetsFromGoogleAndGermanExcelAndEnglishNamesImport() async throws {
        try await initNode()
        // Google Sheets: UTF-8, comma, a row whose trailing cells are left out, an empty row of commas.
        let google = dir.file("google.csv")
        try """
        First name,Last name,Email address,City,Visibility,Status,Notes
        Ann,Smith,ann@example.org,Leeds,public,active,
        Bob,Jones,bob@example.org
        ,,,,,,
        Cy,Long,cy@example.org,York,members,active,too,many

        """.write(toFile: google, atomically: true, encoding: .utf8)
        let g = try await aces("member", "import", google, "--skip-invalid")
        #expect(g.status == 0, "\(g.stderr)")
        #expect(g.stdout.contains("adding 2, updating 0, unchanged 0, invalid 1, empty rows skipped 1"), "\(g.stdout)")
        #expect(
            g.stderr.contains("line 5: has 8 cells where the header has 7")
                && g.stderr.contains("ignored columns (not member fields): Notes"))
        // German Excel: Latin-1 bytes (no byte in 0x80-0x9F), German header and values.
        let german = dir.file("mitglieder.csv")
        try Self.windows1252(
            "Vorname;Nachname;E-Mail-Adresse;Stadt;Firma;Sichtbarkeit;Status\r\nJürgen;Groß;j@example.de;Köln;Bäckerei Groß;Mitglieder;aktiv\r\n"
        )
        .write(to: URL(fileURLWithPath: german))
        let d = try await aces("member", "import", german)
        #expect(d.status == 0 && d.stdout.contains("adding 1"), "\(d.stderr)")
        #expect(d.stdout.contains("mitglieder.csv (Latin-1 (ISO-8859-1), converted to UTF-8): adding 1"), "\(d.stdout)")
        let json = try await aces("member", "export", "--format", "json").stdout
        for name in ["Ann Smith", "Bob Jones", "Jürgen Groß", "Bäckerei Groß"] { #expect(json.contains(name), "\(name)") }
        #expect(!json.contains("Cy Long"))
    }

    @Test func refusedImportsExitOneWithTheirSentenceAndNoUsage() async throws {
        try await initNode()
        let bad = dir.file("bad.csv")
        try "email;name;visibility\r\nok@example.org;Ok;public\r\nnot-an-email-zq7;Bad;public\r\n".write(
            toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await aces("member", "import", bad)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("line 3:") && refused.stderr.contains("1 invalid row(s): nothing was written"))
        #expect(!refused.stdout.contains("adding"), "a refused import does not announce what it is not doing")
        let dry = try await aces("member", "import", bad, "--dry-run")
        #expect(dry.status == 1 && dry.stdout.contains("would add 1") && dry.stderr.contains("the import would write nothing"))

        let jsonExport = dir.file("members.json")
        #expect(try await aces("member", "export", "--format", "json", "--output", jsonExport).status == 0)
        let unclosed = dir.file("unclosed.csv")
        try "email,name\n\"a@example.org,Ann\n".write(toFile: unclosed, atomically: true, encoding: .utf8)
        for (file, sentence) in [
            (bad, "nothing was written"), (dir.file("missing.csv"), "cannot read"), (jsonExport, "is a JSON file"),
            (unclosed, "line 2: a quoted field is not closed"),
        ] {
            let r = try await aces("member", "import", file)
            #expect(r.status == 1 && r.stderr.contains(sentence), "\(file): \(r.stderr)")
            #expect(!r.stderr.contains("Usage:") && !r.stderr.contains("not-an-email-zq7"), "\(file): \(r.stderr)")
        }
        // A wrong command line still gets the usage.
        let usage = try await aces("member", "import", bad, "--separator", "pipe")
        #expect(usage.status == 64 && usage.stderr.contains("Usage:"))
    }

    @Test func frenchAndGermanEventSheetsImportTheirDatesValuesAndCapacity() async throws {
        try await initNode()
        let french = dir.file("evenements.csv")
        try Self.windows1252(
            """
            Titre;Début;Fin;Fuseau horaire;Lieu;Capacité;Statut\r
            Soirée Lyon;14/03/2031 18:30;14/03/2031 21:00;Europe/Paris;Le Loft;80;prévu\r
            Atelier;02/04/2031 9h30;02/04/2031 12h;Europe/Paris;Station F;25;annulé\r
            ;03/04/2031 9:30;03/04/2031 12:00;Europe/Paris;Sans titre;;\r
            Mauvaise date;31/02/2031 9:30;tomorrow;Europe/Paris;;;\r
            ;;;;;;\r

            """
        ).write(to: URL(fileURLWithPath: french))
        let refused = try await aces("event", "import", french)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("line 4: title is required"), "an empty title is refused as by event add: \(refused.stderr)")
        #expect(refused.stderr.contains("line 5: start is not a date and time like 2031-03-14 18:30"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("T18:30") && !refused.stderr.contains("Usage:"))
        let imported = try await aces("event", "import", french, "--skip-invalid")
        #expect(imported.status == 0 && imported.stdout.contains("adding 2, updating 0, unchanged 0, invalid 2, empty rows skipped 1"))
        let csv = try await aces("event", "export").stdout
        #expect(csv.contains("Soirée Lyon,2031-03-14 18:30,2031-03-14 21:00,Europe/Paris,Le Loft,,80,scheduled"), "\(csv)")
        #expect(csv.contains("Atelier,2031-04-02 09:30,2031-04-02 12:00,Europe/Paris,Station F,,25,cancelled"), "\(csv)")

        let german = dir.file("termine.csv")
        try
            "Titel;Beginn;Ende;Zeitzone;Ort;Kapazität;Status\r\nStammtisch;14.03.2031 18:30;14.03.2031 21:00 Uhr;Europe/Berlin;Köln;40;geplant\r\n"
            .write(toFile: german, atomically: true, encoding: .utf8)
        let g = try await aces("event", "import", german)
        #expect(g.status == 0 && g.stdout.contains("adding 1"), "\(g.stderr)")
        #expect(try await aces("event", "export").stdout.contains("Stammtisch,2031-03-14 18:30,2031-03-14 21:00,Europe/Berlin,Köln,,40"))
        #expect(try await aces("event", "import", german).stdout.contains("adding 0, updating 0, unchanged 1"))
    }
}
