/// Trimming without Foundation's `trimmingCharacters(in:)`, which bridges every string to
/// `NSString` and back: importing a spreadsheet trims every cell, and that bridge was an eighth
/// of the import's time. Same sets as Foundation's `.whitespaces` and `.whitespacesAndNewlines`.
public enum TextTrim {
    /// `s` without leading and trailing white space (with `newlines`, line breaks too).
    public static func trimmed(_ s: String, newlines: Bool = true) -> String {
        let scalars = s.unicodeScalars
        guard let first = scalars.first, let last = scalars.last else { return s }
        if !isSpace(first, newlines) && !isSpace(last, newlines) { return s }
        guard let start = scalars.firstIndex(where: { !isSpace($0, newlines) }) else { return "" }
        let end = scalars.lastIndex(where: { !isSpace($0, newlines) })!
        return String(scalars[start...end])
    }

    /// Foundation's `.whitespaces` (U+0009, U+0020, U+00A0, U+1680, U+2000–U+200B, U+202F,
    /// U+205F, U+3000, as this platform's Foundation lists them) and, with `newlines`, line
    /// breaks too (U+000A–U+000D, U+0085, U+2028, U+2029).
    static func isSpace(_ c: Unicode.Scalar, _ newlines: Bool) -> Bool {
        switch c.value {
        case 0x20, 0x09, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: return true
        case 0x0A...0x0D, 0x85, 0x2028, 0x2029: return newlines
        default: return false
        }
    }
}
