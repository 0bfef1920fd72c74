/// The merge state of one record: per field its heads, and whether it was erased.
/// Stored beside the record's values as a compact binary blob (`encoded`).
public struct RecordState: Sendable, Hashable {
    /// Field index used for the `_removed` pseudo-field.
    public static let removedIndex = 255

    /// Field index → state.
    public var fields = FieldTable()
    /// Set by an erase operation; final.
    public var erased = false
    /// The versions version-2 deletes saw (named in a field's base) that are still field heads or
    /// not held yet, ascending. While a removal stands, these heads count as seen by it: they
    /// neither bring the record back nor make a delete conflict, yet keep their values for when
    /// the record comes back (docs/PROTOCOL.md §3.1).
    public var covered: [Version] = []

    public init() {}

    /// The field changes an operation makes: the fields whose winner changed, and to what
    /// (nil when the field no longer has a head).
    public typealias Changes = [(index: Int, winner: Stamp?)]

    /// Applies one operation stamped `stamp`, of an entry of protocol version `protocolVersion`,
    /// and returns the fields whose winner changed. `isHeld` says whether a version's entry is
    /// held by this replica (the entry being applied counts as held).
    public mutating func apply(_ op: LogOperation, stamp: Stamp, protocolVersion: Int, isHeld: (Version) -> Bool) -> Changes {
        var changes: Changes = []
        func update(_ index: Int, _ body: (inout FieldHeads) -> Void) {
            var fh = fields[index] ?? FieldHeads()
            let before = fh.winner
            body(&fh)
            fields[index] = fh
            if fh.winner != before { changes.append((index, fh.winner)) }
        }
        // From version 2 a delete only hides the record: the heads it names stay, as seen by it.
        let hides = op.action == .delete && protocolVersion >= 2
        var seen = [Version]()
        for (name, bases) in op.bases where name != LogOperation.removedField {
            guard let index = op.kind.field(name)?.index else { continue }
            if op.action == .set {
                update(index) { $0.apply(stamp, bases: bases, isHeld: isHeld) }
            } else if hides {
                seen += bases
            } else {
                // A version-1 delete or an erase replaces the heads it saw without writing the field itself.
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
        updateCovered(adding: seen) { $0 == stamp.version || isHeld($0) }
        changes.sort { $0.index < $1.index }
        return changes
    }

    /// Adds what a delete saw to `covered`, and keeps only versions that can still matter: field
    /// heads, and versions not held yet (they may arrive and become heads). A held version that
    /// is not a head never becomes one again, so the set is the same whatever the order.
    private mutating func updateCovered(adding seen: [Version], isHeld: (Version) -> Bool) {
        guard !erased else {
            covered = []
            return
        }
        guard !seen.isEmpty || !covered.isEmpty else { return }
        var heads = Set<Version>()
        for (index, fh) in fields where index != RecordState.removedIndex { for h in fh.heads { heads.insert(h.version) } }
        let kept = Set(covered + seen).filter { heads.contains($0) || !isHeld($0) }
        covered = kept.sorted { ($0.origin, $0.seq) < ($1.origin, $1.seq) }
    }

    /// The newest removal still standing, if any.
    public var removal: Stamp? { fields[RecordState.removedIndex]?.winner }

    /// Whether some heads are left out beside the record's removals: a removal stands and a
    /// delete saw heads that are still there.
    private var hidesSeenHeads: Bool { !covered.isEmpty && removal != nil }

    /// The heads of field `index` that count beside the record's removals: every head, except,
    /// while a removal stands, those a delete saw (`covered`).
    public func standingHeads(_ index: Int) -> [Stamp] {
        let heads = fields[index]?.heads ?? []
        guard hidesSeenHeads, index != RecordState.removedIndex else { return heads }
        return heads.filter { !covered.contains($0.version) }
    }

    /// The newest write no delete saw, if any.
    private var newestUnseenWrite: Stamp? {
        guard hidesSeenHeads else { return fields.filter { $0.key != RecordState.removedIndex }.compactMap { $0.value.winner }.max() }
        return fields.keys.filter { $0 != RecordState.removedIndex }.compactMap { standingHeads($0).max() }.max()
    }

    /// Whether the record is gone: erased, or removed by a delete newer than every write no delete saw.
    public var isRemoved: Bool {
        if erased { return true }
        guard let r = removal else { return false }
        return newestUnseenWrite.map { $0 < r } ?? true
    }

    /// Field indexes with more than one head (counting, while a removal stands, only the heads
    /// no delete saw).
    public var conflictedFields: [Int] {
        guard hidesSeenHeads else { return fields.filter { $0.value.heads.count > 1 }.map(\.key).sorted() }
        return fields.keys.filter { standingHeads($0).count > 1 }
    }

    /// Whether a delete stands beside a write no delete saw.
    public var hasDeleteConflict: Bool {
        guard !erased, removal != nil else { return false }
        return newestUnseenWrite != nil
    }
}

extension RecordState {
    /// The newest clock reading among the record's standing writes and removals: when it last
    /// changed, as far as any node can tell (the same on every node holding the same entries).
    public var lastChanged: HLC? {
        fields.compactMap { $0.value.heads.max()?.hlc }.max()
    }
}
