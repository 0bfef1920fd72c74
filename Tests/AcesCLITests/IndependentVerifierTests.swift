import AcesCore
import AcesDevTools
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import GRDB
import Testing

/// Runs python3 for the independent verifier.
enum Python {
    static var available: Bool {
        (try? run(["-c", "import cryptography, tomllib"], input: Data()).status) == 0
    }

    static func run(_ args: [String], input: Data) throws -> (status: Int32, out: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3"] + args
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        p.standardError = outPipe
        try p.run()
        // Written on a thread of its own: a large export fills the pipe before python reads it all.
        let writer = inPipe.fileHandleForWriting
        Thread.detachNewThread {
            writer.write(input)
            try? writer.close()
        }
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }

    /// docs/verify_log.py on `export` with the roster folder `chapters`.
    static func verify(_ export: String, chapters: String) async throws -> (status: Int32, out: String) {
        let script = repositoryRoot.appendingPathComponent("docs/verify_log.py").path
        return try await onOwnThread { Result { try run([script, chapters], input: Data(export.utf8)) } }.get()
    }

    static var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }
}

/// `aces log export` writes the entries as they travel, and docs/verify_log.py verifies them from
/// the protocol document alone (Python's hashlib and `cryptography`), naming a tampered entry as
/// `aces log verify` names it on a node whose stored entry was tampered the same way.
@Suite(.enabled(if: Python.available, "needs python3 (3.11+) with the cryptography package"))
struct IndependentVerifierTests {
    let dir = TempDir()
    var fed: String { dir.file("fed") }

    func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args) }

    func ok(_ args: String...) async throws -> String {
        let r = try await AcesProcess.runAsync(args)
        #expect(r.status == 0, "aces \(args.joined(separator: " ")): \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func create(_ chapters: String, nodes: Int) async throws {
        _ = try await ok("federation", "create", "--dir", fed, "--chapters", chapters, "--base-port", String(freeBasePort(2 * nodes)))
    }

    func export(_ node: String, _ extra: String...) async throws -> AcesProcess.Result {
        try await AcesProcess.runAsync(["log", "export", "--data", fed + "/" + node] + extra)
    }

    /// The origins an export holds.
    func origins(_ export: String) -> Set<Substring> {
        Set(
            export.split(separator: "\n").compactMap { line in
                line.range(of: #""origin":""#).map { line[$0.upperBound...].prefix { $0 != "\"" } }
            })
    }

    /// Syncs every node from the others until all export the same log, holding `origins` origins.
    func converge(_ nodes: [String], origins count: Int) async throws -> Bool {
        for _ in 0..<150 {
            for n in nodes { _ = try await aces("sync", "--data", fed + "/" + n) }
            var exports = Set<String>()
            for n in nodes { exports.insert(try await export(n).stdout) }
            if exports.count == 1, origins(exports.first!).count == count { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    @Test func aRealFederationsExportIsTheSameOnEveryNodeAndVerifiesWithPython() async throws {
        try await create("fr,uk,de", nodes: 3)
        var ids = [String]()
        for n in 0..<3 {
            ids.append(try await ok("member", "add", "--data", fed + "/fr", "--email", "p\(n)@example.org", "--name", "Zoë \(n)"))
        }
        _ = try await ok("member", "add", "--data", fed + "/uk", "--email", "u@example.org", "--name", "Una", "--city", "Leeds")
        _ = try await ok("member", "add", "--data", fed + "/de", "--email", "d@example.org", "--name", "Dieter", "--city", "Köln")
        let servers = try ["fr", "uk", "de"].map { try AcesProcess.start(["serve", "--data", fed + "/" + $0]) }
        defer { for s in servers { s.stop() } }
        #expect(try await converge(["fr", "uk", "de"], origins: 3))
        // fr lets uk edit its member, uk edits it (a base of another origin); fr erases another (its
        // payload becomes null).
        _ = try await ok("member", "grant", ids[0], "--data", fed + "/fr", "--chapter", "uk")
        #expect(try await converge(["fr", "uk", "de"], origins: 3))
        _ = try await ok("member", "update", ids[0], "--data", fed + "/uk", "--city", "Bordeaux")
        _ = try await ok("member", "erase", ids[1], "--data", fed + "/fr", "--reason", "request 4711")
        #expect(try await converge(["fr", "uk", "de"], origins: 3))

        let log = try await export("de")
        #expect(log.status == 0 && log.stderr.isEmpty, "\(log.stderr)")
        let lines = log.stdout.split(separator: "\n")
        #expect(lines.count == 8)
        #expect(lines.allSatisfy { $0.hasPrefix(#"{"envelope":{"#) && $0.contains(#"},"payloads":["#) && $0.hasSuffix(#""}"#) })
        // The erased member's set travels without its values, and the erase that allows it with it.
        #expect(lines.contains { $0.contains(#""act":"erase""#) })
        #expect(lines.contains { $0.contains(#""act":"set""#) && $0.contains(#","payloads":[null],"#) })
        let good = try await Python.verify(log.stdout, chapters: fed + "/chapters")
        #expect(good.status == 0 && good.out.contains("ok: 8 entries of 3 origin(s) verified"), "\(good.out)")

        // One origin, into a file; the verifier reads the file too.
        let file = dir.file("fr.ndjson")
        _ = try await ok("log", "export", "--data", fed + "/uk", "--origin", "fr", "--output", file)
        let frOnly = try String(contentsOfFile: file, encoding: .utf8)
        #expect(frOnly == lines.filter { $0.contains(#""origin":"fr""#) }.map { $0 + "\n" }.joined())
        let script = Python.repositoryRoot.appendingPathComponent("docs/verify_log.py").path
        let fromFile = try Python.run([script, fed + "/chapters", file], input: Data())
        #expect(fromFile.status == 0 && fromFile.out.contains("ok: 5 entries of 1 origin(s)"), "\(fromFile.out)")

        // PROTOCOL.md's own sketch verifies the same export.
        let protocolText = try String(
            contentsOf: Python.repositoryRoot.appendingPathComponent("docs/PROTOCOL.md"), encoding: .utf8)
        let sketch = try #require(
            protocolText.components(separatedBy: "```python\n").dropFirst().first?.components(separatedBy: "```").first)
        let roster = try Roster.load(from: fed + "/chapters")
        let frKey = try #require(roster.profile(ChapterID("fr")!)?.keys.first?.publicKey)
        let ran = try Python.run(
            ["-c", sketch + "\nimport sys\nverify([json.loads(l) for l in sys.stdin], sys.argv[1])\nprint('sketch ok')", frKey],
            input: Data(frOnly.utf8))
        #expect(ran.status == 0 && ran.out.contains("sketch ok"), "\(ran.out)")
    }

    /// The bad entry both verifiers name: `fr:2` of `… fr:2: reason` or `entry fr:2: reason`.
    func named(_ text: String) -> String? {
        guard let r = text.range(of: #"fr:[0-9]+:"#, options: .regularExpression) else { return nil }
        return String(text[r].dropLast())
    }

    @Test func aTamperedExportIsNamedAsLogVerifyNamesTheSameTamperedStoredEntry() async throws {
        try await create("fr,uk", nodes: 2)
        let node = fed + "/fr"
        for n in 0..<4 {
            _ = try await ok("member", "add", "--data", node, "--email", "p\(n)@example.org", "--name", "Member \(n)")
        }
        let exported = try await ok("log", "export", "--data", node) + "\n"
        let lines = exported.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.count == 5 && lines[1].contains(#""seq":2,"#))
        let good = try await Python.verify(exported, chapters: fed + "/chapters")
        #expect(good.status == 0 && good.out.contains("ok: 4 entries of 1 origin(s)"), "\(good.out)")

        /// Changes the stored entry fr:2 with SQLite directly; returns a function that puts it back.
        func tamperStored(_ sql: String, _ change: @escaping @Sendable (inout [UInt8]) -> Void) async throws
            -> @Sendable () async throws -> Void
        {
            let queue = try DatabaseQueue(path: node + "/aces.sqlite")
            defer { try? queue.close() }
            let (rowid, saved) = try await queue.write { db in
                let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM entries ORDER BY rowid LIMIT 1 OFFSET 1")!
                let saved = try Row.fetchOne(db, sql: "SELECT * FROM entries WHERE rowid = ?", arguments: [rowid])!
                if sql.hasPrefix("DELETE") {
                    try db.execute(sql: sql, arguments: [rowid])
                } else {
                    let column = sql.components(separatedBy: " ")[3]
                    var bytes = [UInt8](saved[column] as Data)
                    change(&bytes)
                    try db.execute(sql: sql, arguments: [Data(bytes), rowid])
                }
                return (rowid, Array(zip(saved.columnNames, saved.databaseValues)))
            }
            return { [node] in
                let queue = try DatabaseQueue(path: node + "/aces.sqlite")
                defer { try? queue.close() }
                try await queue.write { db in
                    try db.execute(sql: "DELETE FROM entries WHERE rowid = ?", arguments: [rowid])
                    try db.execute(
                        sql:
                            "INSERT INTO entries(\(saved.map(\.0).joined(separator: ", "))) VALUES (\(saved.map { _ in "?" }.joined(separator: ", ")))",
                        arguments: StatementArguments(saved.map(\.1)))
                }
            }
        }
        let signature = try #require(lines[1].range(of: #""signature":""#))
        var sig = try #require(Base64URL.decode(String(lines[1][signature.upperBound...].dropLast(2))))
        sig[0] ^= 0x01
        let cases: [(name: String, line: String?, sql: String, change: @Sendable (inout [UInt8]) -> Void, expected: String)] = [
            (
                "a byte of a value", lines[1].replacingOccurrences(of: "Member 1", with: "Member 7"),
                "UPDATE entries SET payloads = ? WHERE rowid = ?",
                { b in b = Array(String(decoding: b, as: UTF8.self).replacingOccurrences(of: "Member 1", with: "Member 7").utf8) }, "fr:2"
            ),
            (
                "a byte of a signature", String(lines[1][..<signature.upperBound]) + Base64URL.encode(sig) + "\"}",
                "UPDATE entries SET signature = ? WHERE rowid = ?", { b in b[0] ^= 0x01 }, "fr:2"
            ),
            ("a dropped line", nil, "DELETE FROM entries WHERE rowid = ?", { _ in }, "fr:3"),
        ]
        for c in cases {
            var tampered = lines
            if let line = c.line { tampered[1] = line } else { tampered.remove(at: 1) }
            let text = tampered.joined(separator: "\n")
            #expect(text != exported, "\(c.name): the export must change")
            let py = try await Python.verify(text, chapters: fed + "/chapters")
            #expect(py.status == 1, "\(c.name): \(py.out)")
            #expect(named(py.out) == c.expected, "\(c.name): \(py.out)")

            let restore = try await tamperStored(c.sql, c.change)
            let verify = try await aces("log", "verify", "--data", node)
            #expect(verify.status != 0 && named(verify.stdout) == named(py.out), "\(c.name): \(verify.stdout) vs \(py.out)")
            // The tampered node exports exactly the tampered export: the stored bytes, as they are.
            #expect(try await AcesProcess.runAsync(["log", "export", "--data", node]).stdout == text, "\(c.name)")
            try await restore()
            #expect(try await aces("log", "verify", "--data", node).status == 0, "\(c.name): restored")
        }
    }
}

/// docs/verify_log.py applies the ownership rule of PROTOCOL.md §2 from the export alone, and lists
/// exactly the operations a node refuses for it.
@Suite(.enabled(if: Python.available, "needs python3 (3.11+) with the cryptography package"))
struct IndependentOwnershipTests {
    @Test func thePythonVerifierRefusesWhatANodeRefuses() async throws {
        let dir = TempDir()
        let clock = ManualClock()
        let fr = try TestNode("fr", in: dir, clock: clock), uk = try TestNode("uk", in: dir, clock: clock)
        let de = try TestNode("de", in: dir, clock: clock)
        let keys = keyRing([fr, uk, de])
        let a = fr.newID(), b = fr.newID()
        try fr.write([.set(.member, id: a, values: TestNode.member(1)), .set(.member, id: b, values: TestNode.member(2))])
        try sync(from: fr, to: uk, keys: keys)
        try uk.writeUnchecked(.set(.member, id: a, values: ["city": "Leeds"]), keys: keys)  // refused
        try fr.write([.grant(.member, id: b, to: ChapterID("uk")!)])
        try sync(from: fr, to: uk, keys: keys)
        try uk.write([.set(.member, id: b, values: ["city": "York"])])  // allowed by the grant
        try uk.writeUnchecked(.delete(.member, id: b), keys: keys)  // beyond the grant
        try uk.writeUnchecked(.transfer(.member, id: a, to: ChapterID("de")!), keys: keys)  // not uk's to give
        try sync(from: uk, to: de, keys: keys)
        try sync(from: fr, to: de, keys: keys)
        let node = try await de.store.refusedOperations(limit: 100).map { "\($0.origin):\($0.seq)" }.sorted()
        #expect(node.count == 3)

        let chapters = dir.file("chapters")
        for n in [fr, uk, de] {
            try Roster.write(
                ChapterProfile(
                    id: n.chapter.rawValue, name: n.chapter.rawValue, country: "FR", timezone: "Europe/Paris",
                    keys: [RosterKey(id: n.author.keyID, publicKey: n.key.publicKey.base64url, validFrom: 0, validUntil: nil)]),
                to: chapters)
        }
        var export = ""
        for n in [fr, uk] {
            for e in try de.store.entries(of: n.chapter, after: 0, limit: 100) {
                export += String(decoding: CanonicalJSON.encode(e.json), as: UTF8.self) + "\n"
            }
        }
        let r = try await Python.verify(export, chapters: chapters)
        #expect(r.status == 0, "\(r.out)")
        let python = r.out.split(separator: "\n").filter { $0.hasPrefix("refused: ") }.map {
            String($0.dropFirst("refused: ".count).prefix { $0 != " " })
        }.sorted()
        #expect(python == node, "\(r.out)")
        #expect(r.out.contains("belongs to fr: uk may not change it"), "\(r.out)")
        #expect(r.out.contains("3 operation(s) refused for ownership"), "\(r.out)")
    }
}

/// In CI the independent verifier must run: a missing python3-cryptography fails there, loudly,
/// rather than skipping the suite above.
@Suite struct IndependentVerifierPrerequisiteTests {
    @Test func continuousIntegrationHasTheVerifiersPython() {
        guard ProcessInfo.processInfo.environment["CI"] != nil else { return }
        #expect(Python.available, "python3 (3.11+) with python3-cryptography is missing: the independent verifier did not run")
    }
}
