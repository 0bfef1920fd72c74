import AcesStore
import ArgumentParser
import Foundation

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Apply the retention policy now, and finish purging erased records from the file.",
        discussion: """
            aces prune --data /var/lib/aces
            Deletes quarantine evidence, sessions and sign-in links older than [retention] in aces.toml allows \
            (see docs/OPERATIONS.md); a running node does the same every 6 hours.
            """)
    @OptionGroup var node: NodeOptions

    func run() throws {
        let dir = try node.node()
        let store = try dir.openStore()
        let policy = dir.config.retentionPolicy
        let done = try store.applyRetention(policy)
        try store.purgeErasedTraces()
        Out.line(
            "Deleted \(done.quarantine) quarantined entries older than \(policy.quarantineDays) days, \(done.sessions) sessions and \(done.invites) sign-in links spent more than \(policy.sessionDays) and \(policy.inviteDays) days ago."
        )
    }
}
