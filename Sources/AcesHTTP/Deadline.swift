/// Runs `body`, giving up after `limit`: its result, or nil when the time ran out first (`body`
/// is then cancelled). The sync client bounds its requests and its waits for a peer's next bytes
/// with it, and the sync loops their sleeps.
public func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}
