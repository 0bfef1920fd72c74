/// The merge state of one field of one record: the versions no operation replaced (its heads)
/// and the versions some operation replaced before they arrived here (pending).
///
/// Heads are a function of the set of operations held, whatever their order: a version is a
/// head when it is held and no held operation names it in its base.
public struct FieldHeads: Sendable, Hashable {
    /// The field's heads, with their stamps. More than one is a conflict.
    public var heads: [Stamp] = []
    /// Versions named as replaced before they were held; when one arrives it is not a head.
    public var pending: [Version] = []

    public init(heads: [Stamp] = [], pending: [Version] = []) {
        self.heads = heads
        self.pending = pending
    }

    /// The automatic winner: the greatest head by (HLC, origin, seq).
    public var winner: Stamp? { heads.max() }

    /// Applies one write: removes what it replaced, then adds it as a head unless it was
    /// already replaced. `isHeld` says whether a version's entry is held by this replica.
    public mutating func apply(_ stamp: Stamp, bases: [Version], isHeld: (Version) -> Bool) {
        replace(bases, isHeld: isHeld)
        if let p = pending.firstIndex(of: stamp.version) {
            pending.remove(at: p)
        } else if !heads.contains(stamp) {
            heads.append(stamp)
            heads.sort()
        }
    }

    /// Removes the heads an operation names as replaced, remembering those not held yet.
    public mutating func replace(_ bases: [Version], isHeld: (Version) -> Bool) {
        for b in bases {
            if let i = heads.firstIndex(where: { $0.version == b }) {
                heads.remove(at: i)
            } else if !isHeld(b) && !pending.contains(b) {
                pending.append(b)
            }
        }
    }
}
