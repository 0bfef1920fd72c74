import AcesCore
import AcesStore
import Foundation
import NIOConcurrencyHelpers

/// An event's times as people read them: in the event's own zone, whoever looks
/// (a Paris meetup reads 18:30 CET in Berlin and in London too).
struct EventClock {
    let start: Date
    let end: Date
    let zone: TimeZone

    init?(_ r: Record) {
        guard let s = r.values["start"]?.stringValue.flatMap(Instant.parse), let e = r.values["end"]?.stringValue.flatMap(Instant.parse)
        else { return nil }
        self.start = s
        self.end = e
        self.zone = r.values["timezone"]?.stringValue.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
    }

    func format(_ pattern: String, _ date: Date, _ lang: Language) -> String {
        EventClock.formatter(pattern, lang.locale.identifier, zone).string(from: date)
    }

    /// The zone's abbreviation at the start, as in `CET` or `BST`.
    var zoneName: String { EventClock.formatter("zzz", "en_GB", zone).string(from: start) }

    /// `Sunday 14 March 2027, 18:30–21:00 CET`, or both dates when it spans days.
    func when(_ lang: Language) -> String {
        let day = "EEEE d MMMM yyyy"
        if format("yyyyMMdd", start, lang) == format("yyyyMMdd", end, lang) {
            return "\(format(day, start, lang)), \(format("HH:mm", start, lang))–\(format("HH:mm", end, lang)) \(zoneName)"
        }
        return
            "\(format(day, start, lang)) \(format("HH:mm", start, lang)) – \(format(day, end, lang)) \(format("HH:mm", end, lang)) \(zoneName)"
    }

    /// `2027-03`: the month the event starts in, in its zone.
    var monthKey: String { EventClock.formatter("yyyy-MM", "en_GB", zone).string(from: start) }

    /// `March 2027` / `Mars 2027`.
    func monthTitle(_ lang: Language) -> String {
        let s = format("LLLL yyyy", start, lang)
        return s.prefix(1).uppercased() + s.dropFirst()
    }

    private static let cache = NIOLockedValueBox<[String: DateFormatter]>([:])

    /// DateFormatters are costly to make; keep one per pattern, locale and zone (used under the lock).
    static func formatter(_ pattern: String, _ locale: String, _ zone: TimeZone) -> FormatterHandle {
        FormatterHandle(key: pattern + "|" + locale + "|" + zone.identifier, pattern: pattern, locale: locale, zone: zone)
    }

    struct FormatterHandle {
        let key: String
        let pattern: String
        let locale: String
        let zone: TimeZone

        func string(from date: Date) -> String {
            EventClock.cache.withLockedValue { cache in
                let f =
                    cache[key]
                    ?? {
                        let f = DateFormatter()
                        f.locale = Locale(identifier: locale)
                        f.timeZone = zone
                        f.dateFormat = pattern
                        if cache.count > 500 { cache.removeAll() }
                        cache[key] = f
                        return f
                    }()
                return f.string(from: date)
            }
        }
    }
}
