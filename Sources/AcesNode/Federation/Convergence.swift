import AcesCore
import AcesStore
import Foundation

/// Waits for replicas to agree, and times an edit's trip through a federation.
public enum Convergence {
    /// Waits until every store has the same state digest and heads; false after `seconds`.
    public static func wait(_ stores: [Store], seconds: Double, poll: Duration = .milliseconds(10)) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            var heads = Set<[String]>()
            for s in stores { heads.insert(try await s.heads().map { "\($0.origin):\($0.seq):\($0.hash.hex)" }) }
            if heads.count == 1, Set(try stores.map { try $0.stateDigest() }).count == 1 { return true }
            try await Task.sleep(for: poll)
        }
        return false
    }

    /// Makes one edit on `origin` through the real write path and returns the seconds until
    /// every other node holds it (nil if it did not arrive within 30 s).
    public static func timeOneEdit(from origin: NodeServer, to others: [NodeServer]) async throws -> Double? {
        let author = try origin.directory.author()
        let id = RecordID.v7(millis: author.wallMillis(), random: author.randomBytes(10))
        let start = DispatchTime.now().uptimeNanoseconds
        guard
            let entry = try origin.store.author(
                as: author,
                { _ in
                    [
                        .set(
                            .event, id: id,
                            values: [
                                "chapter": .string(origin.directory.chapter.rawValue), "title": "Propagation probe",
                                "start": "2030-01-01T18:00:00Z",
                                "end": "2030-01-01T19:00:00Z", "timezone": "Europe/Paris", "status": "scheduled",
                            ])
                    ]
                })
        else { return nil }
        let seq = entry.envelope.seq
        let deadline = Date().addingTimeInterval(30)
        var pending = others
        while !pending.isEmpty && Date() < deadline {
            var still = [NodeServer]()
            for s in pending where (try await s.store.heads().first { $0.origin == entry.envelope.origin }?.seq ?? 0) < seq {
                still.append(s)
            }
            pending = still
            if !pending.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
        }
        return pending.isEmpty ? Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 : nil
    }
}
