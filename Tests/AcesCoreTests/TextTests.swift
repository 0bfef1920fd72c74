import AcesCore
import Foundation
import Testing

/// The fast text paths an import relies on give exactly what Foundation gives.
@Suite struct TextTests {
    static let pieces = [
        "", " ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{2003}", "\u{2028}", "\u{2029}", "\u{3000}", "\u{200B}",
        "\u{FEFF}", "a", "Zoë", "ZOE", "e\u{301}", "München", "ß", "İ", "ﬁ", "Ｚ", "@", "x.y", "'", "0", "李",
    ]

    func samples() -> [String] {
        var g = SystemRandomNumberGenerator()
        var out = Self.pieces
        for _ in 0..<3_000 {
            var s = ""
            for _ in 0..<Int.random(in: 0...5, using: &g) { s += Self.pieces.randomElement(using: &g)! }
            out.append(s)
        }
        return out
    }

    @Test func trimmingMatchesFoundation() {
        for s in samples() {
            #expect(TextTrim.trimmed(s) == s.trimmingCharacters(in: .whitespacesAndNewlines), "\(s.unicodeScalars.map(\.value))")
            #expect(TextTrim.trimmed(s, newlines: false) == s.trimmingCharacters(in: .whitespaces), "\(s.unicodeScalars.map(\.value))")
        }
    }

    @Test func everyWhiteSpaceScalarIsFoundations() {
        for v in 0...0x3100 {
            guard let u = Unicode.Scalar(v) else { continue }
            let s = "a" + String(u)
            #expect(TextTrim.trimmed(s) == s.trimmingCharacters(in: .whitespacesAndNewlines), "U+\(String(v, radix: 16))")
            #expect(TextTrim.trimmed(s, newlines: false) == s.trimmingCharacters(in: .whitespaces), "U+\(String(v, radix: 16))")
        }
    }

    @Test func identityKeysAndFoldsMatchFoundation() {
        for s in samples() + ["Secret.Person@Example.ORG", "a@b.fr", "ZOE@EXAMPLE.FR"] {
            #expect(EmailAddress.identityKey(s) == s.precomposedStringWithCompatibilityMapping.lowercased())
            #expect(
                SearchText.fold(s)
                    == s.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil).lowercased())
        }
    }

    @Test func recordIDsAreUUIDv7Text() {
        #expect(
            RecordID.v7(millis: 0x0123_4567_89ab, random: [UInt8](repeating: 0xff, count: 10)) == "01234567-89ab-7fff-bfff-ffffffffffff")
        #expect(RecordID.v7(millis: 0, random: [UInt8](repeating: 0, count: 10)) == "00000000-0000-7000-8000-000000000000")
        for _ in 0..<200 {
            let random = (0..<10).map { _ in UInt8.random(in: 0...255) }
            let id = RecordID.v7(millis: Int64.random(in: 0..<(1 << 48)), random: random)
            #expect(RecordID.isValid(id) && UUID(uuidString: id)?.uuidString.lowercased() == id, "\(id)")
        }
    }
}
