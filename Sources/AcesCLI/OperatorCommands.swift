import AcesCore
import ArgumentParser

/// What every `aces` executable shares: the release, the commands of chapter admins and operators,
/// and how a command line is run. The executable (`Sources/aces`) adds the development tools'
/// commands (`demo`, `bench`) and names the root command.
public enum OperatorCommands {
    /// What `aces --version` prints: this release and the log protocol version it writes and reads.
    public static let version = "aces \(release) (log protocol version \(Envelope.formatVersion))"
    /// This release of Aces.
    public static let release = "0.11.0"

    /// The commands of chapter admins and operators, in the order `aces --help` lists them.
    public static let all: [any ParsableCommand.Type] = [
        InitCommand.self, MemberCommand.self, EventCommand.self, LogCommand.self, DigestCommand.self, StatusCommand.self,
        RosterCommand.self, ServeCommand.self, SyncCommand.self, PeersCommand.self, ConflictsCommand.self, CertsCommand.self,
        JoinCommand.self, ConfigCommand.self, AdminCommand.self, BackupCommand.self, RestoreCommand.self, KeysCommand.self,
        PruneCommand.self,
    ]

    /// Parses the command line and runs the command. A wrong command line gets its sentence and the
    /// usage (exit 64); an error while running gets its sentence only (exit 1), never the usage, a
    /// Foundation error dump or a decoder dump (see `CLIError.plain`).
    public static func run<Root: AsyncParsableCommand>(_ root: Root.Type) async {
        let command: ParsableCommand
        do { command = try await Root.asyncParseAsRoot(nil) } catch { Root.exit(withError: error) }
        do {
            var command = command
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            Root.exit(withError: CLIError.plain(error))
        }
    }
}
