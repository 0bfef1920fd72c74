import AcesCore
import ArgumentParser

/// The `aces` command: one executable for chapter admins and operators.
public struct AcesCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "aces",
        abstract: "Aces: a federated member directory and event calendar for national chapters.",
        discussion: """
            Each chapter runs one node holding a SQLite replica of the Europe-wide directory and \
            calendar. Every local write becomes a signed entry in the chapter's hash-chained log. \
            Name the node's data directory with --data DIR or the ACES_DATA environment variable.
            """,
        version: AcesCommand.version,
        subcommands: [
            InitCommand.self, MemberCommand.self, EventCommand.self, LogCommand.self, DigestCommand.self,
            StatusCommand.self, DemoCommand.self, BenchCommand.self, FederationCommand.self, RosterCommand.self,
            ServeCommand.self, SyncCommand.self, PeersCommand.self, ConflictsCommand.self, BenchSeedCommand.self, BenchLoadCommand.self,
            CertsCommand.self, JoinCommand.self, ConfigCommand.self,
            AdminCommand.self, BackupCommand.self, RestoreCommand.self, KeysCommand.self, PruneCommand.self,
        ]
    )

    /// What `aces --version` prints: this release and the log protocol version it writes and reads.
    static let version = "aces \(release) (log protocol version \(Envelope.formatVersion))"
    /// This release of Aces.
    static let release = "0.11.0"

    public init() {}

    /// Parses the command line and runs the command. A wrong command line gets its sentence and the
    /// usage (exit 64); an error while running gets its sentence only (exit 1), never the usage, a
    /// Foundation error dump or a decoder dump (see `CLIError.plain`).
    public static func main() async {
        let command: ParsableCommand
        do { command = try await asyncParseAsRoot(nil) } catch { exit(withError: error) }
        do {
            var command = command
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: CLIError.plain(error))
        }
    }
}
