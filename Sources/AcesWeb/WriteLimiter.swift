import Foundation
import Synchronization

/// At most `perMinute` writes per member in any sliding minute (`[directory]
/// member_writes_per_minute`), so a stolen session or a stuck client cannot flood the log.
final class WriteLimiter: Sendable {
    let perMinute: Int
    private let recent = Mutex<[String: [Date]]>([:])

    init(perMinute: Int) { self.perMinute = perMinute }

    /// Counts a write by `member` at `now`; false (and nothing counted) when over the limit.
    func allow(_ member: String, now: Date = Date()) -> Bool {
        recent.withLock { recent in
            let since = now.addingTimeInterval(-60)
            if recent.count > 10_000 { recent = recent.filter { $0.value.contains { $0 > since } } }
            var times = (recent[member] ?? []).filter { $0 > since }
            guard times.count < perMinute else {
                recent[member] = times
                return false
            }
            times.append(now)
            recent[member] = times
            return true
        }
    }
}
