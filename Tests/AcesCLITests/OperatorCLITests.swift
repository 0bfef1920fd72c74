import AcesCore
import AcesTestSupport
import Foundation
import Testing

/// The operator's CLI: help that wraps to the terminal, the version, errors that are sentences,
/// backups that leave nothing behind when they fail, one `serve` per data directory.
@Suite struct OperatorCLITests {
    let dir = TempDir()
    var data: String { dir.file("fr") }

    func aces(_ args: String..., environment: [String: String] = [:]) async throws -> AcesProcess.Result {
        try await AcesProcess.runAsync(args, environment: environment)
    }

    @Test func helpWrapsToTheTerminalShowsDefaultsOnceAndRequiredOptionsAsRequired() async throws {
        let version = try await aces("--version")
        #expect(version.status == 0 && version.stdout.contains("aces 0.10.0 (log protocol version 3)"), "\(version.stdout)")
        let wide = try await aces("restore", "--help", environment: ["COLUMNS": "250"])
        #expect(wide.stdout.contains("its replica must be gone (move a damaged one away first). The restored node"), "\(wide.stdout)")
        let list = try await aces("member", "list", "--help")
        #expect(list.stdout.contains("(default: 1000)") && !list.stdout.contains("(default 1000)"))
        let add = try await aces("member", "add", "--help", environment: ["COLUMNS": "400"])
        #expect(add.stdout.contains("--email <email> --name <name>") && !add.stdout.contains("[--email <email>]"), "\(add.stdout)")
        let importHelp = try await aces("member", "import", "--help", environment: ["COLUMNS": "200"])
        for synonym in ["Prénom + Nom", "Vorname + Nachname", "courriel", "membres"] { #expect(importHelp.stdout.contains(synonym)) }
        #expect(try await aces("event", "import", "--help").stdout.contains("capacité"))
    }

    @Test func configurationErrorsNameTheKeyAndTheType() async throws {
        #expect(try await aces("init", "--data", data, "--chapter", "fr").status == 0)
        let config = data + "/aces.toml"
        let good = try String(contentsOfFile: config, encoding: .utf8)
        try (good + "\n[sync]\ntimeout_seconds = \"10\"\n").write(toFile: config, atomically: true, encoding: .utf8)
        let typed = try await aces("status", "--data", data)
        #expect(typed.status == 1 && typed.stderr.contains("sync.timeout_seconds must be a number (it is written as a TOML string)"))
        #expect(!typed.stderr.contains("DecodingError") && !typed.stderr.contains("Usage"), "\(typed.stderr)")

        try Data([0x00, 0xFF, 0xFE, 0x80, 0x9C]).write(to: URL(fileURLWithPath: config))
        let garbage = try await aces("status", "--data", data)
        #expect(garbage.status == 1 && garbage.stderr.contains("aces.toml is not a text file"), "\(garbage.stderr)")
        #expect(!garbage.stderr.contains("create one with 'aces init'"))
        try "chapter = \"fr\"\nkeys = [".write(toFile: config, atomically: true, encoding: .utf8)
        let broken = try await aces("status", "--data", data)
        #expect(broken.status == 1 && broken.stderr.contains("aces.toml is not valid TOML (line "), "\(broken.stderr)")
    }

    /// `aces` under a file size limit (`ulimit -f`, in KiB with bash), with SIGXFSZ ignored so a
    /// write past it fails as on a full disk. Waited for on a thread of its own, as
    /// `AcesProcess.runAsync` does, so the concurrency pool stays free for in-process servers.
    func limited(_ kib: Int, _ args: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/bin/bash")
                p.arguments = ["-c", "trap '' XFSZ; ulimit -f \(kib); exec \"$0\" \"$@\"", AcesProcess.executable] + args
                let out = Pipe(), err = Pipe()
                p.standardOutput = out
                p.standardError = err
                do { try p.run() } catch { return continuation.resume(throwing: error) }
                let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                continuation.resume(
                    returning: (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self)))
            }
        }
    }

    @Test func aFailedBackupOrExportLeavesNoFileAndSaysWhatToDo() async throws {
        #expect(try await aces("init", "--data", data, "--chapter", "fr").status == 0)
        let sheet = dir.file("m.csv")
        try (["email;name;bio"] + (0..<3000).map { "m\($0)@example.org;Member \($0);" + String(repeating: "A biography. ", count: 20) })
            .joined(separator: "\n").write(toFile: sheet, atomically: true, encoding: .utf8)
        #expect(try await aces("member", "import", sheet, "--data", data).status == 0)

        let backup = dir.file("backup.sqlite")
        let failed = try await limited(400, ["backup", "--data", data, "--to", backup])
        #expect(failed.status == 1 && failed.stderr.contains("cannot write the backup"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("Usage") && !failed.stderr.contains("Error Domain"))
        #expect(!FileManager.default.fileExists(atPath: backup), "a failed backup leaves no file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).allSatisfy { !$0.contains("partial") })
        let retry = try await aces("backup", "--data", data, "--to", backup)
        #expect(retry.status == 0 && FileManager.default.fileExists(atPath: backup), "\(retry.stderr)")

        let export = dir.file("export.json")
        let cut = try await limited(100, ["member", "export", "--format", "json", "--output", export, "--data", data])
        #expect(cut.status == 1 && cut.stderr.contains("cannot write \(export)"), "\(cut.stderr)")
        #expect(!cut.stderr.contains("Error Domain") && !FileManager.default.fileExists(atPath: export))
    }

    @Test func aSecondServeOnOneDataDirectoryRefusesNamingTheFirst() async throws {
        let fed = dir.file("fed")
        #expect(
            try await aces("federation", "create", "--dir", fed, "--chapters", "fr,uk", "--base-port", String(freeBasePort())).status == 0)
        let first = try AcesProcess.start(["serve", "--data", fed + "/fr"])
        // The first holds the lock once its process id is in the lock file; only then is a
        // second one started (one started before would take the lock and serve).
        let lockFile = fed + "/fr/serve.lock"
        var held = false
        for _ in 0..<300 where !held {
            held = (try? String(contentsOfFile: lockFile, encoding: .utf8))?.hasPrefix("\(first.pid)\n") == true
            if !held { try? await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(held, "the first serve took the lock")
        if held, let second = try? await aces("serve", "--data", fed + "/fr") {
            #expect(second.status == 1)
            #expect(second.stderr.contains("another 'aces serve' (process \(first.pid)) is already running on"), "\(second.stderr)")
            #expect(!second.stderr.contains("Usage"))
        }
        await ConflictsCLITests.stop([first])
    }
}
