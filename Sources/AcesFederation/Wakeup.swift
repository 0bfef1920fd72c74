import AcesHTTP
import NIOConcurrencyHelpers

/// Wakes one waiting loop. A signal sent while the loop is busy is kept, so the loop's next wait
/// returns at once: nothing signalled is ever missed, and many signals make one wake-up.
///
/// ```swift
/// let wake = Wakeup()
/// // a loop:             await wake.wait(timeout: .seconds(30))
/// // anywhere, any time: wake.signal()
/// ```
final class Wakeup: Sendable {
    private struct State {
        var signalled = false
        var waiter: CheckedContinuation<Void, Never>?
    }
    private let state = NIOLockedValueBox(State())

    /// Wakes the waiting loop, or the next wait if none is waiting.
    func signal() {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
            guard let w = s.waiter else {
                s.signalled = true
                return nil
            }
            s.waiter = nil
            return w
        }
        waiter?.resume()
    }

    /// Returns when signalled, after `timeout`, or at once when the task is cancelled.
    func wait(timeout: Duration) async {
        _ = try? await withDeadline(timeout) { await self.next() }
    }

    /// Returns at the next signal (or a kept one), or when the task is cancelled.
    private func next() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLockedValue { s -> Bool in
                    if s.signalled {
                        s.signalled = false
                        return true
                    }
                    if Task.isCancelled { return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume()
        }
    }
}
