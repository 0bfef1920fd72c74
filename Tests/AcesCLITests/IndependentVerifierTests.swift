import AcesCore
import AcesNode
import AcesTestSupport
import Foundation
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
        inPipe.fileHandleForWriting.write(input)
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: out, as: UTF8.self))
    }
}

/// docs/verify_log.py verifies a node's log from the protocol document alone (Python's hashlib
/// and `cryptography`), and names a tampered entry.
@Suite(.enabled(if: Python.available, "needs python3 (3.11+) with the cryptography package"))
struct IndependentVerifierTests {
    @Test func aLogVerifiesWithPythonAndATamperedOneIsNamed() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = TempDir()
        let fed = dir.file("fed")
        let port = String(freeBasePort(4))
        #expect(
            try await AcesProcess.runAsync(["federation", "create", "--dir", fed, "--chapters", "fr,uk", "--base-port", port]).status == 0)
        for n in 0..<3 {
            #expect(
                try await AcesProcess.runAsync([
                    "member", "add", "--data", fed + "/fr", "--email", "p\(n)@example.org", "--name", "Zoë \(n)",
                ]).status
                    == 0)
        }
        let log = try await AcesProcess.runAsync(["log", "show", "--json", "--limit", "100000", "--data", fed + "/fr"]).stdout
        let script = root.appendingPathComponent("docs/verify_log.py").path
        let good = try Python.run([script, fed + "/chapters"], input: Data(log.utf8))
        #expect(good.status == 0 && good.out.contains("ok: 3 entries"), "\(good.out)")
        let tampered = log.replacingOccurrences(of: "\"seq\":2,", with: "\"seq\":2,\"x\":0,")
        let bad = try Python.run([script, fed + "/chapters"], input: Data(tampered.utf8))
        #expect(bad.status != 0 && bad.out.contains("entry fr:2"), "\(bad.out)")
    }
}
