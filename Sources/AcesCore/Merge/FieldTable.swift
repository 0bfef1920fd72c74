/// The per-field merge states of one record, indexed by field index (and
/// `RecordState.removedIndex` for `_removed`). A fixed array rather than a dictionary: it is
/// read and rewritten for every operation applied.
public struct FieldTable: Sendable, Hashable, Sequence {
    /// Slots for field indexes 0..<slots-1; the last slot holds `_removed`.
    static let slots = 16
    private var storage = [FieldHeads?](repeating: nil, count: FieldTable.slots)

    public init() {}

    private static func slot(_ index: Int) -> Int? {
        if index == RecordState.removedIndex { return slots - 1 }
        return (0..<(slots - 1)).contains(index) ? index : nil
    }

    private static func index(ofSlot s: Int) -> Int { s == slots - 1 ? RecordState.removedIndex : s }

    public subscript(index: Int) -> FieldHeads? {
        get { FieldTable.slot(index).flatMap { storage[$0] } }
        set { if let s = FieldTable.slot(index) { storage[s] = newValue } }
    }

    /// Field indexes that have a state, ascending (`_removed` last).
    public var keys: [Int] { storage.indices.filter { storage[$0] != nil }.map(FieldTable.index(ofSlot:)) }
    public var count: Int { storage.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    public func makeIterator() -> IndexingIterator<[(key: Int, value: FieldHeads)]> {
        storage.indices.compactMap { s in storage[s].map { (key: FieldTable.index(ofSlot: s), value: $0) } }.makeIterator()
    }
}
