import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// A node restored and still waiting for its peers to show it its own latest entries says so in
/// `aces status`, and its admin API answers a write with 503 and the reason, writing nothing.
@Suite(.serialized) struct RestoreLockAPITests {
    @Test func aWriteDuringTheRestoreLockIs503WithTheReasonAndStatusShowsTheLock() async throws {
        try await WebNode.with(seed: APITests.seed) { n in
            let store = try n.store()
            try await store.lockUntilOwnHeadConfirmed(quorum: 2)
            let heads = try await store.heads().map(\.seq)
            let (auth, json) = (try APITests.token(n), APITests.json)
            let write = try await n.send(
                .POST, "/admin/v1/members", headers: [auth, json], body: #"{"email": "new@example.fr", "name": "New Member"}"#)
            #expect(write.status == 503, "\(write.status) \(write.body)")
            #expect(write.json?["error"]?.stringValue?.contains("this node was restored") == true, "\(write.body)")
            #expect(try await store.heads().map(\.seq) == heads, "nothing was written")

            let status = try await AcesProcess.runAsync(["status", "--data", n.fed.node("fr").path])
            #expect(status.stdout.contains("LOCKED   restored: writes are refused until 2 peer(s)"), "\(status.stdout)")
            let machine = try await AcesProcess.runAsync(["status", "--json", "--data", n.fed.node("fr").path])
            #expect(machine.stdout.contains(#""restore_lock":{"confirmed":[],"quorum":2}"#), "\(machine.stdout)")
        }
    }
}
