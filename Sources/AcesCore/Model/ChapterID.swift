/// A chapter's id, also the `origin` of its entries: 2–32 characters of `a-z`, `0-9` and `-`,
/// starting with a letter (`fr`, `uk`, `de`, `be-nl`).
public struct ChapterID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: String

    /// Validates `raw`; nil when it is not a chapter id.
    public init?(_ raw: String) {
        let b = Array(raw.utf8)
        guard (2...32).contains(b.count), let first = b.first,
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first),
            b.allSatisfy({
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-")
            })
        else { return nil }
        rawValue = raw
    }

    public var description: String { rawValue }
    public static func < (a: ChapterID, b: ChapterID) -> Bool { a.rawValue.utf8.lexicographicallyPrecedes(b.rawValue.utf8) }

    /// The sentence shown when a chapter id is refused.
    public static let rule = "a chapter id is 2 to 32 characters of a-z, 0-9 and '-', starting with a letter (for example 'fr')"
}
