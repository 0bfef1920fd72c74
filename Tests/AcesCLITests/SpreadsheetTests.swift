import AcesCore
import AcesFormats
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AcesWorkflows
import Foundation
import Testing

/// Spreadsheets in and out, through the real `aces` binary on a real node.
@Suite struct SpreadsheetTests {
    let dir = TempDir()
    var data: String { dir.file("fr") }

    func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args + ["--data", data]) }

    func initNode() async throws {
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
    }

    /// A French export: BOM, semicolons, accented names, a quoted cell holding a semicolon.
    func frenchFile(rows: Int, renamed: Set<Int> = []) -> String {
        var s = "\u{FEFF}Courriel;Nom;Organisation;Fonction;Ville;Pays;Visibilité\r\n"
        for i in 0..<rows {
            let name = renamed.contains(i) ? "Zoë Renommée \(i)" : "Zoë Müller-Łukasz \(i)"
            s += "zoe.\(i)@exemple.fr;\(name);\"Agence Lumière; Lyon\";Chargée de communication;Lyon;fr;public\r\n"
        }
        return s
    }

    @Test func tenThousandFrenchRowsImportOnceAndOnlyOnce() async throws {
        try await initNode()
        let file = dir.file("membres.csv")
        try frenchFile(rows: 10_000).write(toFile: file, atomically: true, encoding: .utf8)

        let first = try await aces("member", "import", file)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("adding 10000, updating 0, unchanged 0, invalid 0"))
        #expect(!first.stderr.contains("Importing ["), "no progress bar when piped")
        let found = try await aces("member", "list", "--query", "Łukasz 1234", "--json")
        #expect(found.stdout.contains("Zoë Müller-Łukasz 1234") && found.stdout.contains("Agence Lumière; Lyon"))
        // One admin action: 32 members per signed entry, every one verified.
        #expect(first.stdout.contains("Wrote 10000 changes in 313 signed entries."), "\(first.stdout)")
        let verify = try await aces("log", "verify")
        #expect(verify.status == 0 && verify.stdout.contains("ok: 313 entries"), "\(verify.stdout)")

        // The same file again changes nothing: no entry is written.
        let log = try await aces("log", "show", "--json").stdout
        let again = try await aces("member", "import", file)
        #expect(again.status == 0 && again.stdout.contains("adding 0, updating 0, unchanged 10000, invalid 0"))
        #expect(try await aces("log", "show", "--json").stdout == log)

        // A changed file changes just what changed.
        try frenchFile(rows: 10_000, renamed: [7, 8]).write(toFile: file, atomically: true, encoding: .utf8)
        let changed = try await aces("member", "import", file)
        #expect(changed.stdout.contains("adding 0, updating 2, unchanged 9998, invalid 0"))
    }

    @Test func anImportRefusedWhileItWritesWritesNothing() async throws {
        try await initNode()
        let file = dir.file("membres.csv")
        try frenchFile(rows: 3_000).write(toFile: file, atomically: true, encoding: .utf8)
        // The sheet is checked, then another admin adds the member of line 2,902 before it is written.
        let node = try NodeDirectory.open(data)
        let store = try node.openStore()
        let plan = try MemberImport.plan(
            CSVReader.read(Array(try Data(contentsOf: URL(fileURLWithPath: file)))), chapter: node.chapter, store: store)
        #expect(plan.problems.isEmpty && plan.added.count == 3_000)
        let editor = Editor(directory: node, store: store)
        let other = try editor.addMember(["email": "zoe.2900@exemple.fr", "name": "Zoë Ailleurs"]).id
        let log = try await aces("log", "show", "--json").stdout
        #expect(throws: StoreError.duplicateEmail(existing: other, line: 2_902)) { try plan.apply(editor) }
        // Nothing of the import was written: not its first 2,900 members either.
        #expect(try await aces("log", "show", "--json").stdout == log)
        let list = try await aces("member", "list", "--json")
        #expect(try JSONParser.parse(Array(list.stdout.utf8)).arrayValue?.count == 1)
        #expect(try await aces("member", "list", "--query", "Łukasz", "--json").stdout.contains("Zoë") == false)
    }

    @Test func aTerminalSeesAProgressBar() async throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        try await initNode()
        let file = dir.file("m.csv")
        try frenchFile(rows: 300).write(toFile: file, atomically: true, encoding: .utf8)
        // util-linux `script` runs the command on a pseudo-terminal, as a person's shell would.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", "\(AcesProcess.executable) member import \(file) --data \(data)", "/dev/null"]
        let out = Pipe()
        p.standardOutput = out
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("Importing [") && text.contains("300/300"))
    }

    @Test func invalidRowsAreListedByLineAndNothingIsWritten() async throws {
        try await initNode()
        let file = dir.file("bad.csv")
        try """
        email,name,country,visibility
        ok1@example.org,Ann One,FR,public
        not-an-email-secret-zq1,Bad Email,FR,public
        ok2@example.org,"Two, Ann",DE,members
        ok3@example.org,,FR,public
        ok4@example.org,Four,France,public
        ok1@example.org,Ann Again,FR,public
        ok5@example.org,Five,FR,everyone
        ok6@example.org,Six

        """.write(toFile: file, atomically: true, encoding: .utf8)
        let before = try await aces("log", "show", "--json").stdout
        let r = try await aces("member", "import", file)
        #expect(r.status != 0)
        for line in ["line 3:", "line 5:", "line 6:", "line 7: has the same email as line 2", "line 8:"] {
            #expect(r.stderr.contains(line), "\(line) is reported: \(r.stderr)")
        }
        #expect(!r.stderr.contains("secret-zq1"), "errors never repeat what was in the cell")
        #expect(r.stderr.contains("nothing was written"))
        #expect(try await aces("log", "show", "--json").stdout == before)

        let dry = try await aces("member", "import", file, "--dry-run", "--skip-invalid")
        let afterDry = try await aces("log", "show", "--json").stdout
        #expect(!r.stderr.contains("line 9:"), "a row missing its trailing cells has them empty")
        #expect(dry.status == 0 && dry.stdout.contains("would add 3") && afterDry == before)
        let skipping = try await aces("member", "import", file, "--skip-invalid")
        #expect(skipping.status == 0 && skipping.stdout.contains("adding 3"))
        #expect(try await aces("member", "list", "--json").stdout.contains("Two, Ann"))

        for (args, message) in [
            (["member", "import", dir.file("missing.csv")], "cannot read"),
            (["member", "import", file, "--separator", "pipe"], "--separator"),
        ] {
            let refused = try await AcesProcess.runAsync(args + ["--data", data])
            #expect(refused.status != 0 && refused.stderr.contains(message))
        }
        let noEmail = dir.file("noemail.csv")
        try "name,city\nAnn,Lyon\n".write(toFile: noEmail, atomically: true, encoding: .utf8)
        #expect(try await aces("member", "import", noEmail).stderr.contains("no email column"))
        let broken = dir.file("broken.csv")
        try "email,name\n\"a@example.org,Ann\n".write(toFile: broken, atomically: true, encoding: .utf8)
        let unclosed = try await aces("member", "import", broken)
        #expect(unclosed.status != 0 && unclosed.stderr.contains("line 2"))
    }

    @Test func exportsRoundTripAndCardsAndFeedsAreWritten() async throws {
        try await initNode()
        let file = dir.file("m.csv")
        try frenchFile(rows: 20).write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await aces("member", "import", file).status == 0)

        let out = dir.file("export.csv")
        let export = try await aces("member", "export", "--format", "csv", "--separator", "semicolon", "--bom", "--output", out)
        #expect(export.status == 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: out)
        #expect((attributes[.posixPermissions] as? Int) == 0o600, "an export of personal data is readable by its owner only")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(bytes.starts(with: [0xEF, 0xBB, 0xBF]))
        #expect(try await aces("member", "export", "--output", out).status != 0, "an export never overwrites a file")
        let back = try await aces("member", "import", out)
        #expect(back.stdout.contains("adding 0, updating 0, unchanged 20, invalid 0"), "\(back.stdout) \(back.stderr)")

        let cards = try await aces("member", "export", "--format", "vcf").stdout
        #expect(cards.components(separatedBy: "BEGIN:VCARD").count - 1 == 20 && cards.contains("EMAIL"))
        let json = try JSONParser.parse(Array(try await aces("member", "export", "--format", "json").stdout.utf8))
        #expect(json.arrayValue?.count == 20)

        let events = dir.file("events.csv")
        try """
        title;start;end;timezone;venue;capacity
        Meetup Lyon;2031-03-14 18:30;2031-03-14 21:00;Europe/Paris;"Le Loft; 2e étage";80
        Atelier vidéo;2031-04-02 09:30;2031-04-02 12:00;Europe/Paris;Station F;

        """.write(toFile: events, atomically: true, encoding: .utf8)
        let imported = try await aces("event", "import", events)
        #expect(imported.status == 0 && imported.stdout.contains("adding 2"), "\(imported.stderr)")
        #expect(try await aces("event", "import", events).stdout.contains("adding 0, updating 0, unchanged 2"))
        let csv = try await aces("event", "export", "--format", "csv").stdout
        #expect(csv.contains("2031-03-14 18:30") && csv.contains("\"Le Loft; 2e étage\"") == false || csv.contains("Le Loft; 2e étage"))
        let exportedEvents = dir.file("events-out.csv")
        #expect(try await aces("event", "export", "--output", exportedEvents).status == 0)
        #expect(try await aces("event", "import", exportedEvents).stdout.contains("unchanged 2"))
        let ics = try await aces("event", "export", "--format", "ics").stdout
        #expect(ics.contains("DTSTART;TZID=Europe/Paris:20310314T183000") && ics.hasSuffix("END:VCALENDAR\r\n"))
    }
}
