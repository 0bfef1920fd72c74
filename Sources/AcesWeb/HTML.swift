import Foundation

/// A fragment of HTML. Interpolated strings are escaped; interpolated `HTML` is kept as is,
/// so text a visitor or a member typed can only ever reach a page as text.
///
/// ```swift
/// let name = "<script>O'Brien</script>"
/// let h: HTML = "<h1>\(name)</h1>"   // <h1>&lt;script&gt;O&#39;Brien&lt;/script&gt;</h1>
/// ```
struct HTML: ExpressibleByStringInterpolation, Sendable, CustomStringConvertible {
    private(set) var text: String

    init(unsafe text: String) { self.text = text }
    init(stringLiteral value: String) { self.text = value }
    init(stringInterpolation: Interpolation) { self.text = stringInterpolation.text }

    var description: String { text }

    struct Interpolation: StringInterpolationProtocol {
        var text = ""
        init(literalCapacity: Int, interpolationCount: Int) { text.reserveCapacity(literalCapacity * 2) }
        mutating func appendLiteral(_ literal: String) { text += literal }
        mutating func appendInterpolation(_ s: String) { text += HTML.escape(s) }
        mutating func appendInterpolation(_ s: Substring) { text += HTML.escape(String(s)) }
        mutating func appendInterpolation(_ n: Int) { text += String(n) }
        mutating func appendInterpolation(_ h: HTML) { text += h.text }
        mutating func appendInterpolation(_ hs: [HTML]) { for h in hs { text += h.text } }
        mutating func appendInterpolation(_ h: HTML?) { if let h { text += h.text } }
    }

    /// Escapes text for element content and quoted attribute values.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func + (a: HTML, b: HTML) -> HTML { HTML(unsafe: a.text + b.text) }

    /// Paragraphs of plain text: blank lines separate paragraphs, single newlines become breaks.
    static func paragraphs(_ text: String) -> HTML {
        let paras = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        return HTML(
            unsafe: paras.map { p in
                "<p>" + p.split(separator: "\n", omittingEmptySubsequences: false).map { escape(String($0)) }.joined(separator: "<br>")
                    + "</p>"
            }.joined())
    }
}

extension Array where Element == HTML {
    func joined(separator: HTML = "") -> HTML { HTML(unsafe: map(\.text).joined(separator: separator.text)) }
}
