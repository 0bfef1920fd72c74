import ArgumentParser

/// The `aces` command: one executable for chapter admins and operators.
public struct AcesCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "aces",
        abstract: "Aces: a federated member directory and event calendar for national chapters.",
        discussion: """
            Each chapter runs one node holding a SQLite replica of the Europe-wide directory and
            calendar. Every local write becomes a signed entry in the chapter's hash-chained log.
            Name the node's data directory with --data DIR or the ACES_DATA environment variable.
            """,
        subcommands: [
            InitCommand.self, MemberCommand.self, EventCommand.self, LogCommand.self, DigestCommand.self,
            StatusCommand.self, DemoCommand.self, BenchCommand.self, FederationCommand.self, RosterCommand.self,
            ServeCommand.self, SyncCommand.self, PeersCommand.self, ConflictsCommand.self, BenchSeedCommand.self, BenchLoadCommand.self, CertsCommand.self,
            AdminCommand.self, BackupCommand.self, RestoreCommand.self, KeysCommand.self,
        ]
    )

    public init() {}
}
