import Foundation

/// Where a server runs the synchronous writes it shares with the CLI (an admin's edit through
/// `Editor`, which authors with `Store.author` and reads the signing key): on a thread of its
/// own, never on the few threads of the Swift concurrency pool, which must stay free to answer
/// requests while a write waits for SQLite's write lock. Writes to one replica are serial anyway.
public enum WriteQueue {
    private static let queue = DispatchQueue(label: "aces.writes")

    /// Runs `body` on the write thread and returns its result.
    public static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result(catching: body)) }
        }
    }
}
