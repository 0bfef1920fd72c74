import AcesCore
import AcesServer
import AcesStore
import AcesWorkflows
import Foundation

/// Waits for replicas to agree, and times an edit's trip through a federation.
public enum Convergence {
    /// Waits until every store has the same state digest and heads; false after `seconds`.
    public static func wait(_ stores: [Store], seconds: Double, poll: Duration = .milliseconds(10)) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var heads = Set<[String]>()
            var digests = Set<Digest32>()
            for s in stores {
                heads.insert(try await s.heads().map { "\($0.origin):\($0.seq):\($0.hash.hex)" })
                digests.insert(try await s.stateDigest())
            }
            if heads.count == 1 && digests.count == 1 { return true }
            try await Task.sleep(for: poll)
        }
        return false
    }

    /// Makes one edit on `origin` through the real write path and returns the seconds until
    /// every other node holds it (nil if it did not arrive within 30 s). The edit is a probe no
    /// one sees (an inactive member, visible to no visitor nor member), removed once timed.
    public static func timeOneEdit(from origin: NodeServer, to others: [NodeServer]) async throws -> Double? {
        let store = origin.store
        let directory = origin.directory
        let start = DispatchTime.now().uptimeNanoseconds
        let probe = try await WriteQueue.run { () -> (id: String, seq: Int64)? in
            let author = try directory.author()
            let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
            let values: [String: JSONValue] = [
                "chapter": .string(directory.chapter.rawValue), "name": "Propagation probe", "visibility": "chapter",
                "status": "inactive",
            ]
            guard let entry = try store.author(as: author, { _ in [.set(.member, id: id, values: values)] }) else { return nil }
            return (id, entry.envelope.seq)
        }
        guard let probe, try await arrive(origin.directory.chapter, probe.seq, at: others) else { return nil }
        let trip = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        // Untimed: the probe leaves, everywhere, before the next edit is timed.
        let removal = try await WriteQueue.run {
            try store.author(as: try directory.author(), { _ in [.delete(.member, id: probe.id)] })?.envelope.seq
        }
        guard let removal, try await arrive(origin.directory.chapter, removal, at: others) else { return nil }
        return trip
    }

    /// Whether every node holds `origin`'s entries up to `seq` within 30 s.
    private static func arrive(_ origin: ChapterID, _ seq: Int64, at nodes: [NodeServer]) async throws -> Bool {
        let deadline = Date().addingTimeInterval(30)
        var pending = nodes
        while !pending.isEmpty && Date() < deadline {
            var still = [NodeServer]()
            for s in pending where (try await s.store.heads().first { $0.origin == origin }?.seq ?? 0) < seq { still.append(s) }
            pending = still
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        }
        return pending.isEmpty
    }
}
