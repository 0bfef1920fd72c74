import AcesCore
import Foundation

/// A believable, deterministic sample of members and events for a chapter, for the demo and
/// the benchmark. Generated from a seed, so runs are repeatable.
public struct SampleData: Sendable {
    struct Profile {
        let first: [String]
        let last: [String]
        let cities: [String]
        let country: String
        let zone: String
        let venues: [String]
        let domain: String
    }

    static let profiles: [String: Profile] = [
        "fr": Profile(
            first: ["Zoë", "Camille", "Léa", "Hugo", "Louis", "Chloé", "Inès", "Jules", "Manon", "Théo", "Élodie", "Noémie"],
            last: ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Chevalier"],
            cities: ["Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes", "Toulouse"], country: "FR", zone: "Europe/Paris",
            venues: ["Station F, Paris", "La Cantine, Nantes", "Le Loft, Lyon"], domain: "example.fr"),
        "uk": Profile(
            first: ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Freya", "Arthur", "Niamh", "Siobhan", "Rhys"],
            last: ["Smith", "Jones", "Taylor", "Brown", "O'Brien", "Evans", "Wilson", "Thomas", "Roberts", "Campbell"],
            cities: ["London", "Manchester", "Edinburgh", "Bristol", "Leeds", "Cardiff", "Belfast"], country: "GB",
            zone: "Europe/London", venues: ["Shoreditch Works, London", "Spinningfields Hub, Manchester"], domain: "example.co.uk"),
        "de": Profile(
            first: ["Lukas", "Mia", "Jonas", "Hannah", "Felix", "Lea", "Maximilian", "Jürgen", "Sophie", "Björn", "Anja", "Özlem"],
            last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Groß"],
            cities: ["Berlin", "München", "Hamburg", "Köln", "Frankfurt", "Düsseldorf", "Leipzig"], country: "DE",
            zone: "Europe/Berlin", venues: ["Factory Berlin", "Werk1, München", "betahaus, Hamburg"], domain: "example.de"),
    ]

    static let organisations = [
        "Agence Nova", "Brightside Social", "Kommunikation & Co", "Pixel Republic", "Northwind Media",
        "Studio Hashtag", "Civic Voices", "Lumen PR", "Open Newsroom", "Festival Digital",
    ]
    static let roles = [
        "Community manager", "Social media lead", "Content strategist", "Head of digital", "Press officer",
        "Influencer relations", "Data journalist", "Brand manager", "Video producer", "Freelance consultant",
    ]
    static let topics = [
        "Short video", "Community building", "Crisis communication", "Analytics", "Accessibility on social",
        "Newsletters", "Live streaming", "Employer branding",
    ]

    private var state: UInt64
    public init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }

    /// The next pseudo-random number (SplitMix64).
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func pick<T>(_ a: [T]) -> T { a[Int(next() % UInt64(a.count))] }

    /// Validated field values of a new member of `chapter`; `n` makes the email unique.
    public mutating func member(chapter: ChapterID, n: Int) -> [String: JSONValue] {
        let p = SampleData.profiles[chapter.rawValue] ?? SampleData.profiles["fr"]!
        let first = pick(p.first), last = pick(p.last)
        let local = (first + "." + last).folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            .lowercased().filter { $0.isLetter || $0 == "." }
        let visibility = ["public", "public", "public", "members", "chapter"][Int(next() % 5)]
        return [
            "chapter": .string(chapter.rawValue), "email": .string("\(local).\(n)@\(p.domain)"), "name": .string("\(first) \(last)"),
            "organisation": .string(pick(SampleData.organisations)), "role": .string(pick(SampleData.roles)),
            "city": .string(pick(p.cities)), "country": .string(p.country),
            "bio": .string(
                "\(pick(SampleData.roles)) working on \(pick(SampleData.topics).lowercased()) and \(pick(SampleData.topics).lowercased())."),
            "visibility": .string(visibility), "status": "active",
        ]
    }

    /// Validated field values of an upcoming event of `chapter`, `daysAhead` days after `from`.
    public mutating func event(chapter: ChapterID, from: Date, daysAhead: Int) -> [String: JSONValue] {
        let p = SampleData.profiles[chapter.rawValue] ?? SampleData.profiles["fr"]!
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: p.zone)!
        let day = cal.startOfDay(for: from.addingTimeInterval(Double(daysAhead) * 86_400))
        let start = day.addingTimeInterval(18.5 * 3600)
        let topic = pick(SampleData.topics)
        return [
            "chapter": .string(chapter.rawValue), "title": .string("\(topic) meetup — \(pick(p.cities))"),
            "description": .string("An evening of talks and exchange on \(topic.lowercased())."),
            "start": .string(Instant.format(start)), "end": .string(Instant.format(start.addingTimeInterval(2.5 * 3600))),
            "timezone": .string(p.zone), "venue": .string(pick(p.venues)), "capacity": .number(Double(40 + Int(next() % 160))),
            "status": "scheduled",
        ]
    }
}
