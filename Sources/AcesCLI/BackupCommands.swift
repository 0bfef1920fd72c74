import AcesCore
import AcesStore
import AcesWorkflows
import ArgumentParser
import Foundation
import Logging

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the node's replica to a file, safely while it serves.",
        discussion: """
            aces backup --data /var/lib/aces --to /backups/aces-2026-11-29.sqlite
            The copy is consistent (SQLite VACUUM INTO) and readable by you only. It holds no signing key: \
            keep the key file (keys/*.key) backed up separately, somewhere safe.
            """)
    @OptionGroup var node: NodeOptions
    @Option(help: "The backup file to create (never overwritten).") var to: String

    func run() throws {
        let dir = try node.node()
        let store = try dir.openStore()
        try store.backup(to: to)
        let heads = try store.heads().map { "\($0.origin):\($0.seq)" }.joined(separator: ", ")
        let size = (try? FileManager.default.attributesOfItem(atPath: to)[.size] as? Int) ?? 0
        Out.line("Backed up to \(to) (\(size / 1024) KiB; heads \(heads.isEmpty ? "none" : heads)).")
    }
}

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Rebuild a node's replica from a backup file or from its peers, without forking its own log.",
        discussion: """
            aces restore --data /var/lib/aces --from /backups/aces-2026-11-29.sqlite
            aces restore --data /var/lib/aces --from-peers --chapter fr
            The data directory keeps its aces.toml, key and certificates; its replica must be gone (move a \
            damaged one away first). The restored node then refuses to author until --quorum peers (default: \
            every configured peer, at most 2) have shown it its own latest entries: sync pulls them back from \
            the peers that hold them, so nothing it signed before is signed again differently. A node with no \
            peer, or whose peers cannot be reached, stays locked until one confirms (add a peer to aces.toml \
            and run 'aces sync'), unless you pass --author-without-peers.
            """)
    @OptionGroup var node: NodeOptions
    @Option(help: "A backup made by 'aces backup'.") var from: String?
    @Flag(help: "Start empty and take everything, this node's own entries included, from the peers.") var fromPeers = false
    @Option(help: "With --from-peers: the chapter this node is (a check against aces.toml).") var chapter: String?
    @Option(help: "Peers that must confirm this node's latest entries before it authors again.") var quorum: Int?
    @Flag(
        help: """
            Author at once, without a peer confirming this node's latest entries. Risky: if another node holds \
            entries of this chapter newer than the backup, this node signs different entries at the same numbers, \
            the chapter's log forks, and every node that sees both freezes the chapter until operators resolve it.
            """)
    var authorWithoutPeers = false

    func validate() throws {
        guard (from != nil) != fromPeers else { throw ValidationError("give either --from FILE or --from-peers") }
        if fromPeers && chapter == nil { throw ValidationError("--from-peers needs --chapter, the chapter this node is") }
        if let quorum, quorum < 1 { throw ValidationError("--quorum must be at least 1") }
        if authorWithoutPeers && quorum != nil { throw ValidationError("give either --quorum or --author-without-peers, not both") }
    }

    func run() async throws {
        let path = try node.path
        let store = try NodeRestore.install(path: path, from: from.map { .backup($0) } ?? .peers(chapter: chapter ?? ""))
        var logger = Logger(label: "aces")
        logger.logLevel = .warning
        let outcome = try await NodeRestore.confirm(
            path: path, store: store, quorum: quorum, authorWithoutPeers: authorWithoutPeers, logger: logger)
        let c = outcome.chapter
        if authorWithoutPeers {
            Out.line("Restored \(c) at \(c):\(outcome.restoredSeq).")
            Out.error(
                "--author-without-peers: this node authors at once; if another node holds newer entries of \(c), its log forks and the federation freezes it."
            )
        } else {
            Out.line(
                "Restored \(c) at \(c):\(outcome.restoredSeq). It authors again once \(outcome.quorum) peer(s) confirm its latest entries.")
        }
        if outcome.peers == 0 {
            if !authorWithoutPeers {
                Out.line(
                    "Authoring stays locked: this node has no peers to show it entries it signed after the backup. Add a peer to aces.toml and run 'aces sync'; only if no other node ever held \(c)'s log, restore again with --author-without-peers."
                )
            }
            return
        }
        for (peer, r) in outcome.passes {
            switch r {
            case .success(let rep): Out.line("\(peer): \(rep.total) entries")
            case .failure(let e): Out.line("\(peer): \(e)")
            }
        }
        if authorWithoutPeers {
            Out.line("Authors from \(c):\(outcome.seq), confirmed by no peer.")
        } else if let lock = outcome.lock {
            Out.line(
                "Authoring stays locked: \(lock.confirmed.count) of \(lock.quorum) peer(s) confirmed; 'aces serve' or 'aces sync' continues."
            )
        } else {
            Out.line("Confirmed by its peers at \(c):\(outcome.seq): the node may author again.")
        }
    }
}
