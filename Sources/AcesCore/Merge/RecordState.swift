/// The merge state of one record: per field its heads, and whether it was erased.
/// Stored beside the record's values as a compact binary blob (`encoded`).
public struct RecordState: Sendable, Hashable {
    /// Field index used for the `_removed` pseudo-field.
    public static let removedIndex = 255

    /// Field index → state.
    public var fields = FieldTable()
    /// Set by an erase operation; final.
    public var erased = false

    public init() {}

    /// The field changes an operation makes: the fields whose winner changed, and to what
    /// (nil when the field no longer has a head).
    public typealias Changes = [(index: Int, winner: Stamp?)]

    /// Applies one operation stamped `stamp` and returns the fields whose winner changed.
    public mutating func apply(_ op: LogOperation, stamp: Stamp, isHeld: (Version) -> Bool) -> Changes {
        var changes: Changes = []
        func update(_ index: Int, _ body: (inout FieldHeads) -> Void) {
            var fh = fields[index] ?? FieldHeads()
            let before = fh.winner
            body(&fh)
            fields[index] = fh
            if fh.winner != before { changes.append((index, fh.winner)) }
        }
        for (name, bases) in op.bases where name != LogOperation.removedField {
            guard let index = op.kind.field(name)?.index else { continue }
            if op.action == .set {
                update(index) { $0.apply(stamp, bases: bases, isHeld: isHeld) }
            } else {
                // A removal replaces the heads it saw without writing the field itself.
                update(index) { $0.replace(bases, isHeld: isHeld) }
            }
        }
        if op.action != .set {
            update(RecordState.removedIndex) {
                $0.apply(stamp, bases: op.bases[LogOperation.removedField] ?? [], isHeld: isHeld)
            }
        } else if let restored = op.bases[LogOperation.removedField] {
            // A set that names removals as its base restores the record: it replaces them.
            update(RecordState.removedIndex) { $0.replace(restored, isHeld: isHeld) }
        }
        if op.action == .erase { erased = true }
        changes.sort { $0.index < $1.index }
        return changes
    }

    /// The newest removal still standing, if any.
    public var removal: Stamp? { fields[RecordState.removedIndex]?.winner }

    /// Whether the record is gone: erased, or removed by a delete newer than every standing write.
    public var isRemoved: Bool {
        if erased { return true }
        guard let r = removal else { return false }
        let newestWrite = fields.filter { $0.key != RecordState.removedIndex }.compactMap { $0.value.winner }.max()
        return newestWrite.map { $0 < r } ?? true
    }

    /// Field indexes with more than one head.
    public var conflictedFields: [Int] { fields.filter { $0.value.heads.count > 1 }.map(\.key).sorted() }

    /// Whether a delete stands beside a write it did not see.
    public var hasDeleteConflict: Bool {
        guard !erased, removal != nil else { return false }
        return fields.contains { $0.key != RecordState.removedIndex && !$0.value.heads.isEmpty }
    }
}

extension RecordState {
    /// The newest clock reading among the record's standing writes and removals: when it last
    /// changed, as far as any node can tell (the same on every node holding the same entries).
    public var lastChanged: HLC? {
        fields.compactMap { $0.value.heads.max()?.hlc }.max()
    }
}
