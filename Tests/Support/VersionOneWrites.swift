import AcesCore
import AcesStore
import Foundation

extension TestNode {
    /// Writes one entry as a node of protocol version 1 wrote it (`"v": 1`; a `delete` replaces
    /// the heads it names), and applies it through the path synced entries take. A `restore` is a
    /// `set` that names the record's removals, as version 1 wrote it too. For tests of a
    /// federation where some nodes are not upgraded yet.
    @discardableResult
    public func writeAsVersion1(_ mutation: Mutation) throws -> Entry { try writeUnchecked(mutation, version: 1) }

    /// Writes one entry of protocol `version` without the authoring node's checks (as a lying or
    /// careless chapter would), signed by this node's key, and applies it through the path synced
    /// entries take, so this node judges it as every receiver does. From version 3 a `set` writes
    /// no `chapter`. Grants, revocations and transfers need version 3.
    @discardableResult
    public func writeUnchecked(_ mutation: Mutation, version: Int = Envelope.formatVersion, keys: KeyRing? = nil) throws -> Entry {
        clock.advance(1)
        let (kind, id): (RecordKind, String)
        var values: [String: JSONValue]? = nil
        var action = Action.set
        var restoring = false
        var to: ChapterID? = nil
        switch mutation {
        case .set(let k, let i, let v): (kind, id, values) = (k, i, v)
        case .restore(let k, let i, let v): (kind, id, values, restoring) = (k, i, v, true)
        case .delete(let k, let i): (kind, id, action) = (k, i, .delete)
        case .erase(let k, let i): (kind, id, action) = (k, i, .erase)
        case .grant(let k, let i, let t): (kind, id, action, to) = (k, i, .grant, t)
        case .revoke(let k, let i, let t): (kind, id, action, to) = (k, i, .revoke, t)
        case .transfer(let k, let i, let t): (kind, id, action, to) = (k, i, .transfer, t)
        }
        if version >= 3 { values?.removeValue(forKey: "chapter") }
        let state = try store.record(kind, id: id)?.state ?? RecordState()
        var bases = [String: [Version]]()
        func heads(_ index: Int) -> [Version] { state.fields[index]?.heads.map(\.version) ?? [] }
        var payload: Payload? = nil
        if version >= 2 && (action == .delete || action == .erase) { bases[LogOperation.removedField] = [] }
        if action.isCustody {
            // names no field
        } else if let values {
            for name in values.keys { bases[name] = heads(kind.field(name)!.index) }
            if restoring { bases[LogOperation.removedField] = heads(RecordState.removedIndex) }
            payload = Payload(salt: bytes.next(16), values: values)
        } else {
            for (index, fh) in state.fields where !fh.heads.isEmpty {
                bases[index == RecordState.removedIndex ? LogOperation.removedField : kind.fields[index].name] = fh.heads.map(\.version)
            }
        }
        let all = try store.heads()
        let own = all.first { $0.origin == chapter }
        let newest = all.map(\.hlc).max() ?? HLC(millis: 0, counter: 0)
        let hlc =
            clock.now() > newest.millis ? HLC(millis: clock.now(), counter: 0) : HLC(millis: newest.millis, counter: newest.counter + 1)
        let envelope = Envelope(
            origin: chapter, seq: (own?.seq ?? 0) + 1, prev: own?.hash ?? .zero, hlc: hlc, keyID: author.keyID,
            operations: [LogOperation(kind: kind, id: id, action: action, bases: bases, digest: payload?.digest, to: to)],
            protocolVersion: version)
        let entry = Entry.sign(envelope, payloads: [payload], with: key)
        var ownRing = keyRing([self])
        ownRing.stewards = store.ownershipRoster.stewards
        let report = try store.apply([entry], origin: chapter, keys: keys ?? ownRing)
        guard report.applied == 1 else {
            throw StoreError.invalid("a version-\(version) write was refused: \(String(describing: report.refusal))")
        }
        return entry
    }
}
