import AcesCore
import AcesNodeFiles
import AcesStore
import AcesTestSupport
import Foundation
import Testing

@Suite(.serialized) struct ErasureTests {
    /// The bytes of a replica's files (database and WAL), after a checkpoint.
    func files(_ node: NodeDirectory) throws -> Data {
        try? node.openStore().checkpoint()
        var all = Data()
        for suffix in ["", "-wal"] {
            if let d = FileManager.default.contents(atPath: node.databasePath + suffix) { all.append(d) }
        }
        return all
    }

    @Test func anErasureRemovesTheValuesFromEveryNodeAndIsFinal() async throws {
        // de and uk are stewards: de's edit of fr's member, concurrent with the erasure, is valid, and
        // uk (a board node) may erase it.
        let fed = try RunningFederation(["fr", "uk", "de"], stewards: ["de", "uk"])
        defer { fed.shutdownLeftovers() }
        let id = try fed.addMember(on: "fr", 77, city: "Paris")
        try fed.update(on: "fr", id: id, ["bio": "Unique bio 7qz for the erasure test", "email": "erase-me-zq7@example.org"])
        try await fed.start("fr", "uk", "de")
        #expect(try await fed.converge(["fr", "uk", "de"]))

        // de edits the member while cut off: that edit is concurrent with the erasure.
        await fed.stop("de")
        try fed.update(on: "de", id: id, ["city": "Köln-zq7"])
        let uk = fed.node("uk")
        let erase = try uk.openStore().erase(.member, id: id, reason: "request 4711", as: try uk.author())
        try await fed.start("de")
        #expect(try await fed.converge(["fr", "uk", "de"]))

        for c in ["fr", "uk", "de"] {
            let node = fed.node(c)
            let store = try node.openStore()
            let r = try #require(try await store.record(.member, id: id))
            #expect(r.removed && r.state.erased && r.values.isEmpty, "on \(c)")
            #expect(try store.verifyLog(keys: node.keyRing()).isValid, "log of \(c) no longer verifies")
            #expect(try store.integrityCheck() == "ok")
            let bytes = try files(node)
            for secret in ["erase-me-zq7", "Unique bio 7qz", "Köln-zq7"] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil, "'\(secret)' is still in \(c)'s files")
            }
        }
        // No later edit brings it back.
        let fr = fed.node("fr")
        #expect(throws: StoreError.self) {
            try fr.openStore().author(as: try fr.author()) { _ in [.set(.member, id: id, values: ["city": "Back"])] }
        }

        // uk sees both peers confirm once it has synced with them again.
        var confirmed = false
        for _ in 0..<100 where !confirmed {
            let peers = try await uk.openStore().peerStatuses()
            confirmed = peers.count == 2 && peers.allSatisfy { ($0.heads["uk"] ?? 0) >= erase.envelope.seq }
            if !confirmed { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(confirmed)
        #expect(try uk.openStore().erasure(of: .member, id: id)?.reason == "request 4711")
        await fed.stopAll()
    }
}
