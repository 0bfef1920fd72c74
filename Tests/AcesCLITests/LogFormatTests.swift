import AcesCore
import AcesDevTools
import AcesTestSupport
import Foundation
import Testing

/// `aces serve --log-format json`: one JSON object per line, for log shippers.
@Suite struct LogFormatTests {
    @Test func jsonLogsAreOneObjectPerLineWithNamespacedMetadata() async throws {
        let dir = TempDir()
        let base = freeBasePort()
        let created = try await AcesProcess.runAsync([
            "federation", "create", "--dir", dir.file("fed"), "--chapters", "fr,uk", "--base-port", String(base),
        ])
        #expect(created.status == 0, "\(created.stderr)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: AcesProcess.executable)
        p.arguments = ["serve", "--data", dir.file("fed/fr"), "--log-format", "json", "--log-level", "debug"]
        let log = dir.file("serve.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        // Until its first pass with uk (which is down) has failed: a few seconds, more on a loaded machine.
        for _ in 0..<600 {
            try await Task.sleep(for: .milliseconds(100))
            if (try? String(contentsOfFile: log, encoding: .utf8))?.contains("uk is unreachable") == true { break }
        }
        p.terminate()  // SIGTERM: the node drains and stops
        await onOwnThread { p.waitUntilExit() }
        try err.close()
        let text = try String(contentsOfFile: log, encoding: .utf8)
        let lines = text.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let o = try JSONParser.parse(Array(line.utf8))
            #expect(
                o["level"]?.stringValue != nil && o["message"]?.stringValue != nil && o["time"]?.stringValue?.hasSuffix("Z") == true,
                "\(line)")
        }
        #expect(lines.contains { $0.contains("\"aces.chapter\":\"fr\"") })
        // uk is down: each failed pass is one warning, a sentence naming uk, the cause and the fix.
        #expect(
            lines.contains { $0.contains("uk is unreachable: it refused the connection") && $0.contains("\"aces.peer\":\"uk\"") },
            "one line per sync pass per peer")

        let bad = try await AcesProcess.runAsync(["serve", "--data", dir.file("fed/fr"), "--log-format", "xml"])
        #expect(bad.status != 0 && bad.stderr.contains("--log-format must be text or json"))
    }
}
