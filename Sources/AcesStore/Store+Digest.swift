import AcesCore
import Crypto
import Foundation
import GRDB

extension Store {
    /// One SHA-256 over the replicated state: every record of every kind in id order, each
    /// field's winning value and heads, removal and erasure. Two replicas that hold the same
    /// entries give the same digest, whatever order the entries arrived in.
    public func stateDigest() throws -> Digest32 { try pool.read(Store.stateDigest(in:)) }

    /// `stateDigest()` from async code.
    public func stateDigest() async throws -> Digest32 { try await pool.read(Store.stateDigest(in:)) }

    private static func stateDigest(in db: Database) throws -> Digest32 {
        var hasher = SHA256()
        for kind in RecordKind.allCases {
            let rows = try Row.fetchCursor(db, sql: "SELECT \(Record.columns(kind)) FROM \(kind.table) ORDER BY id")
            while let row = try rows.next() {
                let record = try Record(kind: kind, row: row)
                hasher.update(data: CanonicalJSON.encode(record.digestJSON))
                hasher.update(data: [0x0a])
            }
        }
        return Digest32(bytes: Array(hasher.finalize()))!
    }
}

extension Record {
    /// What the state digest covers of a record.
    var digestJSON: JSONValue {
        var fields = [String: JSONValue]()
        for (index, fh) in state.fields where !fh.heads.isEmpty {
            let name = index == RecordState.removedIndex ? LogOperation.removedField : kind.fields[index].name
            fields[name] = .object([
                "value": values[name] ?? .null,
                "heads": .array(fh.heads.sorted().map { .string($0.description) }),
            ])
        }
        return .object([
            "kind": .string(kind.rawValue), "id": .string(id), "removed": .bool(removed), "erased": .bool(state.erased),
            "fields": .object(fields), "owner": values["chapter"] ?? .null,
        ])
    }
}
