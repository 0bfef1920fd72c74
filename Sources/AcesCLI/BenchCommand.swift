import AcesCore
import AcesNode
import AcesStore
import ArgumentParser
import Foundation

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure authoring, catch-up and the plain SQLite floor; print a table and optionally write JSON.",
        discussion: "Run it from a release build: swift run -c release aces bench --entries 100000")
    @Option(help: "Entries in the catch-up and authoring scenarios.") var entries = 100_000
    @Option(help: "Measured rounds per scenario (after one warm-up).") var rounds = 3
    @Option(help: "Write the figures as JSON to this file.") var json: String?

    func validate() throws {
        guard (10...10_000_000).contains(entries) else { throw ValidationError("--entries must be from 10 to 10000000") }
        guard (1...20).contains(rounds) else { throw ValidationError("--rounds must be from 1 to 20") }
    }

    func run() throws {
        let dir = NSTemporaryDirectory() + "aces-bench-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fr = ChapterID("fr")!
        let key = SigningKey()
        let author = Author(origin: fr, key: key)
        let ring = KeyRing([fr: [KeyGrant(keyID: author.keyID, publicKey: key.publicKey, validFrom: 0, validUntil: nil)]])

        var authoring = [Double](), applyRates = [Double](), plainRates = [Double]()
        var sourcePath = ""
        for round in 0...rounds {
            sourcePath = dir + "/source-\(round).sqlite"
            let source = try Store.create(at: sourcePath, chapter: fr)
            let a = try Workload(entries: entries).author(into: source, as: author)
            // Catch-up without the network: stream the log out of one replica into an empty one.
            let target = try Store.create(at: dir + "/target-\(round).sqlite", chapter: ChapterID("de")!)
            var after: Int64 = 0
            var changes = [(String, [String: JSONValue])]()
            changes.reserveCapacity(entries)
            var applySeconds = 0.0
            while true {
                let batch = try source.entries(of: fr, after: after, limit: 2_000)
                if batch.isEmpty { break }
                let t = DispatchTime.now().uptimeNanoseconds
                _ = try target.apply(batch, origin: fr, keys: ring)
                applySeconds += Bench.seconds(since: t)
                for e in batch { for (op, p) in zip(e.envelope.operations, e.payloads) { changes.append((op.id, p?.values ?? [:])) } }
                after = batch.last!.envelope.seq
            }
            let plain = try PlainUpsert.run(path: dir + "/plain-\(round).sqlite", changes: changes)
            if round > 0 {
                authoring.append(a)
                applyRates.append(Double(entries) / applySeconds)
                plainRates.append(Double(entries) / plain)
            }
            for f in ["source", "target", "plain"] { try? FileManager.default.removeItem(atPath: dir + "/\(f)-\(round).sqlite") }
        }
        let results: [(String, [Double], String)] = [
            ("authoring.entries_per_s", authoring, "entries/s"),
            ("apply.entries_per_s", applyRates, "entries/s"),
            ("plain_sqlite.upserts_per_s", plainRates, "upserts/s"),
            ("apply.ratio_to_sqlite", zip(applyRates, plainRates).map { $0 / $1 }, "ratio"),
        ]
        Out.line("Aces benchmark, \(entries) entries, \(rounds) rounds after a warm-up (median, spread)")
        Out.table(["SCENARIO", "MEDIAN", "SPREAD", "UNIT"], results.map { name, xs, unit in
            let s = Bench.summary(xs)
            return [name, String(format: unit == "ratio" ? "%.2f" : "%.0f", s.median), String(format: unit == "ratio" ? "%.2f" : "%.0f", s.spread), unit]
        })
        if let json {
            var obj = [String: JSONValue]()
            for (name, xs, unit) in results {
                let s = Bench.summary(xs)
                obj[name] = ["median": .number(s.median), "spread": .number(s.spread), "unit": .string(unit), "rounds": .number(Double(xs.count))]
            }
            obj["entries"] = .number(Double(entries))
            try Data(CanonicalJSON.encode(.object(obj))).write(to: URL(fileURLWithPath: json))
        }
    }
}
