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
        /// Where the chapter meets, with the city each venue is in.
        let venues: [(name: String, city: String)]
        let domain: String
    }

    static let profiles: [String: Profile] = [
        "fr": Profile(
            first: ["Zoë", "Camille", "Léa", "Hugo", "Louis", "Chloé", "Inès", "Jules", "Manon", "Théo", "Élodie", "Noémie"],
            last: ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau", "Fontaine", "Chevalier"],
            cities: ["Paris", "Lyon", "Marseille", "Lille", "Bordeaux", "Nantes", "Toulouse"], country: "FR", zone: "Europe/Paris",
            venues: [("Station F", "Paris"), ("La Cantine", "Nantes"), ("Le Loft", "Lyon"), ("Euratechnologies", "Lille")],
            domain: "example.fr"),
        "uk": Profile(
            first: ["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Noah", "Freya", "Arthur", "Niamh", "Siobhan", "Rhys"],
            last: ["Smith", "Jones", "Taylor", "Brown", "O'Brien", "Evans", "Wilson", "Thomas", "Roberts", "Campbell"],
            cities: ["London", "Manchester", "Edinburgh", "Bristol", "Leeds", "Cardiff", "Belfast"], country: "GB",
            zone: "Europe/London",
            venues: [("Shoreditch Works", "London"), ("Spinningfields Hub", "Manchester"), ("CodeBase", "Edinburgh")],
            domain: "example.co.uk"),
        "de": Profile(
            first: ["Lukas", "Mia", "Jonas", "Hannah", "Felix", "Lea", "Maximilian", "Jürgen", "Sophie", "Björn", "Anja", "Özlem"],
            last: ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Groß"],
            cities: ["Berlin", "München", "Hamburg", "Köln", "Frankfurt", "Düsseldorf", "Leipzig"], country: "DE",
            zone: "Europe/Berlin", venues: [("Factory Berlin", "Berlin"), ("Werk1", "München"), ("betahaus", "Hamburg")],
            domain: "example.de"),
    ]

    /// A job as people in the association hold it: the role, employers that have such a job, and
    /// a biography that says what that person does (its `%@` is the employer).
    struct Persona {
        let role: String
        let employers: [String]
        let bio: String
        let topic: String
    }

    static let personas: [Persona] = [
        .init(
            role: "Community manager", employers: ["Civic Voices", "Festival Digital", "Brightside Social"],
            bio: "Runs the online community of %@: moderation, member events and a weekly newsletter.", topic: "Community building"),
        .init(
            role: "Social media lead", employers: ["Brightside Social", "Northwind Media", "Studio Hashtag"],
            bio: "Leads the social media team at %@ and plans its campaigns across five platforms.", topic: "Short video"),
        .init(
            role: "Content strategist", employers: ["Agence Nova", "Kommunikation & Co", "Studio Hashtag"],
            bio: "Plans what %@ publishes and when, from long reads to newsletters.", topic: "Newsletters"),
        .init(
            role: "Head of digital", employers: ["Northwind Media", "Open Newsroom", "Civic Voices"],
            bio: "Heads the digital team at %@: web, apps, social channels and their analytics.", topic: "Analytics"),
        .init(
            role: "Press officer", employers: ["Lumen PR", "Kommunikation & Co", "Agence Nova"],
            bio: "Handles press relations for the clients of %@, and their crisis communication when it counts.",
            topic: "Crisis communication"),
        .init(
            role: "Data journalist", employers: ["Open Newsroom", "Northwind Media"],
            bio: "Turns public data into stories and charts for %@.", topic: "Analytics"),
        .init(
            role: "Brand manager", employers: ["Pixel Republic", "Agence Nova", "Lumen PR"],
            bio: "Looks after the brands %@ works for, from their voice to their employer branding.", topic: "Employer branding"),
        .init(
            role: "Video producer", employers: ["Pixel Republic", "Festival Digital", "Studio Hashtag"],
            bio: "Produces short videos and live streams at %@, from script to edit.", topic: "Live streaming"),
        .init(
            role: "Accessibility specialist", employers: ["Civic Voices", "Open Newsroom", "Pixel Republic"],
            bio: "Makes the websites and social posts of %@ work for everyone: captions, contrast, alt text.",
            topic: "Accessibility on social"),
        .init(
            role: "Freelance consultant", employers: ["Independent"],
            bio: "Independent consultant helping associations and small firms with their social media.", topic: "Community building"),
    ]

    static let organisations = Array(Set(personas.flatMap(\.employers))).sorted()
    static let roles = personas.map(\.role)
    static let topics = Array(Set(personas.map(\.topic))).sorted()

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

    /// Validated field values of a new member of `chapter`; `n` makes the email unique, and no two
    /// members below 120 share a name. About one member in four lists a web link.
    public mutating func member(chapter: ChapterID, n: Int) -> [String: JSONValue] {
        let p = SampleData.profiles[chapter.rawValue] ?? SampleData.profiles["fr"]!
        // 37 is prime to 12 × 10, so n ↦ 37n mod 120 visits every first and last name pair once.
        let pairs = p.first.count * p.last.count
        let m = (n % pairs) * 37 % pairs
        let first = p.first[m % p.first.count], last = p.last[m / p.first.count]
        let local = (first + "." + last).folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil)
            .lowercased().filter { $0.isLetter || $0 == "." }
        let visibility = ["public", "public", "public", "members", "chapter"][Int(next() % 5)]
        let persona = pick(SampleData.personas)
        let employer = pick(persona.employers)
        var values: [String: JSONValue] = [
            "chapter": .string(chapter.rawValue), "email": .string("\(local).\(n)@\(p.domain)"), "name": .string("\(first) \(last)"),
            "organisation": .string(employer), "role": .string(persona.role),
            "city": .string(pick(p.cities)), "country": .string(p.country),
            "bio": .string(persona.bio.replacingOccurrences(of: "%@", with: employer)),
            "visibility": .string(visibility), "status": "active",
        ]
        if next() % 4 == 0 { values["links"] = .array([.string("https://\(local.replacingOccurrences(of: ".", with: "-")).\(p.domain)")]) }
        return values
    }

    /// Validated field values of an upcoming event of `chapter`, `daysAhead` days after `from`,
    /// held in the city its title names.
    public mutating func event(chapter: ChapterID, from: Date, daysAhead: Int) -> [String: JSONValue] {
        let p = SampleData.profiles[chapter.rawValue] ?? SampleData.profiles["fr"]!
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: p.zone)!
        let day = cal.startOfDay(for: from.addingTimeInterval(Double(daysAhead) * 86_400))
        let start = day.addingTimeInterval(18.5 * 3600)
        let topic = pick(SampleData.topics)
        let venue = pick(p.venues)
        return [
            "chapter": .string(chapter.rawValue), "title": .string("\(topic) meetup — \(venue.city)"),
            "description": .string("An evening of talks and exchange on \(topic.lowercased()) in \(venue.city)."),
            "start": .string(Instant.format(start)), "end": .string(Instant.format(start.addingTimeInterval(2.5 * 3600))),
            "timezone": .string(p.zone), "venue": .string("\(venue.name), \(venue.city)"),
            "capacity": .number(Double(40 + Int(next() % 160))),
            "status": "scheduled",
        ]
    }
}
