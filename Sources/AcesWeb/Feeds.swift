import AcesCore
import AcesFormats
import AcesStore
import Foundation

/// Records as calendar apps and address books read them (`.ics`, `.vcf`).
enum Feeds {
    /// Past events kept in feeds, so a subscriber's calendar keeps recent history.
    static let history: TimeInterval = 180 * 86400
    static let maxEvents = 5000

    static func lastChanged(_ r: Record) -> Date {
        Date(timeIntervalSince1970: Double(r.state.lastChanged?.millis ?? 0) / 1000)
    }

    static func calendarEvent(_ r: Record, site: Site) -> CalendarEvent? {
        let v = r.values
        guard let title = v["title"]?.stringValue, let start = v["start"]?.stringValue.flatMap(Instant.parse),
            let end = v["end"]?.stringValue.flatMap(Instant.parse)
        else { return nil }
        return CalendarEvent(
            uid: "\(r.id)@aces", title: title, description: v["description"]?.stringValue, start: start, end: end,
            timeZone: v["timezone"]?.stringValue ?? "UTC", location: v["venue"]?.stringValue,
            url: v["url"]?.stringValue ?? "\(site.baseURL)/events/\(r.id)", cancelled: v["status"] == "cancelled",
            sequence: max(0, r.revision - 1), lastModified: lastChanged(r),
            categories: [site.chapterName(v["chapter"]?.stringValue, .en)])
    }

    /// About the most a feed weighs: the events past it (the furthest ahead) are left out.
    static let maxBytes = 16 << 20

    static func ics(_ records: [Record], name: String, site: Site) -> String {
        var budget = maxBytes
        var events = [CalendarEvent]()
        for r in records {
            guard let e = calendarEvent(r, site: site) else { continue }
            // Escaping at most doubles text and folding adds 3 bytes in 75; 1 KiB covers the other lines.
            let text = e.title.utf8.count + (e.description?.utf8.count ?? 0) + (e.location?.utf8.count ?? 0) + (e.url?.utf8.count ?? 0)
            budget -= 1024 + text * 21 / 10
            if budget < 0 { break }
            events.append(e)
        }
        return ICalendar.render(events, name: name)
    }

    /// Whether `viewer` sees the member's email: signed-in members do, unless the member hid it
    /// (`email_visibility = hidden`); the member always sees their own.
    static func showsEmail(_ r: Record, to viewer: Viewer) -> Bool {
        guard case .member(let id, _) = viewer else { return false }
        return id == r.id || r.values["email_visibility"]?.stringValue != "hidden"
    }

    /// A member's card. The email is on it only for signed-in members, as on the profile page.
    static func card(_ r: Record, viewer: Viewer, site: Site) -> ContactCard {
        let v = r.values
        let email = showsEmail(r, to: viewer) ? v["email"]?.stringValue : nil
        var card = ContactCard(
            uid: "urn:aces:member:\(r.id)", fullName: v["name"]?.stringValue ?? r.id, organisation: v["organisation"]?.stringValue,
            role: v["role"]?.stringValue, city: v["city"]?.stringValue, country: v["country"]?.stringValue,
            note: v["bio"]?.stringValue, email: email, urls: (v["links"]?.arrayValue ?? []).compactMap(\.stringValue),
            revision: lastChanged(r), source: "\(site.baseURL)/members/\(r.id).vcf")
        // The owning chapter (PROTOCOL.md §2, *Ownership*): the `chapter` column always holds it.
        if let owner = v["chapter"]?.stringValue {
            card.chapterID = owner
            card.chapterName = site.chapterName(owner, .en)
        }
        return card
    }
}
