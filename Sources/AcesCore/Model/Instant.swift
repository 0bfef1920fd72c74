import Foundation

/// Instants as the protocol writes them: `YYYY-MM-DDTHH:MM:SSZ`, UTC, whole seconds.
public enum Instant {
    private static let utc = TimeZone(identifier: "UTC")!

    /// Parses the protocol's form; nil otherwise.
    public static func parse(_ s: String) -> Date? {
        let b = Array(s.utf8)
        guard b.count == 20, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 90 else {
            return nil
        }
        func num(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r {
                guard (48...57).contains(b[i]) else { return nil }
                n = n * 10 + Int(b[i] - 48)
            }
            return n
        }
        guard let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
            let mi = num(14..<16), let sec = num(17..<19)
        else { return nil }
        var comps = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: sec)
        comps.timeZone = utc
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = utc
        guard let date = cal.date(from: comps), format(date) == s else { return nil }
        return date
    }

    /// Formats a date in the protocol's form (seconds truncated).
    public static func format(_ date: Date) -> String {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = utc
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func p(_ n: Int?, _ w: Int) -> String {
            let s = String(n ?? 0)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(p(c.year, 4))-\(p(c.month, 2))-\(p(c.day, 2))T\(p(c.hour, 2)):\(p(c.minute, 2)):\(p(c.second, 2))Z"
    }

    /// Reads a local wall time `YYYY-MM-DDTHH:MM` (or with `:SS`) in `zone` as an instant.
    /// Nil when the text is malformed, the zone unknown, or the wall time does not exist there.
    public static func fromLocal(_ s: String, zone: String) -> Date? {
        guard let tz = TimeZone(identifier: zone) else { return nil }
        let parts = s.split(separator: "T")
        guard parts.count == 2 else { return nil }
        let d = parts[0].split(separator: "-").map { Int($0) }
        let t = parts[1].split(separator: ":").map { Int($0) }
        guard d.count == 3, (2...3).contains(t.count), d.allSatisfy({ $0 != nil }), t.allSatisfy({ $0 != nil }),
            parts[0].utf8.count == 10, parts[1].utf8.count == (t.count == 2 ? 5 : 8)
        else { return nil }
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = tz
        let comps = DateComponents(
            year: d[0], month: d[1], day: d[2], hour: t[0], minute: t[1], second: t.count == 3 ? t[2] : 0)
        guard comps.isValidDate(in: cal), let date = cal.date(from: comps) else { return nil }
        let back = cal.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard back.year == d[0], back.month == d[1], back.day == d[2], back.hour == t[0], back.minute == t[1] else {
            return nil
        }
        return date
    }
}
