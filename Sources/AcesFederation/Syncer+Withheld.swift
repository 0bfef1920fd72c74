import AcesCore
import AcesStore
import Foundation

extension Syncer {
    /// Asks `client`'s peer for the entries whose payloads this node holds as withheld (a relay
    /// sent them stripped), and applies each payload that matches its digest. Bounded by
    /// `Store.withheldAskEntries` and `Store.withheldAskRequests` per pass; a peer that holds
    /// no payload either (it answers null) or fails is simply asked again at the next pass.
    /// Returns how many operations were applied.
    func fetchWithheld(from client: PeerClient) async -> Int {
        guard let requests = try? await store.withheldRequests(), !requests.isEmpty else { return 0 }
        var resolved = 0
        for request in requests {
            do {
                var found = [Entry]()
                try await client.entries(of: request.origin, after: request.after, limit: Int64(request.limit)) { line in
                    // A line that cannot be read resolves nothing; the entry itself is already held.
                    guard let e = try? Entry(wireLine: line) else { return false }
                    if e.envelope.origin == request.origin, request.seqs.contains(e.envelope.seq), e.payloads.contains(where: { $0 != nil })
                    {
                        found.append(e)
                    }
                    if found.count >= 64 {
                        resolved += try await store.resolveWithheld(found)
                        found.removeAll()
                    }
                    return e.envelope.seq < request.after + Int64(request.limit)
                }
                resolved += try await store.resolveWithheld(found)
            } catch {
                logger.debug(
                    "asking for withheld payloads failed", metadata: ["aces.peer": "\(client.peer)", "aces.origin": "\(request.origin)"])
            }
        }
        if resolved > 0 {
            logger.info("withheld payloads applied", metadata: ["aces.peer": "\(client.peer)", "aces.operations": "\(resolved)"])
        }
        return resolved
    }
}
