import AcesCore
import AcesStore
import ArgumentParser
import Foundation

extension MemberCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show every change to a member: when, by which chapter, and whether the member or an admin made it.",
            discussion: """
                aces member history ID
                Lists the signed changes to the member in the logs this node holds, oldest first. BY is \
                'member' for the member's own edits from their profile page ("by": "member" in the entry), \
                'admin' for the chapter's admins and operators. Values are not shown; --json adds them.
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @OptionGroup var output: OutputOptions

        func validate() throws { _ = try FieldInput.recordID(.member, id) }

        func run() throws {
            let id = try FieldInput.recordID(.member, id)
            let changes = try node.node().openStore().history(.member, id: id)
            guard !changes.isEmpty else { throw StoreError.notFound(.member, id) }
            if output.json { return Out.json(.array(changes.map(\.json))) }
            Out.table(
                ["AT", "ENTRY", "BY", "ACTION", "FIELDS"],
                changes.map { c in
                    [
                        Instant.format(Date(timeIntervalSince1970: Double(c.millis) / 1000)), c.version.description,
                        c.byMember ? "member" : "admin", c.action, c.fields.joined(separator: ","),
                    ]
                })
        }
    }

    struct Erasures: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the erasures members asked for from their profile, or decline one.",
            discussion: """
                aces member erasures                 # pending requests ([directory] member_erasure = "review")
                aces member erasures --all           # declined and carried out ones too
                aces member erase ID --reason "..."  # carry one out
                aces member erasures --decline ID    # decline one (write to the member to say why)
                """)
        @OptionGroup var node: NodeOptions
        @Flag(help: "Include declined and carried-out requests.") var all = false
        @Option(help: "Decline the pending request of this member.") var decline: String?
        @OptionGroup var output: OutputOptions

        func validate() throws {
            if let decline { _ = try FieldInput.recordID(.member, decline) }
        }

        func run() throws {
            let store = try node.node().openStore()
            if let decline {
                let id = try FieldInput.recordID(.member, decline)
                guard try store.declineErasure(of: id) else { throw StoreError.invalid("member \(id) has no pending erasure request") }
                return Out.line("Declined the erasure request of member \(id).")
            }
            let requests = try store.erasureRequests(pendingOnly: !all)
            if output.json { return Out.json(.array(requests.map(\.json))) }
            Out.table(
                ["MEMBER", "REQUESTED", "STATE"], requests.map { [$0.member, Instant.format($0.requestedAt), $0.state] })
        }
    }
}
