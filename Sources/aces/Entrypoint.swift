import AcesCLI
import AcesDevTools
import ArgumentParser

/// The `aces` command: one executable for chapter admins and operators.
struct AcesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aces",
        abstract: "Aces: a federated member directory and event calendar for national chapters.",
        discussion: """
            Each chapter runs one node holding a SQLite replica of the Europe-wide directory and \
            calendar. Every local write becomes a signed entry in the chapter's hash-chained log. \
            Name the node's data directory with --data DIR or the ACES_DATA environment variable.
            """,
        version: OperatorCommands.version,
        subcommands: OperatorCommands.all + DevelopmentCommands.all
    )
}

/// The `aces` executable: parses the command line and calls into AcesCLI.
@main
enum Entrypoint {
    static func main() async {
        await OperatorCommands.run(AcesCommand.self)
    }
}
