import AcesCore
import AcesTestSupport
import Foundation
import Testing

/// aces.toml is checked at start: each mistake gets a sentence naming the setting.
@Suite struct ConfigTests {
    @Test func eachMistakeInTheConfigurationIsNamed() async throws {
        let dir = TempDir()
        let data = dir.file("fr")
        #expect(try await AcesProcess.runAsync(["init", "--data", data, "--chapter", "fr"]).status == 0)
        let good = try String(contentsOfFile: data + "/aces.toml", encoding: .utf8)
        let cases: [(String, String)] = [
            (good + "\nchaptr = 'fr'\n", "unknown setting 'chaptr'"),
            (good + "\n[web]\nlisten = '127.0.0.1:7100'\n", "'url' is missing in [web]"),
            (good + "\n[web]\nlisten = '127.0.0.1:7100'\nurl = 'http://127.0.0.1:7100'\nlistn = 'x'\n", "unknown setting 'listn' in [web]"),
            (good + "\n[web]\nlisten = 'localhost'\nurl = 'http://127.0.0.1:7100'\n", "is not host:port"),
            (good + "\n[web]\nlisten = '127.0.0.1:7100'\nurl = 'aces.example.fr'\n", "web.url = 'aces.example.fr' is not an http(s) URL"),
            (good + "\n[sync]\ninterval_seconds = 0\n", "sync.interval_seconds must be from 0.05 to 86400"),
            (good + "\n[sync]\ninterval_seconds = 'often'\n", "sync.interval_seconds must be a number (it is written as a TOML string)"),
            (good + "\n[sync]\npeers = ['UK!']\n", "sync.peers: 'UK!' is not a chapter id"),
            (good.replacingOccurrences(of: "chapter = 'fr'", with: ""), "'chapter' is missing"),
            (good + "\n[web\n", "is not valid TOML"),
        ]
        for (text, message) in cases {
            try text.write(toFile: data + "/aces.toml", atomically: true, encoding: .utf8)
            let r = try await AcesProcess.runAsync(["status", "--data", data])
            #expect(r.status != 0 && r.stderr.contains(message), "expected '\(message)', got: \(r.stderr)")
        }
        try good.write(toFile: data + "/aces.toml", atomically: true, encoding: .utf8)
        #expect(try await AcesProcess.runAsync(["status", "--data", data]).status == 0)
    }
}
