import AcesCore
import AcesTestSupport
import Foundation
import GRDB
import Testing

/// `aces log show` and `aces log export` on a node with one damaged stored entry: the entry is
/// named `origin:seq`, the others are still shown or exported, and the command exits non-zero.
@Suite struct LogExportTests {
    let dir = TempDir()
    var node: String { dir.file("fed/fr") }

    func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args + ["--data", node]) }

    /// A node of fr with three entries, whose stored entry fr:2 has payloads that are not JSON.
    func nodeWithADamagedEntry() async throws {
        #expect(
            try await AcesProcess.runAsync([
                "federation", "create", "--dir", dir.file("fed"), "--chapters", "fr,uk", "--base-port", String(freeBasePort()),
            ]).status == 0)
        for n in 0..<3 { #expect(try await aces("member", "add", "--email", "p\(n)@example.org", "--name", "Member \(n)").status == 0) }
        let queue = try DatabaseQueue(path: node + "/aces.sqlite")
        try await queue.write { db in
            let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM entries ORDER BY rowid LIMIT 1 OFFSET 1")!
            try db.execute(sql: "UPDATE entries SET payloads = ? WHERE rowid = ?", arguments: [Data(#"[{"salt":"#.utf8), rowid])
        }
        try queue.close()
    }

    @Test func logShowNamesADamagedEntryAndShowsTheOthers() async throws {
        try await nodeWithADamagedEntry()
        let text = try await aces("log", "show")
        #expect(text.status != 0)
        #expect(text.stdout.contains("fr:1  ") && text.stdout.contains("fr:3  "), "\(text.stdout)")
        #expect(text.stdout.contains("fr:2  DAMAGED: "), "\(text.stdout)")
        #expect(text.stderr.contains("stored entry fr:2 is damaged") && !text.stderr.contains("row"), "\(text.stderr)")

        let json = try await aces("log", "show", "--json")
        #expect(json.status != 0 && json.stderr.contains("fr:2"), "\(json.stderr)")
        #expect(try JSONParser.parse(Array(json.stdout.utf8)).arrayValue?.map { $0["seq"] } == [1, 3])
    }

    @Test func logExportNamesADamagedEntryAndExportsTheOthers() async throws {
        try await nodeWithADamagedEntry()
        let r = try await aces("log", "export")
        #expect(r.status != 0)
        #expect(r.stderr.contains("fr:2") && r.stderr.contains("the stored payloads are not a JSON array"), "\(r.stderr)")
        let seqs = r.stdout.split(separator: "\n").map { try? JSONParser.parse(Array($0.utf8))["envelope"]?["seq"] }
        #expect(seqs == [1, 3])
    }

    @Test func logExportWritesANewPrivateFileAndRefusesAnOriginItDoesNotHold() async throws {
        #expect(
            try await AcesProcess.runAsync([
                "federation", "create", "--dir", dir.file("fed"), "--chapters", "fr,uk", "--base-port", String(freeBasePort()),
            ]).status == 0)
        #expect(try await aces("member", "add", "--email", "p@example.org", "--name", "Zoë").status == 0)
        let file = dir.file("fr.ndjson")
        #expect(try await aces("log", "export", "--output", file).status == 0)
        let written = try String(contentsOfFile: file, encoding: .utf8)
        #expect(written == (try await aces("log", "export")).stdout && written.hasSuffix("\"}\n"))
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let again = try await aces("log", "export", "--output", file)
        #expect(again.status != 0 && again.stderr.contains("exists already"), "\(again.stderr)")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == written)
        let unknown = try await aces("log", "export", "--origin", "de")
        #expect(unknown.status != 0 && unknown.stdout.isEmpty && unknown.stderr.contains("holds no entries of 'de'"), "\(unknown.stderr)")
    }
}
