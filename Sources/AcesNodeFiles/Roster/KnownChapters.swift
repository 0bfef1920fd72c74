import AcesCore

extension ChapterProfile {
    /// Names, countries and zones of the chapters the tooling knows; others get neutral defaults.
    public static let knownChapters: [String: (name: String, country: String, zone: String)] = [
        "fr": ("France", "FR", "Europe/Paris"), "uk": ("United Kingdom", "GB", "Europe/London"), "de": ("Germany", "DE", "Europe/Berlin"),
        "es": ("Spain", "ES", "Europe/Madrid"), "it": ("Italy", "IT", "Europe/Rome"), "nl": ("Netherlands", "NL", "Europe/Amsterdam"),
        "be": ("Belgium", "BE", "Europe/Brussels"), "pt": ("Portugal", "PT", "Europe/Lisbon"), "pl": ("Poland", "PL", "Europe/Warsaw"),
        "ie": ("Ireland", "IE", "Europe/Dublin"), "at": ("Austria", "AT", "Europe/Vienna"), "ch": ("Switzerland", "CH", "Europe/Zurich"),
    ]

    /// The profile of a chapter the tooling knows, without keys or URLs: what a new chapter's
    /// roster file starts from.
    public static func known(_ c: ChapterID) -> ChapterProfile {
        let k = knownChapters[c.rawValue] ?? (c.rawValue.uppercased(), String(c.rawValue.prefix(2)).uppercased(), "UTC")
        return ChapterProfile(id: c.rawValue, name: k.name, country: k.country, timezone: k.zone)
    }
}
