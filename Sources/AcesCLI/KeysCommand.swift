import AcesCore
import AcesStore
import ArgumentParser
import Foundation

struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "See and rotate this node's signing keys.", subcommands: [List.self, Rotate.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List this node's signing keys and the keys other chapters' logs announced.")
        @OptionGroup var node: NodeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let dir = try node.node()
            let own = dir.config.keys
            let announced = try dir.openStore().keyAnnouncements()
            func time(_ ms: Int64?) -> String { ms.map { Instant.format(Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "" }
            if output.json {
                Out.json([
                    "own": .array(
                        own.map { k in
                            [
                                "id": .string(k.id), "public_key": .string(k.publicKey), "valid_from": .string(time(k.validFrom)),
                                "valid_until": k.validUntil.map { .string(time($0)) } ?? .null, "current": .bool(k.id == own.last?.id),
                            ]
                        }),
                    "announced": .array(
                        announced.map { a in
                            [
                                "origin": .string(a.origin.rawValue), "seq": .number(Double(a.key.seq)),
                                "id": .string(a.key.announcement.keyID),
                            ]
                        }),
                ])
                return
            }
            Out.line("This node (\(dir.chapter)):")
            for k in own {
                let state = k.id == own.last?.id ? "signs now" : "retired \(time(k.validUntil))"
                Out.line("  \(k.id)  from \(time(k.validFrom))  \(state)")
            }
            if !announced.isEmpty {
                Out.line("Announced in the logs held here (each signs its origin's entries after the announcing one):")
                for a in announced { Out.line("  \(a.origin):\(a.key.seq)  \(a.key.announcement.keyID)") }
            }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace this node's signing key; the old key signs nothing after the rotation.",
            discussion: """
                aces keys rotate --data /var/lib/aces
                Writes a new private key (keys/<id>.key, mode 0600), signs with the current key an entry that \
                names the new one, lists the new key in aces.toml and in the chapter's roster file, and deletes \
                the old private key. Every node that receives the entry accepts the new key from the log itself \
                and refuses anything the old key signs after it, so a stolen key file stops being useful. \
                Copy the updated roster file to the other chapters and back up the new key file. \
                If the command is interrupted, run it again: it finishes the rotation it started.
                """)
        @OptionGroup var node: NodeOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let dir = try node.node()
            let (updated, r) = try dir.rotateKey()
            if output.json {
                Out.json([
                    "retired": .string(r.retired), "current": .string(r.current), "announced_at": .string(r.announcedAt.description),
                    "resumed": .bool(r.resumed), "roster_problem": r.rosterProblem.map { .string($0) } ?? .null,
                ])
                return
            }
            if r.resumed { Out.line("Finished the rotation that \(r.announcedAt) started.") }
            Out.line("Entry \(r.announcedAt), signed with \(r.retired), names \(r.current) as this node's signing key.")
            Out.line("\(r.retired) signs nothing after it; its private key file is deleted. Back up \(updated.path)/keys/\(r.current).key.")
            if let roster = updated.config.roster {
                if let problem = r.rosterProblem {
                    Out.line("The roster file could not be updated (\(problem)); run 'aces roster publish' once it can.")
                } else {
                    Out.line(
                        "Updated \(updated.resolve(roster))/\(updated.chapter).toml; copy it to the other chapters (their nodes already accept the new key from the log)."
                    )
                }
            }
        }
    }
}
