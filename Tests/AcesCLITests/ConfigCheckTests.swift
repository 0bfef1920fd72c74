import AcesCore
import AcesDevTools
import AcesNodeFiles
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import Testing

/// `aces config check` and `aces serve` refuse each misconfiguration with the same one sentence,
/// certificates made by the project's own CA code, and `aces init` alone gives a node that serves.
@Suite struct ConfigCheckTests {
    /// A federation of fr and uk made by `aces federation create`; fr's folder.
    func federation(_ dir: TempDir) async throws -> String {
        let create = try await AcesProcess.runAsync([
            "federation", "create", "--dir", dir.file("fed"), "--chapters", "fr,uk", "--base-port", String(freeBasePort(4)),
        ])
        #expect(create.status == 0, "\(create.stderr)")
        return dir.file("fed/fr")
    }

    /// `aces serve` on `data`, stopped after `seconds` if it is still running (it should have refused).
    struct Outcome: Sendable {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    func serveRefusal(_ data: String, seconds: Double = 60) async throws -> Outcome {
        try await onOwnThread {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: AcesProcess.executable)
            p.arguments = ["serve", "--data", data]
            let out = Pipe(), err = Pipe()
            p.standardOutput = out
            p.standardError = err
            do { try p.run() } catch { return Result<Outcome, Error>.failure(error) }
            let deadline = Date().addingTimeInterval(seconds)
            while p.isRunning && Date() < deadline { usleep(20_000) }
            if p.isRunning { p.terminate() }
            let o = out.fileHandleForReading.readDataToEndOfFile()
            let e = err.fileHandleForReading.readDataToEndOfFile()
            p.waitUntilExit()
            return .success(
                Outcome(
                    status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self)))
        }.get()
    }

    /// Both commands refuse with exactly one sentence containing `sentence`, and no library dump.
    func expectRefused(_ data: String, _ sentence: String, not absent: String? = nil) async throws {
        let c = try await AcesProcess.runAsync(["config", "check", "--data", data])
        let check = Outcome(status: c.status, stdout: c.stdout, stderr: c.stderr)
        let serve = try await serveRefusal(data)
        for (name, r) in [("config check", check), ("serve", serve)] {
            let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("Error: ") }
            #expect(r.status != 0, "\(name) accepted it: \(r.stdout)")
            #expect(errors.count == 1 && r.stderr.contains(sentence), "\(name): expected '\(sentence)', got: \(r.stderr)")
            if let absent { #expect(!r.stderr.contains(absent), "\(name): \(r.stderr)") }
            for dump in ["NIOSSL", "BoringSSL", "failedToLoad", "checkouts"] { #expect(!r.stderr.contains(dump)) }
        }
    }

    @Test func eachMisconfigurationIsRefusedWithOneSentence() async throws {
        let dir = TempDir()
        let fr = try await federation(dir)
        let certs = dir.file("fed/certs")
        let ok = try await AcesProcess.runAsync(["config", "check", "--data", fr])
        #expect(ok.status == 0 && ok.stdout.contains("fine"), "\(ok.stderr)")

        // A typo in a roster file.
        let uk = dir.file("fed/chapters/uk.toml")
        let roster = try String(contentsOfFile: uk, encoding: .utf8)
        try ("federation_ur = 'https://uk.example:7443'\n" + roster).write(toFile: uk, atomically: true, encoding: .utf8)
        try await expectRefused(fr, "chapters/uk.toml: unknown setting 'federation_ur' (known: ")
        try roster.write(toFile: uk, atomically: true, encoding: .utf8)

        // A peer that is not a chapter of the roster.
        let toml = fr + "/aces.toml"
        let config = try String(contentsOfFile: toml, encoding: .utf8)
        try config.replacingOccurrences(of: "[sync]\n", with: "[sync]\npeers = ['uk', 'xx']\n").write(
            toFile: toml, atomically: true, encoding: .utf8)
        try await expectRefused(fr, "aces.toml: sync.peers names 'xx', which is not a chapter of the roster")
        try config.write(toFile: toml, atomically: true, encoding: .utf8)

        // Certificates made by the federation's own CA code, each wrong in one way.
        let ca = try FederationCA.read(certificate: certs + "/ca.pem", privateKey: certs + "/ca-key.pem")
        let good = try FederationCA.read(certificate: certs + "/fr.pem", privateKey: certs + "/fr-key.pem")
        let frID = ChapterID("fr")!
        func install(_ issued: IssuedCertificate) throws {
            for f in ["fr.pem", "fr-key.pem"] { try FileManager.default.removeItem(atPath: certs + "/" + f) }
            try FederationCA.write(issued, certificate: certs + "/fr.pem", privateKey: certs + "/fr-key.pem")
        }
        let now = Date()
        let day = 86_400.0
        func date(_ d: Date) -> String {
            ISO8601DateFormatter.string(from: d, timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withFullDate])
        }
        let ended = now.addingTimeInterval(-2 * day)
        try install(try FederationCA.issue(chapter: frID, ca: ca, validFrom: now.addingTimeInterval(-300 * day), validUntil: ended))
        try await expectRefused(fr, "fr.pem expired on \(date(ended)): ask the federation CA for a new one")

        let starts = now.addingTimeInterval(5 * day)
        try install(try FederationCA.issue(chapter: frID, ca: ca, validFrom: starts, validUntil: now.addingTimeInterval(300 * day)))
        try await expectRefused(fr, "is not valid until \(date(starts)) (UTC)", not: "expired")

        try install(try FederationCA.issue(chapter: frID, ca: try FederationCA.create(name: "Another CA")))
        try await expectRefused(fr, "is not signed by the federation CA")

        let other = try FederationCA.issue(chapter: frID, ca: ca)
        try install(IssuedCertificate(certificatePEM: good.certificatePEM, privateKeyPEM: other.privateKeyPEM))
        try await expectRefused(fr, "does not belong to the certificate")

        try install(try FederationCA.issue(chapter: ChapterID("uk")!, ca: ca))
        try await expectRefused(fr, "names chapter 'uk', not this node's 'fr'")

        try install(good)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: certs + "/fr-key.pem")
        try await expectRefused(fr, "fr-key.pem is readable by group or others (mode 644); run 'chmod 600")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: certs + "/fr-key.pem")

        let signing = try #require(try FileManager.default.contentsOfDirectory(atPath: fr + "/keys").first)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: fr + "/keys/" + signing)
        try await expectRefused(fr, "keys/\(signing) is readable by group or others (mode 644)")
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: fr + "/keys/" + signing)

        // Due to expire within 30 days: accepted, with a warning in config check and status.
        let soon = now.addingTimeInterval(12 * day)
        try install(try FederationCA.issue(chapter: frID, ca: ca, validUntil: soon))
        let warned = try await AcesProcess.runAsync(["config", "check", "--data", fr])
        #expect(warned.status == 0 && warned.stdout.contains("warning: this node's TLS certificate expires on \(date(soon))"), "\(warned)")
        let status = try await AcesProcess.runAsync(["status", "--data", fr])
        #expect(status.stdout.contains("WARNING  this node's TLS certificate expires on \(date(soon))"), "\(status.stdout)")
        #expect(!status.stdout.contains("peers    "), "the node's own URL is not listed as a peer")
    }

    @Test func initAloneGivesANodeThatServesItsDirectory() async throws {
        let dir = TempDir()
        let data = dir.file("fr")
        let port = LocalFederation.freePorts(1)[0]
        let made = try await AcesProcess.runAsync([
            "init", "--data", data, "--chapter", "fr", "--listen", "127.0.0.1:\(port)", "--url", "http://127.0.0.1:\(port)",
        ])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.contains("Public listener: 127.0.0.1:\(port)") && made.stdout.contains("No federation listener"))
        #expect(try await AcesProcess.runAsync(["config", "check", "--data", data]).status == 0)
        let idle = try await AcesProcess.runAsync(["peers", "--data", data])
        #expect(idle.stdout.contains("no 'aces serve' runs"), "\(idle.stdout)")

        let server = try AcesProcess.start(["serve", "--data", data])
        defer { server.stop() }
        var page: (Int, String) = (0, "")
        for _ in 0..<300 where page.0 != 200 {
            page = (try? await get("http://127.0.0.1:\(port)/")) ?? (0, "")
            if page.0 != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(page.0 == 200 && page.1.contains("<html"), "the directory is served")
        let serving = try await AcesProcess.runAsync(["peers", "--data", data])
        #expect(serving.stdout.contains("'aces serve' runs (process \(server.pid))"), "\(serving.stdout)")
        #expect(!serving.stdout.contains("start 'aces serve'"))
        server.stop()
    }

    func get(_ url: String) async throws -> (Int, String) {
        try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
            let r = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
            return (Int(r.status.code), String(buffer: try await r.body.collect(upTo: 8 << 20)))
        }
    }
}
