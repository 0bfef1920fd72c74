import AcesCore
import AcesDevTools
import AcesTestSupport
import Foundation
import GRDB
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The `aces` executable, run as a chapter admin would run it.
@Suite struct CLIFoundationTests {
    let dir = TempDir()
    var data: String { dir.file("fr") }

    func aces(_ args: String...) async throws -> AcesProcess.Result { try await AcesProcess.runAsync(args) }

    func ok(_ args: String...) async throws -> String {
        let r = try await AcesProcess.runAsync(args)
        #expect(r.status == 0, "aces \(args.joined(separator: " ")) failed: \(r.stderr)")
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func initNode() async throws { _ = try await ok("init", "--data", data, "--chapter", "fr") }

    /// What a write would change: the state digest and every origin's head.
    func snapshot() async throws -> String {
        try await ok("status", "--data", data, "--json") + (try await ok("digest", "--data", data))
    }

    @Test func initCreatesANodeWithAnOwnerOnlyKeyAndRefusesToOverwrite() async throws {
        try await initNode()
        let keys = try FileManager.default.contentsOfDirectory(atPath: data + "/keys")
        #expect(keys.count == 1)
        let mode = try FileManager.default.attributesOfItem(atPath: data + "/keys/" + keys[0])[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let again = try await aces("init", "--data", data, "--chapter", "fr")
        #expect(again.status != 0)
        #expect(again.stderr.contains("already holds an Aces node"))
    }

    @Test func membersAndEventsAreSignedEntriesThatVerify() async throws {
        try await initNode()
        let id = try await ok("member", "add", "--data", data, "--email", "zoe@example.fr", "--name", "Zoë Martin", "--city", "Lyon")
        #expect(RecordID.isValid(id))
        _ = try await ok("member", "update", id, "--data", data, "--city", "Marseille", "--organisation", "Agence Nova")
        let show = try JSONParser.parse(try await ok("member", "show", id, "--data", data, "--json"))
        #expect(show["city"] == "Marseille" && show["organisation"] == "Agence Nova" && show["chapter"] == "fr")
        let event = try await ok(
            "event", "add", "--data", data, "--title", "Meetup Lyon", "--start", "2027-03-14T18:30", "--end", "2027-03-14T21:00",
            "--tz", "Europe/Paris")
        let shown = try await ok("event", "show", event, "--data", data)
        #expect(shown.contains("2027-03-14 18:30 CET"))
        let ev = try JSONParser.parse(try await ok("event", "show", event, "--data", data, "--json"))
        #expect(ev["start"] == "2027-03-14T17:30:00Z")
        _ = try await ok("event", "cancel", event, "--data", data)
        let list = try JSONParser.parse(try await ok("event", "list", "--data", data, "--json"))
        #expect(list.arrayValue?.first?["status"] == "cancelled")
        let members = try JSONParser.parse(try await ok("member", "list", "--data", data, "--json", "--query", "marseille"))
        #expect(members.arrayValue?.map { $0["id"] } == [.string(id)])
        // Case and accents folded, as on the directory's pages: "ZOE mart" finds Zoë Martin; "zoë x" nothing.
        let folded = try JSONParser.parse(try await ok("member", "list", "--data", data, "--json", "--query", "ZOE mart"))
        #expect(folded.arrayValue?.map { $0["id"] } == [.string(id)])
        #expect(
            try JSONParser.parse(try await ok("member", "list", "--data", data, "--json", "--query", "zoë x")).arrayValue?.isEmpty == true)
        #expect(try await ok("log", "verify", "--data", data).hasPrefix("ok: 4 entries"))
        let log = try JSONParser.parse(try await ok("log", "show", "--data", data, "--json"))
        #expect(log.arrayValue?.map { $0["seq"] } == [1, 2, 3, 4])
        #expect(!(try await ok("log", "show", "--data", data)).contains("zoe@example.fr"), "log show must not print values")
        _ = try await ok("member", "remove", id, "--data", data)
        #expect(try await ok("member", "list", "--data", data).contains(id) == false)
    }

    @Test func flippingOneByteOfAStoredEntryFailsVerificationAndNamesIt() async throws {
        try await initNode()
        for n in 0..<3 {
            _ = try await ok("member", "add", "--data", data, "--email", "m\(n)@example.org", "--name", "Member \(n)")
        }
        let queue = try DatabaseQueue(path: data + "/aces.sqlite")
        try await queue.write { db in
            let rowid = try Int64.fetchOne(db, sql: "SELECT rowid FROM entries ORDER BY rowid LIMIT 1 OFFSET 1")!
            var bytes = [UInt8](try Data.fetchOne(db, sql: "SELECT envelope FROM entries WHERE rowid = ?", arguments: [rowid])!)
            bytes[40] ^= 0x04
            try db.execute(sql: "UPDATE entries SET envelope = ? WHERE rowid = ?", arguments: [Data(bytes), rowid])
        }
        try queue.close()
        let r = try await aces("log", "verify", "--data", data)
        #expect(r.status != 0)
        #expect(r.stdout.contains("entry fr:2"))
        #expect(r.stderr.contains("fr:2"))
    }

    @Test func badInputIsRefusedWithOneSentenceAndNothingWritten() async throws {
        try await initNode()
        let id = try await ok("member", "add", "--data", data, "--email", "ann@example.org", "--name", "Ann")
        let before = try await snapshot()
        let unknown = "01969a2e-1c00-7000-8000-00000000ffff"
        let cases: [([String], String)] = [
            (["member", "add", "--data", data, "--email", "not-an-email", "--name", "X"], "not a valid email"),
            (["member", "add", "--data", data, "--name", "No Email"], "Missing expected argument '--email <email>'"),
            (["member", "add", "--data", data, "--email", "ANN@example.org", "--name", "Ann Again"], "already exists"),
            (["member", "add", "--data", data, "--email", "b@example.org", "--name", "B", "--visibility", "secret"], "must be one of"),
            // Limits count bytes: 67 characters of 3 bytes are 201.
            (
                ["member", "add", "--data", data, "--email", "c@example.org", "--name", String(repeating: "李", count: 67)],
                "--name must be at most 200 bytes of UTF-8 (this one has 201)"
            ),
            (
                ["member", "add", "--data", data, "--email", "d@example.org", "--name", "Zoe" + String(repeating: "\u{301}", count: 7)],
                "combining marks"
            ),
            (["member", "update", unknown, "--data", data, "--city", "Lyon"], "no member with id"),
            (["member", "update", "42", "--data", data, "--city", "Lyon"], "is not a member id"),
            (["member", "update", id, "--data", data], "at least one field"),
            (["member", "remove", unknown, "--data", data], "no member with id"),
            (
                [
                    "event", "add", "--data", data, "--title", "T", "--start", "2027-03-14T18:30", "--end", "2027-03-14T17:30", "--tz",
                    "Europe/Paris",
                ], "end after it starts"
            ),
            (
                [
                    "event", "add", "--data", data, "--title", "T", "--start", "2027-03-14T18:30", "--end", "2027-03-14T19:30", "--tz",
                    "Europe/Lutetia",
                ], "not a known IANA time zone"
            ),
            (
                ["event", "add", "--data", data, "--start", "2027-03-14T18:30", "--end", "2027-03-14T19:30", "--tz", "Europe/Paris"],
                "--title is required"
            ),
            (
                [
                    "event", "add", "--data", data, "--title", "T", "--start", "14/03/2027", "--end", "2027-03-14T19:30", "--tz",
                    "Europe/Paris",
                ], "is not a local time"
            ),
            (["event", "cancel", unknown, "--data", data], "no event with id"),
            (["member", "list", "--data", dir.path], "is not an Aces node"),
            (["member", "list"], "--data DIR or the ACES_DATA"),
            (["init", "--data", dir.file("x"), "--chapter", "France!"], "chapter id"),
        ]
        for (args, expected) in cases {
            let r = try await AcesProcess.runAsync(args)
            #expect(r.status != 0, "accepted: \(args)")
            #expect(r.stderr.contains(expected), "for \(args): \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error"), "crashed on \(args)")
        }
        #expect(try await snapshot() == before)
        #expect(!FileManager.default.fileExists(atPath: dir.file("x")))
    }

    @Test func aKeyFileReadableByOthersIsRefused() async throws {
        try await initNode()
        let keys = try FileManager.default.contentsOfDirectory(atPath: data + "/keys")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: data + "/keys/" + keys[0])
        let r = try await aces("member", "add", "--data", data, "--email", "a@example.org", "--name", "A")
        #expect(r.status != 0)
        #expect(r.stderr.contains("readable by others"))
    }

    @Test func theDataDirectoryCanComeFromTheEnvironment() async throws {
        try await initNode()
        let r = try await AcesProcess.runAsync(["status", "--json"], environment: ["ACES_DATA": data])
        #expect(r.status == 0)
        #expect(try JSONParser.parse(r.stdout)["chapter"] == "fr")
    }

    @Test func everyCommandExplainsItself() async throws {
        for cmd in [[], ["init"], ["member"], ["member", "add"], ["event", "add"], ["log", "verify"], ["digest"], ["status"]] {
            let r = try await AcesProcess.runAsync(cmd + ["--help"])
            #expect(r.status == 0)
            #expect(r.stdout.contains("USAGE") || r.stdout.contains("Usage"))
        }
    }
}

@Suite struct CLIFederationTests {
    @Test func theDemoStartsThreeNodesThatConvergeAndStopsCleanly() async throws {
        let dir = TempDir()
        let port = freeBasePort(6)
        let r = try await AcesProcess.runAsync([
            "demo", "--dir", dir.file("demo"), "--members", "30", "--seconds", "0.5", "--base-port", String(port),
        ])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("All three nodes hold the same state"))
        #expect(r.stdout.contains("reached every other node in"))
        var digests = [String]()
        for c in ["fr", "uk", "de"] { digests.append(try await AcesProcess.runAsync(["digest", "--data", dir.file("demo/\(c)")]).stdout) }
        #expect(Set(digests).count == 1)
    }

    @Test func syncAndPeersWorkFromTheCommandLine() async throws {
        let dir = TempDir()
        let port = freeBasePort(4)
        let create = try await AcesProcess.runAsync([
            "federation", "create", "--dir", dir.file("fed"), "--chapters", "fr,uk", "--base-port", String(port),
        ])
        #expect(create.status == 0, "\(create.stderr)")
        let status = try JSONParser.parse(try await AcesProcess.runAsync(["status", "--json", "--data", dir.file("fed/fr")]).stdout)
        #expect(status["federation_url"]?.stringValue?.hasPrefix("https://127.0.0.1:") == true)
        #expect(status["public_url"]?.stringValue?.hasPrefix("http://127.0.0.1:") == true)
        // uk is not serving: one clear line per peer and a non-zero exit.
        let sync = try await AcesProcess.runAsync(["sync", "--data", dir.file("fed/fr")])
        #expect(sync.status != 0)
        #expect(sync.stdout.contains("uk is unreachable: it refused the connection at https://127.0.0.1:"), "\(sync.stdout)")
        let peers = try JSONParser.parse(try await AcesProcess.runAsync(["peers", "--json", "--data", dir.file("fed/fr")]).stdout)
        #expect(peers.arrayValue?.first?["peer"] == "uk")
        #expect(peers.arrayValue?.first?["last_error"]?.stringValue?.contains("unreachable") == true)
        let bad = try await AcesProcess.runAsync(["sync", "--data", dir.file("fed/fr"), "--peer", "es"])
        #expect(bad.status != 0 && bad.stderr.contains("not a peer"))
    }
}

@Suite struct CLIConflictTests {
    @Test func conflictCommandsExplainWhatIsMissing() async throws {
        let dir = TempDir()
        let data = dir.file("fr")
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
        let list = try await AcesProcess.runAsync(["conflicts", "list", "--data", data])
        #expect(list.status == 0 && list.stdout.contains("No open conflicts."))
        #expect(
            try await AcesProcess.runAsync(["conflicts", "list", "--data", data, "--json"]).stdout.trimmingCharacters(
                in: .whitespacesAndNewlines)
                == "[]")
        let cases: [([String], String)] = [
            (["conflicts", "resolve", "--data", data], "name the conflict's id"),
            (["conflicts", "resolve", "abc123", "--data", data], "exactly one of --take"),
            (["conflicts", "resolve", "abc123", "--take", "fr", "--value", "x", "--data", data], "exactly one of --take"),
            (["conflicts", "resolve", "abc123", "--take", "fr", "--data", data], "no open conflict"),
            (["conflicts", "resolve", "--all", "--data", data], "--strategy latest"),
            (["conflicts", "list", "--kind", "weird", "--data", data], "field, delete or duplicate"),
        ]
        for (args, expected) in cases {
            let r = try await AcesProcess.runAsync(args)
            #expect(r.status != 0, "accepted: \(args)")
            #expect(r.stderr.contains(expected), "for \(args): \(r.stderr)")
        }
        let all = try await AcesProcess.runAsync(["conflicts", "resolve", "--all", "--strategy", "latest", "--data", data])
        #expect(all.status == 0 && all.stdout.contains("Settled 0 conflict(s)"))
        #expect(try await AcesProcess.runAsync(["log", "verify", "--data", data]).stdout.contains("0 entries"))
    }
}

@Suite struct CLIErasureTests {
    @Test func eraseNeedsAReasonRemovesTheValuesAndReportsItsStatus() async throws {
        let dir = TempDir()
        let data = dir.file("fr")
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
        let id = try await AcesProcess.runAsync(["member", "add", "--data", data, "--email", "gone-q9@example.org", "--name", "Gone Q9"])
            .stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let noReason = try await AcesProcess.runAsync(["member", "erase", id, "--data", data])
        #expect(noReason.status != 0 && noReason.stderr.contains("--reason is required"))
        let notErased = try await AcesProcess.runAsync(["member", "erase", id, "--status", "--data", data])
        #expect(notErased.status != 0 && notErased.stderr.contains("is not erased"))
        let erased = try await AcesProcess.runAsync(["member", "erase", id, "--reason", "request 1", "--data", data])
        #expect(erased.status == 0 && erased.stdout.contains("in entry fr:2"))
        let again = try await AcesProcess.runAsync(["member", "erase", id, "--reason", "request 1", "--data", data])
        #expect(again.status != 0 && again.stderr.contains("already erased"))
        let status = try await AcesProcess.runAsync(["member", "erase", id, "--status", "--data", data])
        #expect(status.status == 0 && status.stdout.contains("erased by entry fr:2 (request 1)"))
        let show = try await AcesProcess.runAsync(["member", "show", id, "--data", data])
        #expect(show.stdout.contains("[erased]") && !show.stdout.contains("Gone Q9"))
        #expect(try await AcesProcess.runAsync(["log", "verify", "--data", data]).status == 0)
        let bytes =
            (FileManager.default.contents(atPath: data + "/aces.sqlite") ?? Data())
            + (FileManager.default.contents(atPath: data + "/aces.sqlite-wal") ?? Data())
        #expect(bytes.range(of: Data("gone-q9@example.org".utf8)) == nil)
    }
}

@Suite struct CLIPortTests {
    @Test func aNodeWhosePortIsTakenRefusesToStartWithOneSentence() async throws {
        let dir = TempDir()
        let ports = AcesDevTools.LocalFederation.freePorts(4)
        _ = try AcesDevTools.LocalFederation.create(
            at: dir.file("fed"), chapters: [ChapterID("fr")!, ChapterID("uk")!], ports: [(ports[0], ports[1]), (ports[2], ports[3])])
        // Hold fr's federation port.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(ports[1]).bigEndian
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0 && listen(fd, 1) == 0)
        let r = try await AcesProcess.runAsync(["serve", "--data", dir.file("fed/fr")])
        #expect(r.status != 0)
        #expect(r.stderr.contains("the port is in use"))
        #expect(!r.stderr.contains("Fatal error"))
        let demo = try await AcesProcess.runAsync(["demo", "--base-port", String(ports[1] - 1), "--seconds", "0.1"])
        #expect(demo.status != 0 && demo.stderr.contains("is in use; choose other ports with --base-port"))
    }
}
