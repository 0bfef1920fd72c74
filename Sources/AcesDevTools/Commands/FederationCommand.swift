import AcesCLI
import AcesCore
import AcesNodeFiles
import ArgumentParser

struct FederationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federation", abstract: "Create a complete local federation for development and tests.",
        subcommands: [Create.self])

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "CA, node certificates, roster and one data directory per chapter, on loopback ports.",
            discussion: "Example: aces federation create --dir ./fed --chapters fr,uk,de && aces serve --data ./fed/fr")
        @Option(help: "The folder to create.") var dir: String
        @Option(help: "Comma-separated chapter ids.") var chapters = "fr,uk,de"
        @Option(help: "First port; chapter i listens on base+2i (web) and base+2i+1 (federation).") var basePort = 7100
        @Flag(help: "Make <dir>/certs the roster's root and give every node signed roster version 1 (see 'aces roster').")
        var signedRoster = false

        func validate() throws {
            for c in chapters.split(separator: ",") where ChapterID(String(c)) == nil {
                throw ValidationError("--chapters: '\(c)' is not valid; \(ChapterID.rule)")
            }
            guard (1024...65_000).contains(basePort) else { throw ValidationError("--base-port must be from 1024 to 65000") }
        }

        func run() throws {
            let ids = chapters.split(separator: ",").compactMap { ChapterID(String($0)) }
            let nodes = try LocalFederation.create(at: dir, chapters: ids, basePort: basePort, signedRoster: signedRoster)
            Out.line("Created a federation of \(nodes.count) chapters in \(dir):")
            for n in nodes {
                Out.line("  \(n.chapter)  data \(n.path)  web \(n.config.web?.url ?? "")  federation \(n.config.federation?.url ?? "")")
            }
            Out.line("Start a node with: aces serve --data \(nodes[0].path)")
        }
    }
}
