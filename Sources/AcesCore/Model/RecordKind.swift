/// The two kinds of replicated record.
public enum RecordKind: String, CaseIterable, Sendable, Codable {
    case member
    case event

    /// The fields of this kind, in their fixed order (the index is part of the stored state).
    public var fields: [FieldSpec] {
        switch self {
        case .member: FieldSpec.memberFields
        case .event: FieldSpec.eventFields
        }
    }

    /// The field named `name`, or nil.
    public func field(_ name: String) -> FieldSpec? { fields.first { $0.name == name } }
}

/// A replicated field: its name, its place and the rule its values follow.
public struct FieldSpec: Sendable, Hashable {
    /// The field's name, as it appears in operations and listings.
    public let name: String
    /// The field's position in its kind (stable; stored in per-record state).
    public let index: Int
    /// The rule values of this field follow.
    public let type: FieldType
    /// Whether a new record must set it.
    public let required: Bool

    static let memberFields: [FieldSpec] = [
        .init(name: "chapter", index: 0, type: .chapter, required: true),
        .init(name: "email", index: 1, type: .email, required: true),
        .init(name: "name", index: 2, type: .text(maxBytes: 200), required: true),
        .init(name: "organisation", index: 3, type: .text(maxBytes: 200), required: false),
        .init(name: "role", index: 4, type: .text(maxBytes: 200), required: false),
        .init(name: "city", index: 5, type: .text(maxBytes: 120), required: false),
        .init(name: "country", index: 6, type: .country, required: false),
        .init(name: "bio", index: 7, type: .text(maxBytes: 4000), required: false),
        .init(name: "links", index: 8, type: .urlList, required: false),
        .init(name: "visibility", index: 9, type: .choice(["public", "members", "chapter"]), required: true),
        .init(name: "status", index: 10, type: .choice(["active", "inactive"]), required: true),
        // Set when an operator merged this record into another (a duplicate identity): the id of the survivor.
        .init(name: "merged_into", index: 11, type: .recordID, required: false),
        // Whether signed-in members see the email (absent: they do); protocol version 3 and later.
        .init(name: "email_visibility", index: 12, type: .choice(["members", "hidden"]), required: false),
    ]

    static let eventFields: [FieldSpec] = [
        .init(name: "chapter", index: 0, type: .chapter, required: true),
        .init(name: "title", index: 1, type: .text(maxBytes: 200), required: true),
        .init(name: "description", index: 2, type: .text(maxBytes: 8000), required: false),
        .init(name: "start", index: 3, type: .instant, required: true),
        .init(name: "end", index: 4, type: .instant, required: true),
        .init(name: "timezone", index: 5, type: .timeZone, required: true),
        .init(name: "venue", index: 6, type: .text(maxBytes: 300), required: false),
        .init(name: "url", index: 7, type: .url, required: false),
        .init(name: "capacity", index: 8, type: .count, required: false),
        .init(name: "status", index: 9, type: .choice(["scheduled", "cancelled"]), required: true),
    ]
}

/// What a field's values look like. Every field may also be JSON `null` (cleared) unless required.
public enum FieldType: Sendable, Hashable {
    /// Free text of at most `maxBytes` bytes of UTF-8, no control characters but newline and
    /// tab, and no more than `FieldType.maxCombiningMarks` combining marks in a row.
    case text(maxBytes: Int)
    /// An email address.
    case email
    /// A chapter id.
    case chapter
    /// An ISO 3166-1 alpha-2 country code, upper case.
    case country
    /// One of a fixed set of words.
    case choice([String])
    /// An instant, `YYYY-MM-DDTHH:MM:SSZ` in UTC.
    case instant
    /// An IANA time zone name.
    case timeZone
    /// An http(s) URL.
    case url
    /// A list of at most 10 http(s) URLs of at most 500 bytes each.
    case urlList
    /// A whole number from 0 to 1,000,000.
    case count
    /// The id of another record.
    case recordID
}
