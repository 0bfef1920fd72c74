import AcesCore
import AcesNodeFiles
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// Logs never carry personal data: two nodes serving at trace level, a member written, refused,
/// imported, searched for, signed in and synced, and not one line of either node's log, nor any
/// CLI error, names the member's email, name or bio.
@Suite struct PersonalDataLogTests {
    let email = "secret.person@example.org"
    let name = "Secretname Ppersonne"
    let bio = "Secretbio about a life"
    var secrets: [String] { ["secret.person", "Secretname", "Ppersonne", "Secretbio"] }

    @Test func noLogLineNamesAMember() async throws {
        let dir = TempDir()
        let base = freeBasePort()
        let fed = dir.file("fed")
        #expect(
            try await AcesProcess.runAsync(["federation", "create", "--dir", fed, "--chapters", "fr,uk", "--base-port", String(base)])
                .status == 0)
        var said = [String]()
        func aces(_ args: String...) async throws -> AcesProcess.Result {
            let r = try await AcesProcess.runAsync(args)
            said.append(r.stderr)
            return r
        }
        let token = try await aces("admin", "token", "create", "--data", fed + "/fr", "--label", "test").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)

        var servers = [Process]()
        var logs = [String]()
        for c in ["fr", "uk"] {
            let log = dir.file("\(c).log")
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: AcesProcess.executable)
            p.arguments = ["serve", "--data", fed + "/" + c, "--log-format", "json", "--log-level", "trace"]
            p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            servers.append(p)
            logs.append(log)
        }
        defer {
            for p in servers where p.isRunning { p.terminate() }
            for p in servers { p.waitUntilExit() }
        }
        let web = try NodeDirectory.open(fed + "/fr").config.web!.url

        // Written on uk, refused twice on fr (a bad email, then a duplicate after sync), imported with a bad row.
        #expect(
            try await aces("member", "add", "--data", fed + "/uk", "--email", email, "--name", name, "--bio", bio, "--visibility", "public")
                .status == 0)
        #expect(try await aces("member", "add", "--data", fed + "/fr", "--email", "secret.person@@example.org", "--name", name).status != 0)
        let csv = dir.file("members.csv")
        try "email,name,bio\n\(email),\(name),\(bio)\nsecret.person@,\(name),\(bio)\n".write(toFile: csv, atomically: true, encoding: .utf8)
        #expect(try await aces("member", "import", csv, "--data", fed + "/fr").status != 0)
        var synced = false
        for _ in 0..<100 where !synced {
            synced = try await aces("sync", "--data", fed + "/fr").status == 0
            if !synced { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(synced)

        let statuses = try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http -> [Int] in
            func send(_ method: HTTPMethod, _ path: String, _ body: String? = nil) async throws -> Int {
                var request = HTTPClientRequest(url: web + path)
                request.method = method
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: "application/json")
                if let body { request.body = .bytes(ByteBuffer(string: body)) }
                let response = try await http.execute(request, timeout: .seconds(15))
                _ = try await response.body.collect(upTo: 1 << 22)
                return Int(response.status.code)
            }
            return [
                try await send(.GET, "/?q=Secretname"),
                try await send(.GET, "/api/v1/members?q=secretname"),
                try await send(.GET, "/?q=\(email)"),
                try await send(.POST, "/admin/v1/members", #"{"email": "\#(email)", "name": "\#(name)"}"#),
                try await send(.POST, "/admin/v1/members", #"{"email": "secret.person@@x", "name": "\#(name)", "bio": "\#(bio)"}"#),
                try await send(.GET, "/signin?token=secret.person"),
            ]
        }
        #expect(statuses.map { $0 / 100 } == [2, 2, 2, 4, 4, 4], "\(statuses)")
        #expect(statuses[3] == 409)
        for p in servers { p.terminate() }
        for p in servers { p.waitUntilExit() }

        var lines = 0
        for log in logs {
            let text = try String(contentsOfFile: log, encoding: .utf8)
            lines += text.split(separator: "\n").count
            for s in secrets { #expect(!text.localizedCaseInsensitiveContains(s), "\(log) names '\(s)'") }
        }
        #expect(lines > 20, "the nodes logged at trace level (\(lines) lines)")
        for (i, text) in said.enumerated() {
            for s in secrets { #expect(!text.localizedCaseInsensitiveContains(s), "command \(i) said '\(s)': \(text)") }
        }
    }
}
