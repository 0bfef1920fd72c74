import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `aces demo` as someone tries it: output into a file, stopped with SIGTERM long before its
/// `--seconds`, and nothing of its timing probe for visitors to see.
@Suite struct DemoTests {
    let dir = TempDir()

    @Test func theDemoWritesEachLineAtOnceStopsOnTheFirstSIGTERMAndShowsNoProbe() async throws {
        let port = freeBasePort(6)
        let output = dir.file("demo.txt")
        FileManager.default.createFile(atPath: output, contents: nil)
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: AcesProcess.executable)
        demo.arguments = ["demo", "--dir", dir.file("demo"), "--members", "30", "--seconds", "600", "--base-port", String(port)]
        demo.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        demo.standardError = FileHandle.nullDevice
        try demo.run()
        defer { if demo.isRunning { kill(demo.processIdentifier, SIGKILL) } }
        func printed() -> String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }

        // The output is in the file while the demo runs (a pipe or a file is not block-buffered).
        let start = Date()
        while !printed().contains("Stopping after 600 s") && demo.isRunning && Date().timeIntervalSince(start) < 120 {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(printed().contains("reached every other node in"), "\(printed())")
        #expect(printed().contains("Stopping after 600 s"), "nothing printed yet: \(printed())")

        // The probe that timed the edit is neither in the calendar nor in the directory.
        let web = "http://127.0.0.1:\(port)"
        try await HTTPClient.withHTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup) { http in
            for path in ["/events", "/events.ics", "/api/v1/events?from=2000-01-01", "/api/v1/members?q=propagation", "/?q=propagation"] {
                let r = try await http.execute(HTTPClientRequest(url: web + path), timeout: .seconds(30))
                let body = String(buffer: try await r.body.collect(upTo: 8 << 20))
                #expect(r.status == .ok && !body.contains("Propagation probe"), "\(path) shows the probe")
            }
        }

        // One SIGTERM stops it, long before its 600 s.
        demo.terminate()
        let stopping = Date()
        while demo.isRunning && Date().timeIntervalSince(stopping) < 10 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!demo.isRunning, "the demo still runs 10 s after SIGTERM")
        #expect(printed().contains("Stopped."))
        let fr = try NodeDirectory.open(dir.file("demo/fr")).openStore()
        #expect(try fr.records(.member).allSatisfy { $0.values["name"] != "Propagation probe" })
        #expect(try fr.records(.event).allSatisfy { $0.values["title"] != "Propagation probe" })
    }
}
