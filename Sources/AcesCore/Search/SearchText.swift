import Foundation

/// How the directory compares and searches text: case and accents folded, so `zoe` finds
/// `Zoë` and `munchen` finds `München`, and names sort the way people expect.
public enum SearchText {
    /// Lowercased, without diacritics: the sort key of a name.
    public static func fold(_ s: String) -> String {
        // ASCII has nothing to fold but case; Foundation's folding bridges through NSString.
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s.lowercased() }
        return s.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased()
    }

    /// The words of a query, folded: letters and digits only, at most `maxWords`.
    public static func words(_ query: String, maxWords: Int = 8) -> [String] {
        var words = [String]()
        var current = ""
        for scalar in fold(query).unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) {
                current.unicodeScalars.append(scalar)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return Array(words.prefix(maxWords))
    }
}
