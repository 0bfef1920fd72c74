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
    /// Starts `aces args…` and kills it with SIGKILL `seconds` after it started.
    func kill(after seconds: Double, _ args: [String]) async throws {
        let p = try start(args)
        try await Task.sleep(for: .seconds(seconds))
        await onOwnThread {
            Glibc.kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    /// Starts `aces args…` and kills it with SIGKILL as soon as it printed `ack N` with N at least
    /// `acknowledged`: the kill lands while the command writes the next transaction, and how
    /// much it wrote is bounded by a count, not by how long a loaded machine takes to wake a task.
    func killed(afterAcknowledging acknowledged: Int64, _ args: [String]) async throws -> (printed: String, bySignal: Bool) {
        let p = try start(args)
        let out = p.standardOutput as! Pipe
        // Reading, killing and reaping block: on a thread of their own, off the concurrency pool.
        return await onOwnThread {
            var text = ""
            var pending = Substring()
            reading: while true {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                let piece = String(decoding: chunk, as: UTF8.self)
                text += piece
                pending += piece
                while let newline = pending.firstIndex(of: "\n") {
                    let line = pending[..<newline]
                    pending = pending[pending.index(after: newline)...]
                    if line.hasPrefix("ack "), let seq = Int64(line.dropFirst(4)), seq >= acknowledged {
                        Glibc.kill(p.processIdentifier, SIGKILL)
                        break reading
                    }
                }
            }
            p.waitUntilExit()
            text += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (text, p.terminationReason == .uncaughtSignal)
        }
    }

    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: AcesProcess.executable)
        p.arguments = args
        p.standardOutput = Pipe()
        p.standardError = FileHandle.nullDevice
        try p.run()
        return p
    }

    /// The replica passes SQLite's integrity check, its log verifies, and its state is the one
    /// the log gives. Reading a whole log blocks: on a thread of its own, off the pool.
    func checkConsistent(_ node: NodeDirectory) async throws {
        try await onOwnThread { Result { try consistent(node) } }.get()
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

    /// Killed after its first transaction, after a few, and after many: each kill lands while
    /// the next 50-entry transaction is being written.
    @Test(arguments: [50, 500, 1_000] as [Int64])
    func killedWhileAuthoringLosesNothingAcknowledged(afterAcknowledging acknowledged: Int64) async throws {
        let dir = TempDir()
        let node = try NodeDirectory.initialize(at: dir.file("fr"), chapter: ChapterID("fr")!)
        // Far more entries than it writes before the kill, so the kill lands while it works.
        let (out, bySignal) = try await killed(
            afterAcknowledging: acknowledged,
            ["bench-seed", "--data", node.path, "--entries", "200000", "--chunk", "50", "--ack"])
        #expect(bySignal, "bench-seed ended before the kill")
        let acked = out.split(separator: "\n").compactMap { $0.hasPrefix("ack ") ? Int64($0.dropFirst(4)) : nil }.max() ?? 0
        #expect(acked >= acknowledged)
        let head = try await node.openStore().heads().first { $0.origin == node.chapter }?.seq ?? 0
        #expect(head >= acked, "acknowledged up to \(acked) but the log ends at \(head)")
        try await checkConsistent(node)
        // The node authors again after the crash, continuing its sequence without a gap.
        try node.openStore().author(as: try node.author()) { _ in
            [
                .set(
                    .member, id: RecordID.mint(millis: 1, random: [UInt8](repeating: 3, count: 10), owner: ChapterID("fr")!),
                    values: TestNode.member(1))
            ]
        }
        #expect(try await node.openStore().heads().first { $0.origin == node.chapter }?.seq == head + 1)
        try await checkConsistent(node)
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
        try await kill(after: seconds, ["sync", "--data", de.path])
        try await checkConsistent(de)
        let partial = try await de.openStore().heads().first { $0.origin == fr.chapter }?.seq ?? 0
        let again = try await AcesProcess.runAsync(["sync", "--data", de.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let applied = try JSONParser.parse(again.stdout).arrayValue?.first?["applied"]?["fr"]?.intValue ?? 0
        #expect(Int64(applied) == 3_000 - partial, "resumed from \(partial) but applied \(applied)")
        #expect(try await de.openStore().stateDigest() == fr.openStore().stateDigest())
        try await checkConsistent(de)
    }
}
