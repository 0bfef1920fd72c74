import AcesCore
import AcesStore
import AcesTestSupport
import Foundation
import Testing

/// The calendar pages and the feeds calendar apps and address books read.
@Suite(.serialized) struct CalendarPageTests {
    static func seed(_ n: WebNode) throws {
        try n.event(
            "paris", on: "fr",
            [
                "title": "Meetup Paris: social media, data & trust", "description": "Talks, then drinks.\nBring a friend; all welcome.",
                "start": .string(nextYear("03-14T18:30")), "end": .string(nextYear("03-14T21:00")), "timezone": "Europe/Paris",
                "venue": "Le Loft, 12 rue de la Paix", "capacity": 80,
            ])
        try n.event(
            "london", on: "uk",
            [
                "title": "London summer social", "start": .string(nextYear("07-02T19:00")), "end": .string(nextYear("07-02T22:30")),
                "timezone": "Europe/London", "venue": "The Crown",
            ])
        let berlin = try n.event(
            "berlin", on: "de",
            [
                "title": "Berlin Barcamp", "start": .string(nextYear("05-20T09:00")), "end": .string(nextYear("05-21T17:00")),
                "timezone": "Europe/Berlin",
            ])
        _ = try n.editor("de").cancelEvent(berlin)
        try n.member(
            "zoe", on: "fr",
            [
                "email": "zoe@example.fr", "name": "Zoë Martin, Lyon; FR", "organisation": "Agence Lumière", "role": "Manager",
                "city": "Lyon", "country": "FR", "bio": .string(String(repeating: "Stratégie éditoriale. ", count: 12)),
                "visibility": "public",
                "links": ["https://zoe.example.fr/"],
            ])
    }

    @Test func calendarShowsEventsInTheirOwnZoneWithCancelledMarked() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let page = try await n.get("/events")
            #expect(page.status == 200)
            #expect(page.body.contains("18:30–21:00 CET"), "a Paris event reads in Paris time, whoever looks")
            #expect(page.body.contains("19:00–22:30 BST"))
            #expect(page.body.contains("March \(nextYear("").prefix(4))") && page.body.contains("July"))
            #expect(page.body.contains("Berlin Barcamp") && page.body.contains("Cancelled"))
            #expect(page.body.contains("Meetup Paris: social media, data &amp; trust"))
            // Months in order: March before May before July.
            let march = try #require(page.body.range(of: "Meetup Paris")), may = try #require(page.body.range(of: "Berlin Barcamp"))
            let july = try #require(page.body.range(of: "London summer social"))
            #expect(march.lowerBound < may.lowerBound && may.lowerBound < july.lowerBound)

            let uk = try await n.get("/events?chapter=uk")
            #expect(uk.body.contains("London summer social") && !uk.body.contains("Meetup Paris"))
            #expect(uk.body.contains("/chapters/uk/events.ics"))

            let event = try await n.get("/events/\(n.ids["paris"]!)", headers: [("Accept-Language", "fr")])
            #expect(event.status == 200 && event.body.contains("18:30–21:00 CET") && event.body.contains("mars"))
            #expect(event.body.contains("Le Loft, 12 rue de la Paix") && event.body.contains("<br>"))
            let cancelled = try await n.get("/events/\(n.ids["berlin"]!)")
            #expect(cancelled.body.contains("badge cancelled") && cancelled.body.contains("is-cancelled"))
            #expect(try await n.get("/events/01234567-89ab-7def-8123-456789abcdef").status == 404)
        }
    }

    @Test func feedsFollowRFC5545AndSequenceRisesWithEveryChange() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let feed = try await n.get("/events.ics")
            #expect(feed.status == 200 && feed.header("Content-Type") == "text/calendar; charset=utf-8")
            let lines = try ICSCheck.lines(feed.body)
            #expect(lines.first == "BEGIN:VCALENDAR" && lines.last == "END:VCALENDAR")
            #expect(lines.contains("VERSION:2.0") && lines.contains { $0.hasPrefix("PRODID:") })
            let events = ICSCheck.components("VEVENT", lines)
            #expect(events.count == 3)
            for e in events {
                for p in ["UID:", "DTSTAMP:", "DTSTART", "DTEND", "SUMMARY:", "SEQUENCE:", "STATUS:"] {
                    #expect(e.contains { $0.hasPrefix(p) }, "every VEVENT has \(p)")
                }
                // Each TZID used has its VTIMEZONE.
                for l in e where l.hasPrefix("DTSTART;TZID=") {
                    let zone = l.dropFirst("DTSTART;TZID=".count).split(separator: ":")[0]
                    #expect(lines.contains("TZID:\(zone)"))
                }
            }
            let paris = try #require(events.first { $0.contains("UID:\(n.ids["paris"]!)@aces") })
            #expect(paris.contains("DTSTART;TZID=Europe/Paris:\(nextYear("0314T183000").replacingOccurrences(of: "-", with: ""))"))
            #expect(paris.contains("SUMMARY:Meetup Paris: social media\\, data & trust"))
            #expect(paris.contains("DESCRIPTION:Talks\\, then drinks.\\nBring a friend\\; all welcome."))
            #expect(paris.contains("STATUS:CONFIRMED"))
            let berlin = try #require(events.first { $0.contains("UID:\(n.ids["berlin"]!)@aces") })
            #expect(berlin.contains("STATUS:CANCELLED"))
            let berlinSequence = ICSCheck.sequence(berlin)
            #expect(berlinSequence == 1, "created, then cancelled")

            // A change raises SEQUENCE and is in the feed at once; the UID stays.
            let before = ICSCheck.sequence(paris)
            _ = try n.editor("fr").updateEvent(n.ids["paris"]!, ["venue": "La Grande Halle"])
            let after = try ICSCheck.components("VEVENT", ICSCheck.lines(try await n.get("/events.ics").body))
                .first { $0.contains("UID:\(n.ids["paris"]!)@aces") }
            #expect(ICSCheck.sequence(after ?? []) == before + 1 && after?.contains("LOCATION:La Grande Halle") == true)

            let ukFeed = try ICSCheck.lines(try await n.get("/chapters/uk/events.ics").body)
            #expect(ICSCheck.components("VEVENT", ukFeed).count == 1 && ukFeed.contains("TZID:Europe/London"))
            #expect(try await n.get("/chapters/xx/events.ics").status == 404)
            let one = try ICSCheck.lines(try await n.get("/events/\(n.ids["london"]!).ics").body)
            #expect(ICSCheck.components("VEVENT", one).count == 1)
        }
    }

    @Test func contactCardsFollowRFC6350() async throws {
        try await WebNode.with(seed: Self.seed) { n in
            let id = n.ids["zoe"]!
            let card = try await n.get("/members/\(id).vcf")
            #expect(card.status == 200 && card.header("Content-Type") == "text/vcard; charset=utf-8")
            let lines = try ICSCheck.lines(card.body)
            #expect(Array(lines.prefix(2)) == ["BEGIN:VCARD", "VERSION:4.0"] && lines.last == "END:VCARD")
            #expect(lines.contains("FN:Zoë Martin\\, Lyon\\; FR"))
            #expect(lines.contains("UID:urn:aces:member:\(id)"))
            let rev = try #require(lines.first { $0.hasPrefix("REV:") })
            #expect(rev.count == "REV:20270314T183000Z".count && rev.hasSuffix("Z"))
            #expect(!card.body.contains("zoe@example.fr"), "visitors get no email")
            // Stable: the same card twice.
            #expect(try await n.get("/members/\(id).vcf").body == card.body)
        }
    }
}

/// Reads iCalendar / vCard text the way RFC 5545 §3.1 says, failing on any broken rule.
enum ICSCheck {
    struct Broken: Error, CustomStringConvertible { let description: String }

    /// Unfolded content lines; throws when a line does not end in CRLF or is longer than 75 octets.
    static func lines(_ text: String) throws -> [String] {
        guard text.hasSuffix("\r\n") else { throw Broken(description: "the text does not end with CRLF") }
        var physical = text.components(separatedBy: "\r\n")
        physical.removeLast()
        var out = [String]()
        for p in physical {
            if p.contains("\n") || p.contains("\r") { throw Broken(description: "a bare CR or LF: \(p)") }
            if p.utf8.count > 75 { throw Broken(description: "a line of \(p.utf8.count) octets") }
            if p.hasPrefix(" ") {
                guard !out.isEmpty else { throw Broken(description: "a continuation first") }
                out[out.count - 1] += p.dropFirst()
            } else {
                out.append(p)
            }
        }
        return out
    }

    static func components(_ name: String, _ lines: [String]) -> [[String]] {
        var out = [[String]]()
        var current: [String]?
        for l in lines {
            if l == "BEGIN:\(name)" {
                current = []
            } else if l == "END:\(name)", let c = current {
                out.append(c)
                current = nil
            } else {
                current?.append(l)
            }
        }
        return out
    }

    static func sequence(_ event: [String]) -> Int {
        event.first { $0.hasPrefix("SEQUENCE:") }.flatMap { Int($0.dropFirst(9)) } ?? -1
    }
}
