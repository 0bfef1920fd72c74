import AcesCore
import AcesNode
import AcesStore
import ArgumentParser
import Foundation

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Create a sample node, fill it with members and events, and verify its signed log.")
    @Option(help: "Folder for the demo node (default: a new temporary folder).") var dir: String?
    @Option(help: "How many members to create.") var members = 200

    func validate() throws {
        guard (1...100_000).contains(members) else { throw ValidationError("--members must be from 1 to 100000") }
    }

    func run() throws {
        let base = dir ?? (NSTemporaryDirectory() + "aces-demo-" + UUID().uuidString.prefix(8).lowercased())
        let fr = ChapterID("fr")!
        let node = try NodeDirectory.initialize(at: base + "/fr", chapter: fr)
        let store = try node.openStore()
        let author = try node.author()
        var sample = SampleData(seed: 42)
        let start = Date()
        for i in 0..<members {
            let id = FieldInput.newID(author)
            let values = sample.member(chapter: fr, n: i)
            try store.author(as: author) { _ in [.set(.member, id: id, values: values)] }
        }
        for d in 0..<6 {
            let id = FieldInput.newID(author)
            let values = sample.event(chapter: fr, from: Date(), daysAhead: 7 + d * 9)
            try store.author(as: author) { _ in [.set(.event, id: id, values: values)] }
        }
        let elapsed = Date().timeIntervalSince(start)
        let check = try store.verifyLog(keys: try node.keyRing())
        Out.line("Node 'fr' in \(node.path)")
        Out.line("Authored \(members) members and 6 events as signed entries in \(String(format: "%.2f", elapsed)) s.")
        Out.line("Log verification: \(check.isValid ? "ok" : "FAILED"), \(check.checked.values.reduce(0, +)) entries.")
        Out.line("State digest: \(try store.stateDigest().hex)")
        Out.line()
        Out.line("Try:  aces member list --data \(node.path) --query lyon")
        Out.line("      aces event list --data \(node.path)")
        Out.line("      aces log verify --data \(node.path)")
    }
}
