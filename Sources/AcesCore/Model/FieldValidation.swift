import Foundation

/// A value a field does not accept; the message is one sentence for the user and never
/// repeats the value itself (it may be personal data).
public struct FieldError: Error, CustomStringConvertible, Sendable, Equatable {
    public let field: String
    public let reason: String
    public init(field: String, reason: String) {
        self.field = field
        self.reason = reason
    }
    public var description: String { "\(field): \(reason)" }
}

extension FieldSpec {
    /// Checks and normalises a value for this field. `null` clears an optional field. What it
    /// returns always has the shape every node checks on receipt (`shapeProblem`).
    public func validate(_ value: JSONValue) throws(FieldError) -> JSONValue {
        let checked = try normalised(value)
        if let why = shapeProblem(checked) { throw FieldError(field: name, reason: why) }
        return checked
    }

    private func normalised(_ value: JSONValue) throws(FieldError) -> JSONValue {
        if case .null = value {
            if required { throw FieldError(field: name, reason: "is required and cannot be cleared") }
            return .null
        }
        switch type {
        case .text:
            let s = try string(value)
            let t = TextTrim.trimmed(s)
            if required && t.isEmpty { throw FieldError(field: name, reason: "must not be empty") }
            if t.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\n" && $0 != "\t" || $0.value == 0x7f }) {
                throw FieldError(field: name, reason: "must not contain control characters")
            }
            return t.isEmpty ? .null : .string(t)
        case .email:
            let s = TextTrim.trimmed(try string(value), newlines: false)
            guard EmailAddress.isValid(s) else {
                throw FieldError(field: name, reason: "is not a valid email address (expected name@domain.tld)")
            }
            return .string(s)
        case .chapter:
            let s = try string(value)
            guard ChapterID(s) != nil else { throw FieldError(field: name, reason: ChapterID.rule) }
            return .string(s)
        case .country:
            let s = try string(value).uppercased()
            guard s.utf8.count == 2, s.utf8.allSatisfy({ (65...90).contains($0) }) else {
                throw FieldError(field: name, reason: "must be a two-letter ISO country code such as FR")
            }
            return .string(s)
        case .choice(let words):
            let s = try string(value)
            guard words.contains(s) else {
                throw FieldError(field: name, reason: "must be one of \(words.joined(separator: ", "))")
            }
            return .string(s)
        case .instant:
            let s = try string(value)
            guard Instant.parse(s) != nil else {
                throw FieldError(field: name, reason: "must be an instant like 2027-03-14T17:30:00Z")
            }
            return .string(s)
        case .timeZone:
            let s = try string(value)
            guard IANATimeZone.isKnown(s) else {
                throw FieldError(field: name, reason: "is not a known IANA time zone (for example Europe/Paris)")
            }
            return .string(s)
        case .url:
            let s = try string(value)
            guard WebURL.isValid(s) else { throw FieldError(field: name, reason: "must be an http or https URL") }
            return .string(s)
        case .urlList:
            guard case .array(let items) = value, items.count <= FieldType.maxLinks else {
                throw FieldError(field: name, reason: "must be a list of at most \(FieldType.maxLinks) http or https URLs")
            }
            for item in items {
                guard case .string(let s) = item, WebURL.isValid(s) else {
                    throw FieldError(field: name, reason: "must be a list of at most \(FieldType.maxLinks) http or https URLs")
                }
            }
            return items.isEmpty ? .null : value
        case .recordID:
            let s = try string(value)
            guard RecordID.isValid(s) else { throw FieldError(field: name, reason: "must be a record id") }
            return .string(s)
        case .count:
            guard let n = value.intValue, FieldType.countRange.contains(n) else {
                throw FieldError(field: name, reason: "must be a whole number from 0 to 1000000")
            }
            return .number(Double(n))
        }
    }

    private func string(_ value: JSONValue) throws(FieldError) -> String {
        guard case .string(let s) = value else { throw FieldError(field: name, reason: "must be text") }
        return s
    }

    /// What is wrong with the shape of a value, or nil: its JSON type (text, a whole number, a
    /// list of text), its size in bytes of UTF-8 and the combining marks stacked on one
    /// character. Every node checks this on every value it receives (PROTOCOL.md §1.3); it
    /// depends on nothing but the value (and the Unicode version's general categories), so
    /// every node reaches the same verdict.
    public func shapeProblem(_ value: JSONValue) -> String? {
        switch (type, value) {
        case (_, .null): return nil
        case (.count, .number):
            guard let n = value.intValue, FieldType.countRange.contains(n) else {
                return "must be a whole number from \(FieldType.countRange.lowerBound) to \(FieldType.countRange.upperBound)"
            }
            return nil
        case (.count, _): return "must be a whole number"
        case (.urlList, .array(let items)):
            guard items.count <= FieldType.maxLinks else { return "must list at most \(FieldType.maxLinks) links" }
            for item in items {
                guard case .string(let s) = item else { return "must be a list of text" }
                if let why = FieldType.textProblem(s, maxBytes: FieldType.maxLinkBytes) { return "has a link that " + why }
            }
            return nil
        case (.urlList, _): return "must be a list of links"
        case (_, .string(let s)): return FieldType.textProblem(s, maxBytes: type.maxBytes)
        default: return "must be text"
        }
    }
}

extension FieldType {
    /// The most combining marks (Unicode general categories Mn, Mc, Me) a value may stack in a
    /// row, on one base character or at its start: enough for every script's diacritics
    /// (Vietnamese, Hebrew points, Indic vowel signs, Tibetan stacks use two to four).
    public static let maxCombiningMarks = 6
    /// The most links a member lists, and the longest link, in bytes of UTF-8.
    public static let maxLinks = 10
    public static let maxLinkBytes = 500
    /// The values a whole-number field (`capacity`) takes.
    public static let countRange = 0...1_000_000

    /// The longest value of this type, in bytes of UTF-8 (for a list: of each item).
    public var maxBytes: Int {
        switch self {
        case .text(let max): max
        case .email: 254
        case .chapter: 32
        case .country: 2
        case .choice(let words): words.map(\.utf8.count).max() ?? 0
        case .instant: 20
        case .timeZone: 64
        case .url: 2000
        case .urlList: FieldType.maxLinkBytes
        case .count: 0
        case .recordID: 36
        }
    }

    /// Why `s` is too long or stacks too many combining marks, or nil.
    static func textProblem(_ s: String, maxBytes: Int) -> String? {
        let bytes = s.utf8.count
        if bytes > maxBytes { return "must be at most \(maxBytes) bytes of UTF-8 (this one has \(bytes))" }
        // Combining marks start at U+0300, whose UTF-8 lead byte is 0xCC: text without such a
        // byte (all of ASCII and Latin-1) has none.
        guard s.utf8.contains(where: { $0 >= 0xCC }) else { return nil }
        var run = 0
        for c in s.unicodeScalars {
            switch c.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark:
                run += 1
                if run > maxCombiningMarks { return "must not stack more than \(maxCombiningMarks) combining marks on one character" }
            default: run = 0
            }
        }
        return nil
    }
}

/// Email syntax as the directory accepts it: one `@`, a non-empty local part without spaces,
/// a domain with a dot and a TLD of two letters or more.
public enum EmailAddress {
    public static func isValid(_ s: String) -> Bool {
        guard s.utf8.count <= 254, !s.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," }) else {
            return false
        }
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].utf8.count <= 64 else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") }),
            let tld = labels.last, tld.count >= 2, tld.allSatisfy({ $0.isLetter })
        else { return false }
        return labels.allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" } }
    }

    /// The key two member records are compared by: Unicode NFKC, case-folded.
    public static func identityKey(_ s: String) -> String {
        // NFKC leaves ASCII as it is; nearly every address is ASCII, and normalising through
        // Foundation costs more than the rest of an import's row check.
        if s.utf8.allSatisfy({ $0 < 0x80 }) {
            return s.utf8.contains(where: { (0x41...0x5A).contains($0) }) ? s.lowercased() : s
        }
        return s.precomposedStringWithCompatibilityMapping.lowercased()
    }
}

/// http(s) URLs with a host.
public enum WebURL {
    public static func isValid(_ s: String) -> Bool {
        guard s.utf8.count <= 2000, let u = URL(string: s), let scheme = u.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = u.host, !host.isEmpty
        else { return false }
        return true
    }
}

/// IANA time zone names known to this system's time zone database.
public enum IANATimeZone {
    private static let known: Set<String> = Set(TimeZone.knownTimeZoneIdentifiers)
    public static func isKnown(_ name: String) -> Bool { known.contains(name) || name == "UTC" }
}
