import Foundation
import NIOConcurrencyHelpers

/// Calendar feeds as last rendered, so that the apps polling them do not rebuild hundreds of
/// events (nor hash them for their entity tag) for every poll. A feed is reused only while the replica holds the same entries (the
/// store's change counter, the sum of every origin's head) and for at most `lifetime` seconds,
/// since the feed's window of past events moves with the clock.
final class FeedCache: Sendable {
    private let feeds = NIOLockedValueBox<[String: (changes: Int64, at: Date, feed: RenderedText)]>([:])
    let lifetime: TimeInterval

    init(lifetime: TimeInterval = 60) { self.lifetime = lifetime }

    /// The feed at `key` for a replica at `changes`, rendering it with `render` when the cached
    /// one is older or stale.
    func feed(_ key: String, changes: Int64, now: Date, render: () async throws -> String) async rethrows -> RenderedText {
        if let hit = feeds.withLockedValue({ $0[key] }), hit.changes == changes, now.timeIntervalSince(hit.at) < lifetime,
            now >= hit.at
        {
            return hit.feed
        }
        let feed = RenderedText(try await render())
        feeds.withLockedValue { $0[key] = (changes, now, feed) }
        return feed
    }
}
