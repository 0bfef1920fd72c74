import AcesCore
import AcesStore
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The roster a running node works with, replaced while it runs: when a peer offers a higher
/// version signed by the root, or the CLI installs one (`aces roster install`, `aces init --join`).
/// Validity, the peers to sync with and the certificates accepted all read it here.
public final class LiveRoster: Sendable {
    struct State {
        var signed: SignedRoster?
        var roster: Roster?
        var keys: KeyRing
    }

    let directory: NodeDirectory
    let store: Store
    let logger: Logger
    private let state: NIOLockedValueBox<State>
    private let listeners = NIOLockedValueBox<[@Sendable () -> Void]>([])

    public init(directory: NodeDirectory, store: Store, logger: Logger) throws {
        self.directory = directory
        self.store = store
        self.logger = logger
        let signed = try store.currentRoster().map { try SignedRoster(bytes: Array($0.document.utf8)) }
        let roster = try signed?.roster ?? directory.roster()
        state = NIOLockedValueBox(State(signed: signed, roster: roster, keys: directory.keyRing(for: roster)))
    }

    /// The roster in force (nil: the node has none).
    public var roster: Roster? { state.withLockedValue { $0.roster } }
    /// The keys validity reads: the roster's (`Roster.keyRing`) and the node's own.
    public var keys: KeyRing { state.withLockedValue { $0.keys } }
    /// The signed document in force (nil: the node reads a TOML roster folder).
    public var signed: SignedRoster? { state.withLockedValue { $0.signed } }
    /// Its version (0: none).
    public var version: Int64 { signed?.version ?? 0 }

    /// Calls `f` after each change of roster.
    public func onChange(_ f: @escaping @Sendable () -> Void) { listeners.withLockedValue { $0.append(f) } }

    /// What became of a document offered to this node.
    public enum Outcome: Sendable, Equatable {
        case adopted(Int64)
        case alreadyHeld
        case refused(String)
    }

    /// Verifies a document from `peer` (nil: installed locally) and adopts it if it is a higher
    /// version signed by the root key this node trusts. A refusal is recorded and logged.
    @discardableResult
    public func offer(_ bytes: [UInt8], from peer: ChapterID?) async -> Outcome {
        let offered: SignedRoster
        do { offered = try SignedRoster(bytes: bytes) } catch {
            return await refuse(version: nil, peer: peer, "\(error)")
        }
        guard let held = signed else {
            // Trust in a root key is set up by its operator (aces init --join, aces roster install), never by a peer.
            return await refuse(version: offered.version, peer: peer, "this node holds no signed roster, so it trusts no root key yet")
        }
        switch held.successor(offered) {
        case .alreadyHeld: return .alreadyHeld
        case .refuse(let why): return await refuse(version: offered.version, peer: peer, why)
        case .adopt:
            let saved: Bool
            do {
                saved = try await store.saveRoster(StoredRoster(version: offered.version, document: offered.text, peer: peer?.rawValue))
            } catch { return .refused("could not store roster version \(offered.version): \(error)") }
            // Not saved: another peer (or the CLI) brought the same version a moment ago.
            guard install(offered) || saved else { return .alreadyHeld }
            logger.notice(
                "roster adopted", metadata: ["aces.roster": "\(offered.version)", "aces.peer": "\(peer?.rawValue ?? "local")"])
            return .adopted(offered.version)
        }
    }

    /// Takes a version the CLI stored in the replica while the node runs.
    public func reload() async {
        guard let stored = try? await store.currentRoster(), stored.version > version,
            let doc = try? SignedRoster(bytes: Array(stored.document.utf8))
        else { return }
        if let held = signed, held.successor(doc) != .adopt { return }
        install(doc)
        logger.notice("roster adopted", metadata: ["aces.roster": "\(doc.version)", "aces.peer": "local"])
    }

    /// Puts `doc` in force if it is newer than the one in force; whether it did.
    @discardableResult
    private func install(_ doc: SignedRoster) -> Bool {
        let roster = doc.roster
        let keys = directory.keyRing(for: roster)
        let changed = state.withLockedValue { s -> Bool in
            guard doc.version > (s.signed?.version ?? 0) else { return false }
            s = State(signed: doc, roster: roster, keys: keys)
            return true
        }
        if changed { for f in listeners.withLockedValue({ $0 }) { f() } }
        return changed
    }

    private func refuse(version: Int64?, peer: ChapterID?, _ why: String) async -> Outcome {
        try? await store.refuseRoster(version: version, peer: peer?.rawValue, reason: why)
        logger.warning(
            "roster refused", metadata: ["aces.peer": "\(peer?.rawValue ?? "local")", "aces.roster": "\(version.map(String.init) ?? "?")"])
        return .refused(why)
    }
}
