import AcesCore
import AcesNodeFiles
import Foundation
import Hummingbird

/// A request the public listener cannot answer, with the one sentence it says about it.
struct WebError: Error, CustomStringConvertible {
    let status: HTTPResponse.Status
    /// The sentence in English (the JSON APIs always answer in English).
    let description: String
    /// The same sentence in French, for pages shown in French.
    var french: String? = nil

    /// The sentence in `language`.
    func sentence(_ language: Language) -> String { language == .fr ? french ?? description : description }

    static func badRequest(_ why: String, fr: String? = nil) -> WebError { WebError(status: .badRequest, description: why, french: fr) }
    static let notFound = WebError(status: .notFound, description: "nothing here, or not visible to you")
    static let unauthorized = WebError(status: .unauthorized, description: "a valid admin token is required (Authorization: Bearer …)")
}

/// Query or form parameters, strictly read: malformed percent-encoding, invalid UTF-8, repeated
/// names and overlong input are refused with a sentence instead of being guessed at.
struct Parameters: Sendable {
    private(set) var values: [String: String] = [:]

    static let maxLength = 4096

    init(_ encoded: String?, maxLength: Int = Parameters.maxLength) throws(WebError) {
        guard let encoded, !encoded.isEmpty else { return }
        guard encoded.utf8.count <= maxLength else {
            throw .badRequest("the query is longer than \(maxLength) bytes", fr: "la requête dépasse \(maxLength) octets")
        }
        for pair in encoded.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Parameters.decode(kv[0]), let value = Parameters.decode(kv.count > 1 ? kv[1] : "") else {
                throw .badRequest(
                    "the query is not valid percent-encoded UTF-8", fr: "la requête n'est pas de l'UTF-8 encodé en pourcentage valide")
            }
            guard values[name] == nil else {
                throw .badRequest(
                    "the parameter '\(name.prefix(30))' is given twice", fr: "le paramètre « \(name.prefix(30)) » est donné deux fois")
            }
            values[name] = value
        }
    }

    private static func decode(_ s: Substring) -> String? {
        s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(_ name: String) -> String? { values[name] }

    /// Text of at most `max` characters without control characters; nil when absent or blank.
    func text(_ name: String, max: Int) throws(WebError) -> String? {
        guard let v = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !v.isEmpty else { return nil }
        guard v.count <= max else {
            throw .badRequest("'\(name)' must be at most \(max) characters", fr: "« \(name) » doit faire au plus \(max) caractères")
        }
        guard !v.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("'\(name)' contains control characters", fr: "« \(name) » contient des caractères de contrôle")
        }
        return v
    }

    /// A whole number in `range`; `fallback` when absent.
    func int(_ name: String, in range: ClosedRange<Int>, fallback: Int) throws(WebError) -> Int {
        guard let v = values[name], !v.isEmpty else { return fallback }
        guard v.utf8.count <= 9, let n = Int(v), range.contains(n) else {
            throw .badRequest(
                "'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)",
                fr: "« \(name) » doit être un nombre entier de \(range.lowerBound) à \(range.upperBound)")
        }
        return n
    }

    /// A chapter of the roster, or nil when absent.
    func chapter(_ known: [ChapterProfile]) throws(WebError) -> ChapterProfile? {
        guard let v = values["chapter"], !v.isEmpty else { return nil }
        guard let c = known.first(where: { $0.id == v }) else {
            throw .badRequest("there is no chapter '\(v.prefix(20))'", fr: "il n'y a pas de section « \(v.prefix(20)) »")
        }
        return c
    }

    /// A two-letter country code (any case), or nil when absent.
    func country() throws(WebError) -> String? {
        guard let v = values["country"], !v.isEmpty else { return nil }
        let up = v.uppercased()
        guard up.utf8.count == 2, up.utf8.allSatisfy({ (65...90).contains($0) }) else {
            throw .badRequest(
                "'country' must be a two-letter code such as FR", fr: "« country » doit être un code de deux lettres comme FR")
        }
        return up
    }

    /// Refuses parameters this endpoint does not take, so a typo is not silently ignored.
    func only(_ allowed: Set<String>) throws(WebError) {
        if let extra = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .badRequest("unknown parameter '\(extra.prefix(30))'", fr: "paramètre inconnu « \(extra.prefix(30)) »")
        }
    }

    /// `name=value&…`, percent-encoded, in a stable order.
    static func encode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { k, v in
            (k.addingPercentEncoding(withAllowedCharacters: allowed) ?? k) + "="
                + (v.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
        }.joined(separator: "&")
    }
}
