/// Names one write of a field: the entry `(origin, seq)` that wrote it. Within a record's field
/// an entry writes at most once, so this is enough. Written `origin:seq`, e.g. `fr:12`.
public struct Version: Hashable, Sendable, CustomStringConvertible {
    public let origin: ChapterID
    public let seq: Int64

    public init(origin: ChapterID, seq: Int64) {
        self.origin = origin
        self.seq = seq
    }

    /// Parses `origin:seq`; nil if malformed or if `seq` is outside 1…2^40 − 1, the range of an
    /// envelope's `seq` (so no base can name an entry that cannot exist).
    public init?(_ text: String) {
        guard let colon = text.utf8.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        let o = String(text[..<colon])
        let s = String(text[text.index(after: colon)...])
        guard let origin = ChapterID(o), let seq = Int64(s), seq >= 1, seq < 1 << 40, String(seq) == s else { return nil }
        self.init(origin: origin, seq: seq)
    }

    public var description: String { "\(origin.rawValue):\(seq)" }
}

/// A version with the timestamp of the entry that wrote it: what the merge compares.
/// The winner among a field's heads is the greatest by (HLC, origin, seq); ties are impossible
/// because `(origin, seq)` names one entry.
public struct Stamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let hlc: HLC
    public let version: Version

    public init(hlc: HLC, version: Version) {
        self.hlc = hlc
        self.version = version
    }

    public static func < (a: Stamp, b: Stamp) -> Bool {
        if a.hlc != b.hlc { return a.hlc < b.hlc }
        if a.version.origin != b.version.origin { return a.version.origin < b.version.origin }
        return a.version.seq < b.version.seq
    }

    public var description: String { "\(version)@\(hlc)" }
}
