import AcesCore
import AcesStore
import Foundation

/// The benchmark's workload: member changes, about 20% inserts and 80% updates, about 300 bytes
/// of values each, authored through the real write path.
public struct Workload: Sendable {
    public let entries: Int
    public init(entries: Int) { self.entries = entries }

    /// The mutation of change number `i`, given the ids created so far.
    static func mutation(_ i: Int, ids: inout [String], sample: inout SampleData, chapter: ChapterID, author: Author) -> Mutation {
        if i % 5 == 0 || ids.isEmpty {
            let id = RecordID.mint(millis: author.wallMillis(), random: author.randomBytes(10), owner: author.origin)
            ids.append(id)
            return .set(.member, id: id, values: sample.member(chapter: chapter, n: i))
        }
        let id = ids[Int(sample.next() % UInt64(ids.count))]
        let bio = String(repeating: "Community manager for regional newsrooms, short video and live formats. ", count: 4).prefix(240)
        return .set(
            .member, id: id,
            values: [
                "bio": .string(bio + " #\(i)"), "city": .string(["Lyon", "Paris", "Lille", "Nantes"][i % 4]),
                "role": .string(["Social media lead", "Content strategist", "Press officer"][i % 3]),
            ])
    }

    /// Authors the workload into `store`, `chunk` entries per transaction; returns entries/s.
    /// `committed` is called with the last seq of each committed transaction.
    @discardableResult
    public func author(into store: Store, as author: Author, chunk: Int = 5_000, committed: (Int64) -> Void = { _ in }) throws -> Double {
        var ids = [String]()
        var sample = SampleData(seed: 7)
        let start = DispatchTime.now().uptimeNanoseconds
        var done = 0
        while done < entries {
            let n = min(chunk, entries - done)
            let base = done
            let written = try store.authorMany(as: author, count: n) { _, k in
                [Workload.mutation(base + k, ids: &ids, sample: &sample, chapter: author.origin, author: author)]
            }
            if let last = written.last { committed(last.envelope.seq) }
            done += n
        }
        // Authoring ends when the new members can be found.
        let t0 = DispatchTime.now().uptimeNanoseconds
        try store.indexPendingSearch()
        if ProcessInfo.processInfo.environment["ACES_BENCH_DEBUG"] != nil {
            FileHandle.standardError.write(
                Data("authoring: \(Bench.seconds(since: start)) s, of which indexing \(Bench.seconds(since: t0)) s\n".utf8))
        }
        return Double(entries) / Bench.seconds(since: start)
    }
}

/// Small timing helpers.
public enum Bench {
    public static func seconds(since start: UInt64) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// Median and spread (max − min) of a list of figures.
    public static func summary(_ xs: [Double]) -> (median: Double, spread: Double) {
        let s = xs.sorted()
        guard !s.isEmpty else { return (0, 0) }
        let m = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        return (m, s.last! - s.first!)
    }
}
