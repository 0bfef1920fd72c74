import AcesCore
import Foundation
import GRDB

/// A large pull of one origin's entries (a catch-up), applied batch after batch in a few long
/// write transactions instead of one per batch.
///
/// Each batch is verified and applied exactly as `Store.apply` does it, inside a savepoint of
/// the open transaction; the transaction commits once it holds `windowEntries` entries, has been
/// open `windowSeconds`, or no batch arrived for `idleSeconds`, and when the session closes.
/// A page of SQLite's B-trees that several batches change is then written to the WAL (and
/// checkpointed) once per transaction rather than once per batch, and the `entry_records` rows
/// are staged and moved into their table, sorted, once the session closes (see `EntryRecords`):
/// both were most of what a catch-up's commits cost.
///
/// A batch's report is handed back as soon as it is applied, before the commit, so the caller
/// parses the next batch meanwhile. The commit moves every origin's head at once: readers see
/// the state of whole batches, never part of one. While a transaction is open, other writers
/// of the process wait for it (at most about `windowSeconds`); readers do not.
///
/// The caller must `close()` the session before it writes to the store itself (a write would
/// wait for the session's transaction) and at the end of the pull; a pull that fails on the way
/// may leave it: the open transaction commits after `idleSeconds` without a batch.
public final class CatchUpSession: @unchecked Sendable {
    /// Entries applied in one transaction, at most (ten batches of 2,500).
    public static let windowEntries = 25_000
    /// Seconds a transaction stays open, at most, before the next batch starts another: what
    /// another writer of the process may wait, at worst, during a catch-up.
    static let windowSeconds = 3.0
    /// Seconds the open transaction waits for the next batch before it commits.
    static let idleSeconds = 0.25

    private let store: Store
    private let origin: ChapterID
    private let keys: KeyRing
    private let peer: String?

    private struct Job {
        let run: [Entry]
        let done: @Sendable (Result<ApplyReport, any Error>) -> Void
    }

    /// Guards everything below it.
    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var closing = false
    private var closeWaiters: [@Sendable (Result<Void, any Error>) -> Void] = []
    private var running = false
    /// Why the session stopped applying (then every later batch fails with it).
    private var failure: (any Error)?

    public init(store: Store, origin: ChapterID, keys: KeyRing, peer: String?) {
        self.store = store
        self.origin = origin
        self.keys = keys
        self.peer = peer
    }

    /// Verifies and applies `run` as `Store.apply` does, in the session's open transaction.
    public func apply(_ run: [Entry]) async throws -> ApplyReport {
        try await withCheckedThrowingContinuation { done in submit(run) { done.resume(with: $0) } }
    }

    /// Commits what was applied and ends the session; throws if a batch or a commit failed.
    public func close() async throws {
        try await withCheckedThrowingContinuation { done in end { done.resume(with: $0) } }
    }

    /// `apply` for synchronous code (it blocks the calling thread: never call it from async code).
    public func applyAndWait(_ run: [Entry]) throws -> ApplyReport {
        let result = Waiting<ApplyReport>()
        submit(run) { result.set($0) }
        return try result.get()
    }

    /// `close` for synchronous code (it blocks the calling thread: never call it from async code).
    public func closeAndWait() throws {
        let result = Waiting<Void>()
        end { result.set($0) }
        try result.get()
    }

    private func submit(_ run: [Entry], done: @escaping @Sendable (Result<ApplyReport, any Error>) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        if let failure { return done(.failure(failure)) }
        if closing { return done(.failure(StoreError.invalid("the catch-up session is closed"))) }
        jobs.append(Job(run: run, done: done))
        if !running {
            running = true
            let thread = Thread { [self] in work() }
            thread.name = "aces-catch-up"
            thread.start()
        }
        condition.signal()
    }

    private func end(_ done: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        condition.lock()
        defer { condition.unlock() }
        closing = true
        if running {
            closeWaiters.append(done)
            condition.signal()
        } else if let failure {
            done(.failure(failure))
        } else {
            done(.success(()))
        }
    }

    /// The session's thread: one transaction after another while batches come. It ends when the
    /// session closes, or when no batch came for a while (a pull that failed without closing it:
    /// what it applied is committed already); a later batch starts another.
    private func work() {
        while true {
            condition.lock()
            let quit = Date().addingTimeInterval(10)
            while jobs.isEmpty && !closing {
                if !condition.wait(until: quit) { break }
            }
            if jobs.isEmpty {
                let closed = closing
                condition.unlock()
                // The catch-up is over: its staged `entry_records` rows go into the table, sorted.
                if closed {
                    do { try store.pool.write { db in try EntryRecords.mergeStaged(db) } } catch { fail(error) }
                }
                condition.lock()
                if !jobs.isEmpty && !closing {
                    condition.unlock()
                    continue
                }
                running = false
                let waiters = closeWaiters
                closeWaiters = []
                let failure = self.failure
                condition.unlock()
                for w in waiters { w(failure.map { .failure($0) } ?? .success(())) }
                return
            }
            condition.unlock()
            do { try transaction() } catch { fail(error) }
        }
    }

    /// One transaction: batches until the window is full, the session closes, or none comes.
    private func transaction() throws {
        try store.pool.writeWithoutTransaction { db in
            try db.beginTransaction(.immediate)
            let records = EntryRecords()
            records.deferred = true
            let opened = Date()
            var applied = 0
            do {
                while applied < CatchUpSession.windowEntries,
                    let job = next(until: opened.addingTimeInterval(CatchUpSession.windowSeconds))
                {
                    let mark = records.mark
                    var report = ApplyReport()
                    do {
                        try db.inSavepoint {
                            report = try Store.apply(
                                db, job.run, origin: origin, keys: keys, peer: peer, now: Date(), records: records)
                            return .commit
                        }
                    } catch {
                        // The batch's savepoint is rolled back; what the transaction holds before it is kept.
                        records.rewind(to: mark)
                        job.done(.failure(error))
                        fail(error)
                        break
                    }
                    applied += report.applied
                    job.done(.success(report))
                }
                try records.stage(db)
                try db.commit()
            } catch {
                try? db.rollback()
                throw error
            }
        }
    }

    /// The next batch, waiting for it until `deadline` and at most `idleSeconds`; nil when none
    /// comes, the window is over, the session closes or failed.
    private func next(until deadline: Date) -> Job? {
        condition.lock()
        defer { condition.unlock() }
        let idle = Date().addingTimeInterval(CatchUpSession.idleSeconds)
        while jobs.isEmpty && !closing && failure == nil {
            if !condition.wait(until: min(deadline, idle)) { break }
        }
        guard failure == nil, !jobs.isEmpty, Date() < deadline else { return nil }
        return jobs.removeFirst()
    }

    /// Records the first failure and fails every batch waiting.
    private func fail(_ error: any Error) {
        condition.lock()
        if failure == nil { failure = error }
        let waiting = jobs
        jobs = []
        let failure = self.failure!
        condition.unlock()
        for j in waiting { j.done(.failure(failure)) }
    }
}

/// A result another thread hands over, waited for by a synchronous caller.
private final class Waiting<T>: @unchecked Sendable {
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    func set(_ r: Result<T, any Error>) {
        result = r
        ready.signal()
    }

    func get() throws -> T {
        ready.wait()
        return try result!.get()
    }
}
