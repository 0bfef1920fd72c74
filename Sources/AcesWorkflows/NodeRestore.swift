import AcesCore
import AcesFederation
import AcesNodeFiles
import AcesStore
import Foundation
import Logging

/// Rebuilds a node's replica from a backup file or from its peers without forking its own log:
/// the workflow behind `aces restore`, in the node's library so an admin API can reuse it.
///
/// ```swift
/// let store = try NodeRestore.install(path: "/var/lib/aces", from: .backup("/backups/aces.sqlite"))
/// let outcome = try await NodeRestore.confirm(path: "/var/lib/aces", store: store, quorum: nil, authorWithoutPeers: false, logger: logger)
/// ```
public enum NodeRestore {
    /// Where the replica comes from.
    public enum Source: Sendable, Equatable {
        /// A file made by `aces backup`.
        case backup(String)
        /// Nothing: start empty, as `chapter` (checked against aces.toml), and take everything from the peers.
        case peers(chapter: String)
    }

    /// What the restore did, for the operator.
    public struct Outcome: Sendable {
        public var chapter: ChapterID
        /// This node's own head right after the replica was installed, before any sync.
        public var restoredSeq: Int64
        /// Peers that must confirm (0 with `authorWithoutPeers`).
        public var quorum: Int
        public var peers: Int
        /// The first sync pass with each peer.
        public var passes: [(ChapterID, Result<Syncer.PullReport, SyncError>)]
        /// This node's own head after that pass.
        public var seq: Int64
        /// The lock still in force (nil: the node may author).
        public var lock: RestoreLock?
    }

    /// Installs the replica in the data directory at `path`, whose aces.toml, key and
    /// certificates are in place and whose replica is gone. A backup is checked (its chapter,
    /// its integrity) in a staging copy before it takes the replica's name.
    public static func install(path: String, from source: Source) throws -> Store {
        guard let text = try? String(contentsOfFile: path + "/aces.toml", encoding: .utf8) else {
            throw NodeError.restore("\(path) has no aces.toml: put the node's configuration, key and certificates back first")
        }
        let config = try NodeConfig.parse(text)
        let database = path + "/" + NodeDirectory.databaseName
        let fm = FileManager.default
        guard !fm.fileExists(atPath: database) else {
            throw NodeError.restore("\(database) exists: move the damaged replica away first (it is never overwritten)")
        }
        switch source {
        case .backup(let from):
            guard fm.fileExists(atPath: from) else { throw NodeError.restore("cannot read \(from)") }
            let staged = database + ".restoring"
            if fm.fileExists(atPath: staged) { try fm.removeItem(atPath: staged) }
            try fm.copyItem(atPath: from, toPath: staged)
            do {
                let candidate = try Store.open(at: staged)
                guard candidate.chapter.rawValue == config.chapter else {
                    throw NodeError.restore("\(from) is a replica of chapter '\(candidate.chapter)', not of '\(config.chapter)'")
                }
                guard try candidate.integrityCheck() == "ok" else { throw NodeError.restore("\(from) is damaged (integrity check failed)") }
            } catch {
                // The staging copy is ours: it goes, and the first failure is the one to tell.
                try? fm.removeItem(atPath: staged)
                throw error
            }
            try fm.moveItem(atPath: staged, toPath: database)
            try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: database)
            return try Store.open(at: database)
        case .peers(let chapter):
            guard chapter == config.chapter, let id = ChapterID(chapter) else {
                throw NodeError.restore("--chapter \(chapter) does not match aces.toml (chapter = \"\(config.chapter)\")")
            }
            return try Store.create(at: database, chapter: id)
        }
    }

    /// Locks authoring until `quorum` peers (default: every configured peer, at most 2) confirm
    /// this node's latest entries, unless `authorWithoutPeers`, then runs one sync pass.
    public static func confirm(
        path: String, store: Store, quorum: Int?, authorWithoutPeers: Bool, logger: Logger
    ) async throws -> Outcome {
        let dir = try NodeDirectory.open(path)
        let (syncer, http) = try FederationClient.make(directory: dir, store: store, tls: try dir.tlsMaterial(), logger: logger)
        do {
            let peers = syncer.peerChapters.count
            let own = try await store.heads().first { $0.origin == dir.chapter }?.seq ?? 0
            let quorum = authorWithoutPeers ? 0 : quorum ?? max(1, min(2, peers))
            guard peers == 0 || quorum <= peers else {
                throw NodeError.restore("--quorum \(quorum) is more than this node's \(peers) peer(s)")
            }
            if !authorWithoutPeers { try await store.lockUntilOwnHeadConfirmed(quorum: quorum) }
            let passes = peers == 0 ? [] : await syncer.syncAll()
            try await http.shutdown()
            return Outcome(
                chapter: dir.chapter, restoredSeq: own, quorum: quorum, peers: peers, passes: passes,
                seq: try await store.heads().first { $0.origin == dir.chapter }?.seq ?? 0, lock: try await store.restoreLock())
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}
