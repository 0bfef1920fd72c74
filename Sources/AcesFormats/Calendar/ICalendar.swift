import Foundation

/// One event as a calendar feed shows it.
public struct CalendarEvent: Sendable, Hashable {
    /// Stable id, e.g. `evt-123@aces`.
    public var uid: String
    /// Short title (SUMMARY).
    public var title: String
    /// Longer text (DESCRIPTION), if any.
    public var description: String?
    /// First instant of the event.
    public var start: Date
    /// Instant the event ends; when it is not after `start`, no DTEND is written (the event then ends at its start).
    public var end: Date
    /// IANA name, e.g. `Europe/Paris`. If Foundation does not know it, the times are written in UTC instead.
    public var timeZone: String
    /// Where the event takes place, as free text.
    public var location: String?
    /// A web page about the event.
    public var url: String?
    /// Whether the event was called off (STATUS:CANCELLED).
    public var cancelled: Bool
    /// Rises with every change (non-negative; a negative value is written as 0).
    public var sequence: Int
    /// Last change of the event; written as DTSTAMP and LAST-MODIFIED.
    public var lastModified: Date
    /// Categories, e.g. `["fr"]`; the property is omitted when empty.
    public var categories: [String]

    /// Creates an event; optional texts default to nil and categories to none.
    public init(
        uid: String, title: String, description: String? = nil, start: Date, end: Date, timeZone: String,
        location: String? = nil, url: String? = nil, cancelled: Bool = false, sequence: Int = 0, lastModified: Date,
        categories: [String] = []
    ) {
        self.uid = uid
        self.title = title
        self.description = description
        self.start = start
        self.end = end
        self.timeZone = timeZone
        self.location = location
        self.url = url
        self.cancelled = cancelled
        self.sequence = sequence
        self.lastModified = lastModified
        self.categories = categories
    }
}

/// iCalendar (RFC 5545) feeds.
public enum ICalendar {
    /// A complete VCALENDAR (RFC 5545) with one VEVENT per event and one VTIMEZONE per TZID used.
    ///
    /// Events are sorted by start, then uid. Times are written as local wall times with `TZID=<event.timeZone>`;
    /// they are written in UTC (`…Z`, no TZID) instead when Foundation does not know the zone, when the zone is
    /// UTC at every instant (`UTC`, `GMT`, `Etc/UTC`…), or when the wall time occurs twice (the second pass
    /// through a clock turned back: RFC 5545 would read it as the first). Each VTIMEZONE is computed from
    /// Foundation's zone data and covers at least one year either side of every start and end in that zone.
    /// The output is fully determined by the input (and the zone data): no clock is read.
    public static func render(_ events: [CalendarEvent], name: String, prodID: String = "-//Aces//Aces Federation//EN") -> String {
        var zones: [String: TimeZone?] = [:]
        func zone(_ id: String) -> TimeZone? {
            if let known = zones[id] { return known }
            let resolved = usableZone(id)
            zones[id] = resolved
            return resolved
        }

        var rendered: [(event: CalendarEvent, text: String)] = []
        var usedZones: [String: (zone: TimeZone, instants: [Int])] = [:]
        for event in events {
            let tz = zone(event.timeZone)
            var lines: [String] = []
            let usedTZID = renderEvent(event, zone: tz, into: &lines)
            if usedTZID, let tz {
                let instants = [ContentLine.epochSeconds(event.start), ContentLine.epochSeconds(event.end)]
                usedZones[event.timeZone, default: (tz, [])].instants += instants
            }
            rendered.append((event, lines.map(ContentLine.fold).joined()))
        }
        rendered.sort { a, b in
            if a.event.start != b.event.start { return a.event.start < b.event.start }
            if a.event.uid != b.event.uid { return a.event.uid < b.event.uid }
            // Byte order, not String's (which calls canonically equivalent texts equal), so ties never remain.
            return a.text.utf8.lexicographicallyPrecedes(b.text.utf8)
        }

        var head = [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:" + ContentLine.escapeText(prodID),
            "CALSCALE:GREGORIAN",
            "METHOD:PUBLISH",
            "X-WR-CALNAME:" + ContentLine.escapeText(name),
        ]
        for id in usedZones.keys.sorted() {
            guard let used = usedZones[id] else { continue }
            head += timeZoneComponent(id: id, zone: used.zone, instants: used.instants)
        }
        var out = head.map(ContentLine.fold).joined()
        for item in rendered { out += item.text }
        out += ContentLine.fold("END:VCALENDAR")
        return out
    }

    // MARK: - Events

    /// Appends the VEVENT's logical lines; true when a DTSTART or DTEND refers to the event's TZID.
    private static func renderEvent(_ event: CalendarEvent, zone: TimeZone?, into lines: inout [String]) -> Bool {
        var usedTZID = false
        func dateTime(_ property: String, _ date: Date) -> String {
            let seconds = ContentLine.epochSeconds(date)
            if let zone, let tzid = ContentLine.parameterValue(event.timeZone), let wall = wallTime(seconds, in: zone) {
                usedTZID = true
                return "\(property);TZID=\(tzid):\(wall)"
            }
            return "\(property):" + ContentLine.basicDateTime(epochSeconds: seconds) + "Z"
        }
        let stamp = ContentLine.utcDateTime(event.lastModified)
        lines.append("BEGIN:VEVENT")
        lines.append("UID:" + ContentLine.escapeText(event.uid))
        lines.append("DTSTAMP:" + stamp)
        lines.append("LAST-MODIFIED:" + stamp)
        lines.append(dateTime("DTSTART", event.start))
        if ContentLine.epochSeconds(event.end) > ContentLine.epochSeconds(event.start) {
            lines.append(dateTime("DTEND", event.end))
        }
        lines.append("SUMMARY:" + ContentLine.escapeText(event.title))
        if let text = event.description, !text.isEmpty { lines.append("DESCRIPTION:" + ContentLine.escapeText(text)) }
        if let text = event.location, !text.isEmpty { lines.append("LOCATION:" + ContentLine.escapeText(text)) }
        if let url = event.url.map(ContentLine.raw), !url.isEmpty { lines.append("URL:" + url) }
        let categories = event.categories.filter { !$0.isEmpty }.map(ContentLine.escapeText)
        if !categories.isEmpty { lines.append("CATEGORIES:" + categories.joined(separator: ",")) }
        lines.append("SEQUENCE:\(max(0, event.sequence))")
        lines.append(event.cancelled ? "STATUS:CANCELLED" : "STATUS:CONFIRMED")
        lines.append("TRANSP:OPAQUE")
        lines.append("END:VEVENT")
        return usedTZID
    }

    /// The zone to write TZID times in: nil when Foundation does not know the name, when the name cannot be a
    /// parameter value, or when the zone is UTC at every instant (UTC form is then the plain way to say it).
    private static func usableZone(_ id: String) -> TimeZone? {
        guard ContentLine.parameterValue(id) != nil, let tz = TimeZone(identifier: id) else { return nil }
        let alwaysUTC =
            tz.secondsFromGMT(for: Date(timeIntervalSince1970: 0)) == 0
            && tz.nextDaylightSavingTimeTransition(after: .distantPast) == nil
        return alwaysUTC ? nil : tz
    }

    /// `YYYYMMDDTHHMMSS` wall time of an instant in `zone`; nil when that wall time also names an earlier
    /// instant (clocks turned back), since RFC 5545 resolves such a time to its first occurrence.
    private static func wallTime(_ seconds: Int, in zone: TimeZone) -> String? {
        let offset = offsetAt(seconds, zone)
        // Any turn-back that could make this wall time ambiguous happened less than two days ago.
        var cursor = date(seconds - 2 * 86_400)
        for _ in 0..<16 {
            guard let t = zone.nextDaylightSavingTimeTransition(after: cursor), t > cursor else { break }
            let ts = ContentLine.epochSeconds(t)
            guard ts <= seconds else { break }
            let before = offsetAt(ts - 1, zone)
            let after = offsetAt(ts, zone)
            if before > after, seconds < ts + (before - after) { return nil }
            cursor = t
        }
        return ContentLine.basicDateTime(epochSeconds: seconds + offset)
    }

    // MARK: - Time zones

    /// What a zone says at one instant: the parts an observance records.
    private struct ZoneState: Equatable {
        var offset: Int
        var daylight: Bool
        var name: String?
    }

    /// The VTIMEZONE for `id`: an opening observance, then one per transition (plus a bridge after a gap
    /// between covered spans, when the zone changed meanwhile). Each instant is covered a year either side.
    private static func timeZoneComponent(id: String, zone: TimeZone, instants: [Int]) -> [String] {
        let year = 366 * 86_400
        var spans: [(lo: Int, hi: Int)] = []
        for s in instants.sorted() {
            let lo = max(ContentLine.minEpochSeconds, s - year)
            let hi = min(ContentLine.maxEpochSeconds, s + year)
            if let last = spans.last, lo <= last.hi {
                spans[spans.count - 1].hi = max(last.hi, hi)
            } else {
                spans.append((lo, hi))
            }
        }

        var lines = ["BEGIN:VTIMEZONE", "TZID:" + ContentLine.escapeText(id)]
        var current: ZoneState?
        for span in spans {
            let opening = state(at: span.lo, zone)
            if let previous = current {
                if opening != previous {
                    lines += observance(opening, onsetWall: span.lo + previous.offset, from: previous.offset)
                }
            } else {
                // 1970-01-01T00:00:00 local when the span starts later, as is customary; else the span's start.
                let onset = span.lo >= 0 ? 0 : span.lo + opening.offset
                lines += observance(opening, onsetWall: onset, from: opening.offset)
            }
            current = opening

            var cursor = date(span.lo)
            for _ in 0..<5_000 {
                guard let t = zone.nextDaylightSavingTimeTransition(after: cursor), t > cursor else { break }
                let ts = ContentLine.epochSeconds(t)
                guard ts <= span.hi, let previous = current else { break }
                let next = state(at: ts, zone)
                if next != previous {
                    // DTSTART is the wall time just before the change, read in the offset being left.
                    lines += observance(next, onsetWall: ts + previous.offset, from: previous.offset)
                    current = next
                }
                cursor = t
            }
        }
        lines.append("END:VTIMEZONE")
        return lines
    }

    private static func observance(_ state: ZoneState, onsetWall: Int, from: Int) -> [String] {
        let kind = state.daylight ? "DAYLIGHT" : "STANDARD"
        var lines = [
            "BEGIN:" + kind,
            "DTSTART:" + ContentLine.basicDateTime(epochSeconds: onsetWall),
            "TZOFFSETFROM:" + utcOffset(from),
            "TZOFFSETTO:" + utcOffset(state.offset),
        ]
        if let name = state.name, !name.isEmpty { lines.append("TZNAME:" + ContentLine.escapeText(name)) }
        lines.append("END:" + kind)
        return lines
    }

    private static func state(at seconds: Int, _ zone: TimeZone) -> ZoneState {
        let d = date(seconds)
        let offset = zone.secondsFromGMT(for: d)
        let name = zoneName(zone.abbreviation(for: d), offset: offset)
        return ZoneState(offset: offset, daylight: zone.isDaylightSavingTime(for: d), name: name)
    }

    /// Foundation's abbreviation, unless it is a `GMT±h[:mm]` form that disagrees with the actual offset
    /// (on Linux the abbreviation follows today's rules, not the date asked); then the `GMT` form of the offset.
    private static func zoneName(_ abbreviation: String?, offset: Int) -> String? {
        guard let abbreviation else { return nil }
        guard let stated = gmtOffset(abbreviation), stated != offset else { return abbreviation }
        if offset == 0 { return "GMT" }
        let sign = offset < 0 ? "-" : "+"
        let a = abs(offset)
        var text = "GMT\(sign)\(a / 3600)"
        if a % 3600 != 0 { text += ":" + ContentLine.pad(a / 60 % 60, 2) }
        if a % 60 != 0 { text += ":" + ContentLine.pad(a % 60, 2) }
        return text
    }

    /// The offset named by `GMT`, `UTC`, `GMT+1`, `GMT-3:30` or `GMT+0:09:21`; nil for any other name.
    private static func gmtOffset(_ name: String) -> Int? {
        guard name.hasPrefix("GMT") || name.hasPrefix("UTC") else { return nil }
        let rest = name.dropFirst(3)
        if rest.isEmpty { return 0 }
        guard let sign = rest.first, sign == "+" || sign == "-" else { return nil }
        let parts = rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else { return nil }
        var total = 0
        for (i, part) in parts.enumerated() {
            guard !part.isEmpty, part.count <= 2, part.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(part) else {
                return nil
            }
            total += n * [3600, 60, 1][i]
        }
        return sign == "-" ? -total : total
    }

    /// `+0100`, `-0330`, or `+000921` when the offset has seconds.
    private static func utcOffset(_ seconds: Int) -> String {
        let a = abs(seconds)
        var text = (seconds < 0 ? "-" : "+") + ContentLine.pad(a / 3600, 2) + ContentLine.pad(a / 60 % 60, 2)
        if a % 60 != 0 { text += ContentLine.pad(a % 60, 2) }
        return text
    }

    private static func offsetAt(_ seconds: Int, _ zone: TimeZone) -> Int {
        zone.secondsFromGMT(for: date(seconds))
    }

    private static func date(_ seconds: Int) -> Date {
        Date(timeIntervalSince1970: TimeInterval(seconds))
    }
}
