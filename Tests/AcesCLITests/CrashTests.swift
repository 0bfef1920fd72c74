import AcesCore
import AcesDevTools
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Nodes killed with SIGKILL at several moments come back consistent, lose nothing they had
/// acknowledged, apply nothing twice, and converge again.
@Suite(.serialized) struct CrashTests {
    /// Starts `aces args…`, kills it with SIGKILL `seconds` after it printed `marker` (at once
    /// when nil), returns what it printed. Waiting for the marker, not for a time, makes the kill
    /// land while the command works, however loaded the machine is.
    func killed(after seconds: Double, printed marker: String? = nil, _ args: [String]) async throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: AcesProcess.executable)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Reading what it prints and reaping it block: off the concurrency pool.
        let seen = await onOwnThread { () -> String in
            guard let marker else { return "" }
            var text = ""
            while !text.contains(marker) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        try await Task.sleep(for: .seconds(seconds))
        kill(p.processIdentifier, SIGKILL)
        return await onOwnThread {
            p.waitUntilExit()
            return seen + String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        }
    }

    func consistent(_ node: NodeDirectory) throws {
        let store = try node.openStore()
        #expect(try store.integrityCheck() == "ok")
        #expect(try store.verifyLog(keys: node.keyRing()).isValid)
        // The state is the one the log gives: rebuild it in a fresh replica and compare.
        let dir = TempDir()
        let rebuilt = try Store.create(at: dir.file("rebuilt.sqlite"), chapter: ChapterID("zz")!)
        for head in try store.heads() {
            var after: Int64 = 0
            while true {
                let batch = try store.entries(of: head.origin, after: after, limit: 2_000)
                if batch.isEmpty { break }
                #expect(try rebuilt.apply(batch, origin: head.origin, keys: node.keyRing()).refusal == nil)
                after = batch.last!.envelope.seq
            }
        }
        #expect(try rebuilt.stateDigest() == store.stateDigest())
    }

    @Test(arguments: [0.1, 0.5, 1.2])
    func killedWhileAuthoringLosesNothingAcknowledged(after seconds: Double) async throws {
        let dir = TempDir()
        let node = try NodeDirectory.initialize(at: dir.file("fr"), chapter: ChapterID("fr")!)
        let out = try await killed(
            after: seconds, printed: "ack ", ["bench-seed", "--data", node.path, "--entries", "1000000", "--chunk", "50", "--ack"])
        let acked = out.split(separator: "\n").compactMap { $0.hasPrefix("ack ") ? Int64($0.dropFirst(4)) : nil }.max() ?? 0
        // Killed after its first acknowledgement: the test checks something, whatever the timing.
        #expect(acked > 0)
        let head = try await node.openStore().heads().first { $0.origin == node.chapter }?.seq ?? 0
        #expect(head >= acked, "acknowledged up to \(acked) but the log ends at \(head)")
        try consistent(node)
        // The node authors again after the crash, continuing its sequence without a gap.
        try node.openStore().author(as: try node.author()) { _ in
            [
                .set(
                    .member, id: RecordID.mint(millis: 1, random: [UInt8](repeating: 3, count: 10), owner: ChapterID("fr")!),
                    values: TestNode.member(1))
            ]
        }
        #expect(try await node.openStore().heads().first { $0.origin == node.chapter }?.seq == head + 1)
        try consistent(node)
    }

    @Test(arguments: [0.2, 0.6])
    func killedWhileApplyingASyncResumesAndConverges(after seconds: Double) async throws {
        let dir = TempDir()
        let ports = LocalFederation.freePorts(4)
        let nodes = try LocalFederation.create(
            at: dir.file("fed"), chapters: [ChapterID("fr")!, ChapterID("de")!],
            ports: [(ports[0], ports[1]), (ports[2], ports[3])], syncInterval: 3600)
        let (fr, de) = (nodes[0], nodes[1])
        try Workload(entries: 3_000).author(into: fr.openStore(), as: fr.author())
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: AcesProcess.executable)
        serve.arguments = ["serve", "--data", fr.path, "--log-level", "critical"]
        serve.standardOutput = FileHandle.nullDevice
        serve.standardError = FileHandle.nullDevice
        try serve.run()
        defer { serve.terminate(); serve.waitUntilExit() }
        // Wait until fr's federation port accepts connections.
        let port = UInt16(ports[1])
        var up = false
        for _ in 0..<400 where !up {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            addr.sin_port = port.bigEndian
            up =
                withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                } == 0
            close(fd)
            if !up { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(up)
        _ = try await killed(after: seconds, ["sync", "--data", de.path])
        try consistent(de)
        let partial = try await de.openStore().heads().first { $0.origin == fr.chapter }?.seq ?? 0
        let again = try await AcesProcess.runAsync(["sync", "--data", de.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let applied = try JSONParser.parse(again.stdout).arrayValue?.first?["applied"]?["fr"]?.intValue ?? 0
        #expect(Int64(applied) == 3_000 - partial, "resumed from \(partial) but applied \(applied)")
        #expect(try await de.openStore().stateDigest() == fr.openStore().stateDigest())
        try consistent(de)
    }
}
