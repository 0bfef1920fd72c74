import Foundation

/// One person as a contact card shows them.
public struct ContactCard: Sendable, Hashable {
    /// A URI, e.g. `urn:aces:member:m-123`.
    public var uid: String
    /// The name as it is displayed (FN).
    public var fullName: String
    /// Organisation (ORG), if any.
    public var organisation: String?
    /// Role or position (TITLE), if any.
    public var role: String?
    /// City (ADR locality), if any.
    public var city: String?
    /// ISO 3166-1 alpha-2 code, e.g. `FR` (ADR country), if any.
    public var country: String?
    /// Free text (NOTE), if any.
    public var note: String?
    /// Work e-mail address, if any.
    public var email: String?
    /// Web pages, one URL property each.
    public var urls: [String]
    /// Last change of the card (REV).
    public var revision: Date
    /// URL where this card can be fetched again (SOURCE), if any.
    public var source: String?
    /// The id of the chapter that owns the member (X-ACES-CHAPTER), and its name (CATEGORIES).
    public var chapterID: String?
    public var chapterName: String?

    /// Creates a card; optional texts default to nil and URLs to none.
    public init(
        uid: String, fullName: String, organisation: String? = nil, role: String? = nil, city: String? = nil,
        country: String? = nil, note: String? = nil, email: String? = nil, urls: [String] = [], revision: Date,
        source: String? = nil
    ) {
        self.uid = uid
        self.fullName = fullName
        self.organisation = organisation
        self.role = role
        self.city = city
        self.country = country
        self.note = note
        self.email = email
        self.urls = urls
        self.revision = revision
        self.source = source
    }
}

/// vCard 4.0 (RFC 6350) contact cards.
public enum VCard {
    /// One vCard 4.0 (RFC 6350).
    ///
    /// N is omitted (it is optional in 4.0; a full name cannot be split reliably). Optional properties that are
    /// nil or empty are omitted. Lines end in CRLF and are folded at 75 octets.
    public static func render(_ card: ContactCard) -> String {
        var lines = [
            "BEGIN:VCARD",
            "VERSION:4.0",
            "KIND:individual",
            "FN:" + ContentLine.escapeText(card.fullName),
            "UID:" + ContentLine.raw(card.uid),
            "REV:" + ContentLine.utcDateTime(card.revision),
        ]
        if let org = present(card.organisation) { lines.append("ORG:" + ContentLine.escapeText(org)) }
        if let role = present(card.role) { lines.append("TITLE:" + ContentLine.escapeText(role)) }
        let city = present(card.city)
        let country = present(card.country)
        if city != nil || country != nil {
            // Post office box; extended address; street; locality; region; postal code; country.
            let parts = ["", "", "", city ?? "", "", "", country ?? ""]
            lines.append("ADR;TYPE=work:" + parts.map(ContentLine.escapeText).joined(separator: ";"))
        }
        if let email = present(card.email) { lines.append("EMAIL;TYPE=work:" + ContentLine.escapeText(email)) }
        if let note = present(card.note) { lines.append("NOTE:" + ContentLine.escapeText(note)) }
        for url in card.urls.map(ContentLine.raw) where !url.isEmpty {
            lines.append("URL:" + url)
        }
        if let source = present(card.source).map(ContentLine.raw), !source.isEmpty { lines.append("SOURCE:" + source) }
        if let name = present(card.chapterName) { lines.append("CATEGORIES:" + ContentLine.escapeText(name)) }
        if let id = present(card.chapterID) { lines.append("X-ACES-CHAPTER:" + ContentLine.escapeText(id)) }
        lines.append("END:VCARD")
        return lines.map(ContentLine.fold).joined()
    }

    /// Several cards concatenated (for an export file), in the order given.
    public static func render(_ cards: [ContactCard]) -> String {
        cards.map { render($0) }.joined()
    }

    private static func present(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
