import AcesCore
import AcesStore
import ArgumentParser
import Foundation

extension MemberCommand {
    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a personal sign-in link for a member, or revoke a member's links and sessions.",
            discussion: """
                aces member invite ID              a link valid 14 days (send it to the member yourself)
                aces member invite ID --days 60
                aces member invite ID --revoke     every link and session of the member stops working
                A link opens one session (on one browser) and is then spent: print a new one for another \
                device. Signed in, a member also sees members-only profiles, and chapter-only profiles of \
                their own chapter. The node keeps only a digest of each link's secret.
                """)
        @OptionGroup var node: NodeOptions
        @Argument(help: "The member's id.") var id: String
        @Option(help: "Days the link stays valid (1 to 365).") var days = 14
        @Flag(help: "Revoke every link and session of the member instead.") var revoke = false

        func validate() throws {
            _ = try FieldInput.recordID(.member, id)
            guard (1...365).contains(days) else { throw ValidationError("--days must be from 1 to 365") }
        }

        func run() throws {
            let id = try FieldInput.recordID(.member, id)
            let dir = try node.node()
            let store = try dir.openStore()
            if revoke {
                let n = try store.revokeAccess(member: id)
                return Out.line("Revoked \(n) link(s) and session(s) of member \(id).")
            }
            guard let r = try store.record(.member, id: id), !r.removed else { throw StoreError.notFound(.member, id) }
            guard r.values["chapter"]?.stringValue == dir.chapter.rawValue else {
                throw StoreError.invalid(
                    "member \(id) belongs to chapter \(r.values["chapter"]?.stringValue ?? "?"); their own chapter's node invites them")
            }
            guard let base = dir.config.web?.url else {
                throw StoreError.invalid("aces.toml has no [web] url; set it so the link points at this node's pages")
            }
            let invite = try store.invite(member: id, lifetime: Double(days) * 86400, random: SecretToken.random(32))
            let root = base.hasSuffix("/") ? String(base.dropLast()) : base
            Out.line("\(root)/signin?token=\(invite.token)")
            let until = Instant.format(invite.expiresAt)
            FileHandle.standardError.write(
                Data("Valid until \(until), for one sign-in. Send it to the member only; it is not shown again.\n".utf8))
        }
    }
}

struct AdminCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage access to the admin API.", subcommands: [Token.self])

    struct Token: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create, list and revoke admin API tokens.", subcommands: [Create.self, List.self, Revoke.self])
    }
}

extension AdminCommand.Token {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token for the admin API and print it once.",
            discussion: """
                aces admin token create --label "membership spreadsheet sync"
                Use it as: Authorization: Bearer <token>. The node keeps only its digest.
                """)
        @OptionGroup var node: NodeOptions
        @Option(help: "What the token is for (shown by 'list').") var label: String

        func validate() throws {
            let l = label.trimmingCharacters(in: .whitespaces)
            guard !l.isEmpty, l.utf8.count <= 100, !l.contains(where: \.isNewline) else {
                throw ValidationError("--label must be 1 to 100 bytes of UTF-8 on one line")
            }
        }

        func run() throws {
            let store = try node.node().openStore()
            let t = try store.createAdminToken(label: label.trimmingCharacters(in: .whitespaces), random: SecretToken.random(36))
            Out.line(t.token)
            FileHandle.standardError.write(
                Data("Token \(t.id) created; it is not shown again. Revoke it with 'aces admin token revoke \(t.id)'.\n".utf8))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List admin API tokens (never their secrets).")
        @OptionGroup var node: NodeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let tokens = try node.node().openStore().adminTokens()
            if output.json {
                return Out.json(
                    .array(
                        tokens.map {
                            [
                                "id": .string($0.id), "label": .string($0.label), "created": .string(Instant.format($0.createdAt)),
                                "revoked": $0.revokedAt.map { .string(Instant.format($0)) } ?? .null,
                            ]
                        }))
            }
            Out.table(
                ["ID", "LABEL", "CREATED", "REVOKED"],
                tokens.map { [$0.id, $0.label, Instant.format($0.createdAt), $0.revokedAt.map(Instant.format) ?? "-"] })
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an admin API token at once.")
        @OptionGroup var node: NodeOptions
        @Argument(help: "The token's id (from 'list').") var id: String

        func run() throws {
            guard try node.node().openStore().revokeAdminToken(id: id) else {
                throw StoreError.invalid("no live admin token with id '\(id.prefix(20))' (see 'aces admin token list')")
            }
            Out.line("Revoked admin token \(id).")
        }
    }
}
