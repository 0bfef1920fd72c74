import AcesCore
import Foundation
import GRDB

/// How many operations an import puts in one signed entry, and how large it lets one grow.
///
/// An import is one admin action: its rows share entries (docs/PROTOCOL.md §1.1 allows up to
/// 1,000 operations, each on a different record), so the signature, the chain link and the log
/// row are paid once per entry instead of once per member. The bounds keep an entry far below the
/// 1 MiB line a receiver accepts, and the entries a node streams or applies at a time small.
public struct EntryGrouping: Sendable {
    /// Operations per entry at most.
    public var operations: Int
    /// Bytes of an entry (envelope and payloads, as sent) at which it is closed.
    public var bytes: Int

    public init(operations: Int, bytes: Int) {
        self.operations = max(1, min(operations, 1000))
        self.bytes = max(1, min(bytes, 512 * 1024))
    }

    /// What imports use: 32 members, or 32 KiB, per entry (a thousand such entries, what a node
    /// streams at a time, stay within 32 MB).
    public static let imports = EntryGrouping(operations: 32, bytes: 32 * 1024)

    /// A generous estimate of what an operation adds to its entry's line: its envelope part
    /// (kind, id, action, digest, one base list per field) and its payload.
    static func estimatedBytes(of op: LogOperation, payload: Int) -> Int {
        var n = 200 + payload
        for (name, versions) in op.bases { n += name.utf8.count + 6 + versions.count * 24 }
        return n
    }
}

extension Store {
    /// Authors an import: `count` changes, each the mutations `build` returns for it, grouped
    /// several per signed entry (`grouping`), all in one transaction: if one change throws,
    /// nothing is written. The members it adds or changes are searchable when it returns (the
    /// search index is filled in bulk at the end, in the same transaction). `progress` is told
    /// how many changes are written, after each entry. Returns how many entries were written.
    ///
    /// `values`, when given, names the values change `k` sets when it is one `set`: their
    /// payloads (salt, canonical bytes, digest) are then made on another core while this one
    /// writes, and used only where `build` returns exactly those values.
    @discardableResult
    public func authorImport(
        as author: Author, count: Int, grouping: EntryGrouping = .imports, progress: (Int) -> Void = { _ in },
        values: (@Sendable (Int) -> [String: JSONValue])? = nil, _ build: (Draft, Int) throws -> [Mutation]
    ) throws -> Int {
        let pipeline = values.map { PayloadPipeline(count: count, values: $0, salt: author.randomBytes) }
        defer { pipeline?.cancel() }
        return try pool.write { db in
            var entries = 0
            _ = try withoutActuallyEscaping(progress) { progress in
                try authorEntries(
                    db, as: author, count: count, grouping: grouping,
                    written: { calls, n in
                        entries = n
                        progress(calls)
                    }, prepared: pipeline, build)
            }
            return entries
        }
    }
}

/// A `set`'s payload: its random salt and values, canonical bytes and digest.
struct PreparedPayload: Sendable {
    let payload: Payload
    let bytes: [UInt8]
    let digest: Digest32

    /// The payload of a `set` of `values` (the chapter left out: it is the owner's, not written).
    init(_ values: [String: JSONValue], salt: @Sendable (Int) -> [UInt8]) {
        payload = Payload(salt: salt(16), values: values)
        bytes = payload.canonicalBytes
        digest = Digest32.sha256(bytes)
    }
}

/// Makes an import's payloads on a thread of its own, a few thousand ahead of the writer that
/// takes them in order: encoding and hashing them then costs the writing thread nothing.
final class PayloadPipeline: @unchecked Sendable {
    /// Payloads made and not yet taken, at most.
    static let ahead = 4096
    /// Payloads made between two hand-overs to the writer.
    static let step = 64

    private let condition = NSCondition()
    /// Guarded by `condition`.
    private var slots: [PreparedPayload?]
    private var made = 0
    private var taken = 0
    private var cancelled = false

    init(count: Int, values: @escaping @Sendable (Int) -> [String: JSONValue], salt: @escaping @Sendable (Int) -> [UInt8]) {
        slots = Array(repeating: nil, count: count)
        let thread = Thread { [self] in run(count: count, values: values, salt: salt) }
        thread.name = "aces-import-payloads"
        thread.start()
    }

    private func run(count: Int, values: @Sendable (Int) -> [String: JSONValue], salt: @Sendable (Int) -> [UInt8]) {
        var k = 0
        var batch = [PreparedPayload?]()
        while k < count {
            condition.lock()
            while !cancelled && made - taken >= PayloadPipeline.ahead { condition.wait() }
            let stop = cancelled
            condition.unlock()
            if stop { return }
            let end = min(count, k + PayloadPipeline.step)
            batch.removeAll(keepingCapacity: true)
            for j in k..<end {
                var v = values(j)
                v.removeValue(forKey: "chapter")
                batch.append(v.isEmpty ? nil : PreparedPayload(v, salt: salt))
            }
            condition.lock()
            for (j, p) in batch.enumerated() { slots[k + j] = p }
            made = end
            condition.broadcast()
            condition.unlock()
            k = end
        }
    }

    /// The payload made for change `k` (nil if it sets nothing), waiting for it if needed.
    /// Changes are taken in increasing order; skipped ones are dropped.
    func take(_ k: Int) -> PreparedPayload? {
        condition.lock()
        defer { condition.unlock() }
        guard k >= taken, k < slots.count else { return nil }
        while made <= k && !cancelled { condition.wait() }
        if cancelled { return nil }
        for j in taken..<k { slots[j] = nil }
        let p = slots[k]
        slots[k] = nil
        taken = k + 1
        if made - taken < PayloadPipeline.ahead / 2 { condition.broadcast() }
        return p
    }

    /// Stops making payloads (the import ended, or failed).
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
