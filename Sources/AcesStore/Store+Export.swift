import AcesCore
import Foundation
import GRDB

extension Store {
    /// Writes every held entry of `origin` (or of every origin, in name order), in seq order, as
    /// the federation sends it: one line `{"envelope":…,"payloads":…,"signature":"…"}` per entry,
    /// built from the stored bytes (PROTOCOL.md §5, "Verifying an export"). Lines go to `write`
    /// in chunks of about 64 KiB, so memory stays flat however long the log. An entry whose
    /// stored bytes cannot make such a line is left out and passed to `damaged`; an entry that
    /// reads but does not verify (a bad digest or signature) is written as it is, for a verifier
    /// to find. Returns how many entries were written.
    public func exportLog(origin: ChapterID?, write: ([UInt8]) throws -> Void, damaged: (LogProblem) -> Void) throws -> Int {
        try pool.read { db in
            var written = 0
            var buffer = [UInt8]()
            buffer.reserveCapacity(1 << 17)
            for head in try Store.heads(db) where origin == nil || head.origin == origin {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM origins WHERE name = ?", arguments: [head.origin.rawValue])
                else { continue }
                let rows = try Row.fetchCursor(
                    db, sql: "SELECT rowid, envelope, signature, payloads FROM entries WHERE rowid > ? AND rowid <= ? ORDER BY rowid",
                    arguments: [Store.rowid(origin: id, seq: 0), Store.rowid(origin: id, seq: (1 << 40) - 1)])
                while let r = try rows.next() {
                    let seq = (r["rowid"] as Int64) & ((1 << 40) - 1)
                    if let why = Store.appendWireLine(r, to: &buffer) {
                        damaged(LogProblem(origin: head.origin, seq: seq, reason: why))
                        continue
                    }
                    written += 1
                    if buffer.count >= 1 << 16 {
                        try write(buffer)
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
            }
            if !buffer.isEmpty { try write(buffer) }
            return written
        }
    }

    /// Appends a stored entry's wire line (newline-terminated) to `out`, after checking that its
    /// stored parts make one: an envelope that is a JSON object, payloads that are a JSON array,
    /// a 64-byte signature, and no line break. Returns why not, leaving `out` as it was.
    static func appendWireLine(_ r: Row, to out: inout [UInt8]) -> String? {
        guard let envelope = Data.fromDatabaseValue(r["envelope"] as DatabaseValue),
            let payloads = Data.fromDatabaseValue(r["payloads"] as DatabaseValue),
            let signature = Data.fromDatabaseValue(r["signature"] as DatabaseValue)
        else { return "a part of the stored entry is missing" }
        guard signature.count == 64 else { return "the stored signature is \(signature.count) bytes, not 64" }
        for (name, bytes) in [("envelope", envelope), ("payloads", payloads)] {
            if bytes.contains(0x0a) || bytes.contains(0x0d) { return "the stored \(name) contains a line break" }
        }
        guard case .object? = try? JSONParser.parse([UInt8](envelope)) else { return "the stored envelope is not a JSON object" }
        guard case .array? = try? JSONParser.parse([UInt8](payloads)) else { return "the stored payloads are not a JSON array" }
        Store.appendWireLine(envelope: envelope, payloads: payloads, signature: signature, to: &out)
        return nil
    }

    /// Appends `{"envelope":…,"payloads":…,"signature":"…"}` and a newline, keys in canonical
    /// order, the envelope and payloads exactly as stored.
    static func appendWireLine(envelope: Data, payloads: Data, signature: Data, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"envelope":"#.utf8)
        out.append(contentsOf: envelope)
        out.append(contentsOf: #","payloads":"#.utf8)
        out.append(contentsOf: payloads)
        out.append(contentsOf: #","signature":""#.utf8)
        out.append(contentsOf: Base64URL.encode([UInt8](signature)).utf8)
        out.append(contentsOf: "\"}\n".utf8)
    }
}
