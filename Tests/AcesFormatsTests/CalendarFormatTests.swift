import AcesCore
import AcesFormats
import Foundation
import Testing

// MARK: - Helpers (private: this file shares a test target with others)

/// `2027-03-14T17:30:00Z` as a Date.
private func calUTC(_ text: String) -> Date {
    let b = Array(text.utf8)
    func n(_ r: Range<Int>) -> Int { Int(String(decoding: b[r], as: UTF8.self)) ?? -1 }
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "GMT")!
    let comps = DateComponents(year: n(0..<4), month: n(5..<7), day: n(8..<10), hour: n(11..<13), minute: n(14..<16), second: n(17..<19))
    return cal.date(from: comps)!
}

/// `YYYYMMDDTHHMMSS` read as if it were UTC, as seconds since 1970 (independent of the code under test).
private func calWallSeconds(_ text: String) -> Int? {
    let b = Array(text.utf8)
    guard b.count == 15, b[8] == UInt8(ascii: "T") else { return nil }
    func n(_ r: Range<Int>) -> Int? { Int(String(decoding: b[r], as: UTF8.self)) }
    guard let y = n(0..<4), let mo = n(4..<6), let d = n(6..<8), let h = n(9..<11), let mi = n(11..<13), let s = n(13..<15) else {
        return nil
    }
    var cal = Calendar(identifier: .gregorian)
    cal.timeZone = TimeZone(identifier: "GMT")!
    guard let date = cal.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)) else { return nil }
    return Int(date.timeIntervalSince1970)
}

/// `+0100` / `-0330` / `+000921` as seconds.
private func calOffsetSeconds(_ text: String) -> Int? {
    let b = Array(text.utf8)
    guard b.count == 5 || b.count == 7, b[0] == UInt8(ascii: "+") || b[0] == UInt8(ascii: "-") else { return nil }
    func n(_ r: Range<Int>) -> Int? { Int(String(decoding: b[r], as: UTF8.self)) }
    guard let h = n(1..<3), let m = n(3..<5) else { return nil }
    let s = b.count == 7 ? n(5..<7) ?? 0 : 0
    let total = h * 3600 + m * 60 + s
    return b[0] == UInt8(ascii: "-") ? -total : total
}

/// The physical lines of a rendered text, split at CRLF, as bytes; the text must end in CRLF.
private func calPhysicalLines(_ text: String) -> [[UInt8]] {
    let bytes = Array(text.utf8)
    var lines: [[UInt8]] = []
    var current: [UInt8] = []
    var i = 0
    while i < bytes.count {
        if bytes[i] == 13, i + 1 < bytes.count, bytes[i + 1] == 10 {
            lines.append(current)
            current = []
            i += 2
        } else {
            current.append(bytes[i])
            i += 1
        }
    }
    #expect(current.isEmpty, "text does not end in CRLF")
    return lines
}

/// Removes every CRLF followed by one space (RFC 5545 §3.1 unfolding), on bytes.
private func calUnfold(_ text: String) -> [UInt8] {
    let bytes = Array(text.utf8)
    var out: [UInt8] = []
    var i = 0
    while i < bytes.count {
        if i + 2 < bytes.count, bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 32 {
            i += 3
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}

/// The logical lines (unfolded, without CRLF).
private func calLogicalLines(_ text: String) -> [String] {
    let unfolded = String(decoding: calUnfold(text), as: UTF8.self)
    var lines = unfolded.components(separatedBy: "\r\n")
    #expect(lines.last == "")
    lines.removeLast()
    return lines
}

private func calIsValidUTF8(_ bytes: [UInt8]) -> Bool {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&iterator) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

/// Reverses TEXT escaping (RFC 5545 §3.3.11).
private func calUnescape(_ s: String) -> String {
    var out = ""
    var escaping = false
    for c in s {
        if escaping {
            switch c {
            case "n", "N": out.append("\n")
            default: out.append(c)
            }
            escaping = false
        } else if c == "\\" {
            escaping = true
        } else {
            out.append(c)
        }
    }
    return out
}

/// Checks every physical-line rule; returns the logical lines.
@discardableResult
private func calCheckLines(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    let physical = calPhysicalLines(text)
    for (i, line) in physical.enumerated() {
        #expect(line.count <= 75, "physical line \(i) has \(line.count) octets", sourceLocation: sourceLocation)
        #expect(calIsValidUTF8(line), "physical line \(i) is not valid UTF-8 on its own", sourceLocation: sourceLocation)
        #expect(!line.contains(13) && !line.contains(10), "bare CR or LF in line \(i)", sourceLocation: sourceLocation)
    }
    let logical = calLogicalLines(text)
    var stack: [String] = []
    for line in logical {
        #expect(!line.isEmpty && line.first != " ", "empty or badly folded logical line", sourceLocation: sourceLocation)
        if line.hasPrefix("BEGIN:") { stack.append(String(line.dropFirst(6))) }
        if line.hasPrefix("END:") {
            #expect(stack.popLast() == String(line.dropFirst(4)), "unbalanced \(line)", sourceLocation: sourceLocation)
        }
    }
    #expect(stack.isEmpty, "unclosed \(stack)", sourceLocation: sourceLocation)
    return logical
}

/// One observance of a parsed VTIMEZONE.
private struct CalObservance {
    var kind: String
    var dtstart: String
    var from: Int
    var to: Int
    var name: String?
    /// UTC instant of the onset: the wall time read in the offset before it.
    var onset: Int
}

/// VTIMEZONE blocks by TZID, observances in the order written.
private func calTimeZones(_ logical: [String]) -> [String: [CalObservance]] {
    var zones: [String: [CalObservance]] = [:]
    var tzid: String?
    var current: [String: String] = [:]
    var kind: String?
    for line in logical {
        if line == "BEGIN:VTIMEZONE" {
            tzid = nil
        } else if line.hasPrefix("TZID:"), kind == nil {
            tzid = calUnescape(String(line.dropFirst(5)))
            if let tzid, zones[tzid] == nil { zones[tzid] = [] }
        } else if line == "BEGIN:STANDARD" || line == "BEGIN:DAYLIGHT" {
            kind = String(line.dropFirst(6))
            current = [:]
        } else if line == "END:STANDARD" || line == "END:DAYLIGHT" {
            if let tzid, let kind, let dtstart = current["DTSTART"], let wall = calWallSeconds(dtstart),
                let from = current["TZOFFSETFROM"].flatMap(calOffsetSeconds), let to = current["TZOFFSETTO"].flatMap(calOffsetSeconds)
            {
                zones[tzid, default: []].append(
                    CalObservance(kind: kind, dtstart: dtstart, from: from, to: to, name: current["TZNAME"], onset: wall - from))
            } else {
                Issue.record("malformed observance \(current)")
            }
            kind = nil
        } else if kind != nil, let colon = line.firstIndex(of: ":") {
            current[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
    }
    return zones
}

/// The instant a reader following RFC 5545 gives a wall time in a VTIMEZONE: the first occurrence.
private func calResolve(_ wall: Int, _ observances: [CalObservance]) -> Int? {
    let sorted = observances.sorted { $0.onset < $1.onset }
    for (i, o) in sorted.enumerated() {
        let candidate = wall - o.to
        let upper = i + 1 < sorted.count ? sorted[i + 1].onset : Int.max
        if candidate >= o.onset, candidate < upper { return candidate }
    }
    return nil
}

private func calEvent(
    _ uid: String, _ start: String, _ end: String, zone: String, title: String = "Session", cancelled: Bool = false,
    sequence: Int = 0, categories: [String] = []
) -> CalendarEvent {
    CalendarEvent(
        uid: uid, title: title, start: calUTC(start), end: calUTC(end), timeZone: zone, cancelled: cancelled, sequence: sequence,
        lastModified: calUTC("2027-01-02T03:04:05Z"), categories: categories)
}

/// The lines of one property, outside VTIMEZONE blocks.
private func calProperty(_ logical: [String], _ name: String) -> [String] {
    var inTimeZone = false
    var found: [String] = []
    for line in logical {
        if line == "BEGIN:VTIMEZONE" { inTimeZone = true }
        if line == "END:VTIMEZONE" { inTimeZone = false }
        if !inTimeZone, line.hasPrefix(name + ":") || line.hasPrefix(name + ";") { found.append(line) }
    }
    return found
}

// MARK: - Tests

@Suite("Calendar formats (RFC 5545 / RFC 6350)")
struct CalendarFormatTests {
    // MARK: Content lines

    @Test("folding 300 ASCII characters")
    func foldASCII() {
        let original = String((0..<300).map { i in Character(Unicode.Scalar(UInt8(65 + i % 26))) })
        let folded = ContentLine.fold(original)
        let physical = calPhysicalLines(folded)
        // 75 + 74 + 74 + 74 = 297 octets in the first four lines, 3 left for a fifth.
        #expect(physical.map(\.count) == [75, 75, 75, 75, 4])
        for line in physical.dropFirst() {
            #expect(line.first == 32)
            #expect(line.dropFirst().first != 32)
        }
        #expect(calUnfold(folded) == Array(original.utf8) + [13, 10])
        #expect(folded.hasSuffix("\r\n"))
    }

    @Test("folding never splits a UTF-8 character")
    func foldMultibyte() {
        let pieces = ["é", "ë", "e\u{0308}", "日本", "👩‍👩‍👧", "🇫🇷", "x", "😀"]
        let original = (0..<120).map { pieces[$0 % pieces.count] }.joined()
        let folded = ContentLine.fold("DESCRIPTION:" + original)
        let physical = calPhysicalLines(folded)
        #expect(physical.count > 5)
        for (i, line) in physical.enumerated() {
            #expect(line.count <= 75)
            #expect(calIsValidUTF8(line), "line \(i)")
            if i > 0 { #expect(line.first == 32) }
        }
        #expect(calUnfold(folded) == Array(("DESCRIPTION:" + original).utf8) + [13, 10])

        // Three-octet characters: 25 fit the first line (75), 24 the next (1 + 72 = 73): the 25th would not fit.
        let kanji = String(repeating: "日", count: 60)
        #expect(calPhysicalLines(ContentLine.fold(kanji)).map(\.count) == [75, 73, 34])
    }

    @Test("folding edges: exactly 75 octets, empty line, stray CR/LF")
    func foldEdges() {
        let exact = String(repeating: "a", count: 75)
        #expect(ContentLine.fold(exact) == exact + "\r\n")
        #expect(ContentLine.fold(exact + "b") == exact + "\r\n b\r\n")
        #expect(ContentLine.fold("") == "\r\n")
        #expect(ContentLine.fold("SUMMARY:a\r\nEND:VEVENT\rx\ny") == "SUMMARY:aEND:VEVENTxy\r\n")
    }

    @Test("TEXT escaping round-trips")
    func escaping() {
        #expect(ContentLine.escapeText("a,b;c\\d") == "a\\,b\\;c\\\\d")
        #expect(calUnescape(ContentLine.escapeText("a,b;c\\d")) == "a,b;c\\d")

        let multi = "line one\r\nline two\nline three\rline four\n\nend\\n"
        let escaped = ContentLine.escapeText(multi)
        #expect(escaped == "line one\\nline two\\nline three\\nline four\\n\\nend\\\\n")
        #expect(!escaped.contains("\r") && !escaped.contains("\n"))
        #expect(calUnescape(escaped) == "line one\nline two\nline three\nline four\n\nend\\n")

        #expect(ContentLine.escapeText("<script>alert(1)</script> & \"q\"") == "<script>alert(1)</script> & \"q\"")
        #expect(ContentLine.escapeText("tab\there\u{0}\u{7}\u{7F}") == "tab\there")
        #expect(ContentLine.escapeText("日本 é 😀") == "日本 é 😀")
    }

    // MARK: iCalendar

    @Test("Paris event: local DTSTART and the 2027 transitions, checked against Foundation")
    func parisEvent() throws {
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        // The transitions the expected text below encodes, as Foundation on this machine knows them.
        let spring = calUTC("2027-03-28T01:00:00Z")
        let autumn = calUTC("2027-10-31T01:00:00Z")
        #expect(paris.nextDaylightSavingTimeTransition(after: calUTC("2027-01-01T00:00:00Z")) == spring)
        #expect(paris.nextDaylightSavingTimeTransition(after: spring) == autumn)
        #expect(paris.secondsFromGMT(for: spring.addingTimeInterval(-1)) == 3600)
        #expect(paris.secondsFromGMT(for: spring) == 7200)
        #expect(paris.secondsFromGMT(for: autumn) == 3600)

        let event = CalendarEvent(
            uid: "evt-123@aces", title: "Assemblée générale, Paris; 2027", description: "Ordre du jour:\n1. Budget\n2. Élections",
            start: calUTC("2027-03-14T17:30:00Z"), end: calUTC("2027-03-14T20:00:00Z"), timeZone: "Europe/Paris",
            location: "Salle 3, 12 rue de Rivoli", url: "https://example.org/e/123?a=1,2;b", sequence: 4,
            lastModified: calUTC("2027-02-01T09:08:07Z"), categories: ["fr", "a,b"])
        let text = ICalendar.render([event], name: "ACES — Île-de-France")
        let logical = calCheckLines(text)

        #expect(
            Array(logical.prefix(6)) == [
                "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Aces//Aces Federation//EN", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
                "X-WR-CALNAME:ACES — Île-de-France",
            ])
        #expect(logical.last == "END:VCALENDAR")
        let vevent = Array(logical.drop { $0 != "BEGIN:VEVENT" })
        #expect(
            vevent == [
                "BEGIN:VEVENT",
                "UID:evt-123@aces",
                "DTSTAMP:20270201T090807Z",
                "LAST-MODIFIED:20270201T090807Z",
                "DTSTART;TZID=Europe/Paris:20270314T183000",
                "DTEND;TZID=Europe/Paris:20270314T210000",
                "SUMMARY:Assemblée générale\\, Paris\\; 2027",
                "DESCRIPTION:Ordre du jour:\\n1. Budget\\n2. Élections",
                "LOCATION:Salle 3\\, 12 rue de Rivoli",
                "URL:https://example.org/e/123?a=1,2;b",
                "CATEGORIES:fr,a\\,b",
                "SEQUENCE:4",
                "STATUS:CONFIRMED",
                "TRANSP:OPAQUE",
                "END:VEVENT",
                "END:VCALENDAR",
            ])

        let zones = calTimeZones(logical)
        #expect(Array(zones.keys) == ["Europe/Paris"])
        let observances = try #require(zones["Europe/Paris"])
        let daylight = observances.filter { $0.dtstart == "20270328T020000" }
        let standard = observances.filter { $0.dtstart == "20271031T030000" }
        #expect(daylight.count == 1 && standard.count == 1)
        #expect(daylight.first.map { ($0.kind, $0.from, $0.to) } ?? ("", 0, 0) == ("DAYLIGHT", 3600, 7200))
        #expect(standard.first.map { ($0.kind, $0.from, $0.to) } ?? ("", 0, 0) == ("STANDARD", 7200, 3600))
        // The literal lines, in order, inside the block.
        let block = logical.joined(separator: "\n")
        #expect(block.contains("BEGIN:DAYLIGHT\nDTSTART:20270328T020000\nTZOFFSETFROM:+0100\nTZOFFSETTO:+0200\n"))
        #expect(block.contains("BEGIN:STANDARD\nDTSTART:20271031T030000\nTZOFFSETFROM:+0200\nTZOFFSETTO:+0100\n"))
        // A year either side (2026-03-13 to 2028-03-14): four transitions, and an opening observance before them.
        #expect(
            observances.map(\.dtstart) == ["19700101T000000", "20260329T020000", "20261025T030000", "20270328T020000", "20271031T030000"])
        #expect(observances.first?.dtstart == "19700101T000000")
        #expect(observances.first.map { ($0.kind, $0.from, $0.to) } ?? ("", 0, 0) == ("STANDARD", 3600, 3600))
        // TZNAME agrees with the offset (Foundation's own abbreviation when it does).
        for o in observances {
            let expected = paris.abbreviation(for: Date(timeIntervalSince1970: TimeInterval(max(o.onset, 0))))
            #expect(o.name == expected, "\(o.dtstart)")
        }
    }

    @Test("London and Paris give exactly two VTIMEZONEs; unknown zones fall back to UTC")
    func severalZones() throws {
        let events = [
            calEvent("b@aces", "2027-06-01T10:00:00Z", "2027-06-01T11:00:00Z", zone: "Europe/London"),
            calEvent("a@aces", "2027-06-01T10:00:00Z", "2027-06-01T11:00:00Z", zone: "Europe/Paris"),
            calEvent("c@aces", "2027-12-01T10:00:00Z", "2027-12-01T11:00:00Z", zone: "Europe/Paris"),
            calEvent("d@aces", "2027-07-01T10:00:00Z", "2027-07-01T11:30:00Z", zone: "Mars/Olympus_Mons"),
            calEvent("e@aces", "2027-07-02T10:00:00Z", "2027-07-02T11:30:00Z", zone: "europe/paris"),
        ]
        let logical = calCheckLines(ICalendar.render(events, name: "Mixed"))
        #expect(logical.filter { $0 == "BEGIN:VTIMEZONE" }.count == 2)
        let zones = calTimeZones(logical)
        #expect(Set(zones.keys) == ["Europe/London", "Europe/Paris"])

        var referenced: Set<String> = []
        for line in calProperty(logical, "DTSTART") + calProperty(logical, "DTEND") where line.contains(";TZID=") {
            let tzid = line.split(separator: "=", maxSplits: 1)[1].split(separator: ":")[0]
            referenced.insert(String(tzid))
        }
        #expect(referenced == Set(zones.keys))

        #expect(
            calProperty(logical, "DTSTART") == [
                "DTSTART;TZID=Europe/Paris:20270601T120000",
                "DTSTART;TZID=Europe/London:20270601T110000",
                "DTSTART:20270701T100000Z",
                "DTSTART:20270702T100000Z",
                "DTSTART;TZID=Europe/Paris:20271201T110000",
            ])
        #expect(calProperty(logical, "DTEND").contains("DTEND:20270701T113000Z"))
        #expect(calProperty(logical, "UID") == ["UID:a@aces", "UID:b@aces", "UID:d@aces", "UID:e@aces", "UID:c@aces"])
    }

    @Test("UTC zones are written in UTC form without VTIMEZONE")
    func utcZone() {
        for zone in ["UTC", "Etc/UTC", "GMT"] {
            let logical = calCheckLines(
                ICalendar.render([calEvent("u@aces", "2027-05-05T05:05:05Z", "2027-05-05T06:00:00Z", zone: zone)], name: "U"))
            #expect(!logical.contains("BEGIN:VTIMEZONE"), "\(zone)")
            #expect(calProperty(logical, "DTSTART") == ["DTSTART:20270505T050505Z"], "\(zone)")
        }
    }

    @Test("zones without transitions, and half-hour offsets")
    func otherZones() throws {
        let tokyo = calCheckLines(
            ICalendar.render([calEvent("t@aces", "2027-04-01T00:00:00Z", "2027-04-01T01:00:00Z", zone: "Asia/Tokyo")], name: "T"))
        let tokyoZones = calTimeZones(tokyo)
        #expect(tokyoZones["Asia/Tokyo"]?.count == 1)
        let only = try #require(tokyoZones["Asia/Tokyo"]?.first)
        #expect((only.kind, only.dtstart, only.from, only.to) == ("STANDARD", "19700101T000000", 32400, 32400))
        #expect(tokyo.contains("TZOFFSETTO:+0900"))
        #expect(calProperty(tokyo, "DTSTART") == ["DTSTART;TZID=Asia/Tokyo:20270401T090000"])

        let stJohns = calCheckLines(
            ICalendar.render(
                [calEvent("n@aces", "2027-01-15T12:00:00Z", "2027-01-15T13:00:00Z", zone: "America/St_Johns")], name: "N"))
        #expect(stJohns.contains("TZOFFSETFROM:-0330"))
        #expect(stJohns.contains("TZOFFSETTO:-0230"))
        #expect(calProperty(stJohns, "DTSTART") == ["DTSTART;TZID=America/St_Johns:20270115T083000"])
    }

    @Test("every VTIMEZONE gives back each event's instant, as a reader following RFC 5545 would")
    func coverage() throws {
        let zoneNames = [
            "Europe/Paris", "Europe/London", "America/St_Johns", "Australia/Lord_Howe", "Asia/Tokyo", "America/Sao_Paulo",
            "Africa/Casablanca", "America/New_York", "Pacific/Apia", "Asia/Tehran", "America/Caracas",
        ]
        let starts = [
            "2010-03-28T00:30:00Z", "2011-12-29T12:00:00Z", "2016-04-30T12:00:00Z", "2022-03-21T20:00:00Z",
            "2026-10-25T00:59:59Z", "2026-10-25T01:00:00Z", "2027-03-14T17:30:00Z", "2027-11-07T05:30:00Z", "2030-07-01T00:00:00Z",
        ]
        var events: [CalendarEvent] = []
        for (z, zone) in zoneNames.enumerated() {
            for (s, start) in starts.enumerated() {
                let begin = calUTC(start)
                events.append(
                    CalendarEvent(
                        uid: "\(z)-\(s)@aces", title: "x", start: begin, end: begin.addingTimeInterval(5400), timeZone: zone,
                        lastModified: begin))
            }
        }
        let logical = calCheckLines(ICalendar.render(events, name: "Coverage"))
        let zones = calTimeZones(logical)
        #expect(Set(zones.keys) == Set(zoneNames))
        for (zone, observances) in zones {
            // A consistent chain: each observance starts from where the previous one left the clock.
            let sorted = observances.sorted { $0.onset < $1.onset }
            #expect(sorted.map(\.dtstart) == observances.map(\.dtstart), "\(zone) not in order")
            for (previous, next) in zip(sorted, sorted.dropFirst()) {
                #expect(next.from == previous.to, "\(zone) \(next.dtstart)")
            }
        }
        var checked = 0
        for line in calProperty(logical, "DTSTART") + calProperty(logical, "DTEND") {
            let value = String(line.split(separator: ":").last ?? "")
            guard line.contains(";TZID=") else { continue }
            let tzid = String(line.split(separator: "=", maxSplits: 1)[1].split(separator: ":")[0])
            let observances = try #require(zones[tzid])
            let wall = try #require(calWallSeconds(value))
            let instant = try #require(calResolve(wall, observances), "\(line) not covered")
            let tz = try #require(TimeZone(identifier: tzid))
            // The instant read back must have that wall time in Foundation's zone, and be a start or an end.
            let date = Date(timeIntervalSince1970: TimeInterval(instant))
            #expect(instant + tz.secondsFromGMT(for: date) == wall, "\(line)")
            #expect(events.contains { $0.start == date || $0.end == date }, "\(line) -> \(date)")
            checked += 1
        }
        #expect(checked > 150)
    }

    @Test("a wall time that occurs twice is written in UTC when it is the second pass")
    func ambiguousWallTime() {
        let first = calEvent("1@aces", "2027-10-31T00:30:00Z", "2027-10-31T01:30:00Z", zone: "Europe/Paris")
        let logical = calCheckLines(ICalendar.render([first], name: "A"))
        // 00:30Z is 02:30 CEST (first pass); 01:30Z is 02:30 CET (second pass), which a reader would take as 00:30Z.
        #expect(calProperty(logical, "DTSTART") == ["DTSTART;TZID=Europe/Paris:20271031T023000"])
        #expect(calProperty(logical, "DTEND") == ["DTEND:20271031T013000Z"])
        let later = calEvent("2@aces", "2027-10-31T02:00:00Z", "2027-10-31T03:00:00Z", zone: "Europe/Paris")
        #expect(
            calProperty(calCheckLines(ICalendar.render([later], name: "A")), "DTSTART") == [
                "DTSTART;TZID=Europe/Paris:20271031T030000"
            ])
    }

    @Test("status, sequence, CRLF, balance, determinism")
    func statusAndDeterminism() {
        let events = [
            calEvent("z@aces", "2027-05-01T10:00:00Z", "2027-05-01T11:00:00Z", zone: "Europe/Paris", cancelled: true, sequence: 7),
            calEvent("y@aces", "2027-04-01T10:00:00Z", "2027-04-01T11:00:00Z", zone: "Europe/London", sequence: 0),
            calEvent("x@aces", "2027-04-01T10:00:00Z", "2027-04-01T10:00:00Z", zone: "Europe/Paris", sequence: -3, categories: ["", "fr"]),
        ]
        let text = ICalendar.render(events, name: "S")
        #expect(text.hasPrefix("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"))
        #expect(text.hasSuffix("END:VCALENDAR\r\n"))
        // Every LF is preceded by a CR, and every CR followed by a LF.
        let bytes = Array(text.utf8)
        for (i, b) in bytes.enumerated() {
            if b == 10 { #expect(i > 0 && bytes[i - 1] == 13) }
            if b == 13 { #expect(i + 1 < bytes.count && bytes[i + 1] == 10) }
        }
        let logical = calCheckLines(text)
        #expect(calProperty(logical, "UID") == ["UID:x@aces", "UID:y@aces", "UID:z@aces"])
        #expect(calProperty(logical, "STATUS") == ["STATUS:CONFIRMED", "STATUS:CONFIRMED", "STATUS:CANCELLED"])
        #expect(calProperty(logical, "SEQUENCE") == ["SEQUENCE:0", "SEQUENCE:0", "SEQUENCE:7"])
        #expect(calProperty(logical, "CATEGORIES") == ["CATEGORIES:fr"])
        // The zero-length event has no DTEND (RFC 5545 wants DTEND after DTSTART).
        #expect(calProperty(logical, "DTEND").count == 2)
        #expect(logical.filter { $0 == "BEGIN:VEVENT" }.count == 3)

        for permutation in [[2, 0, 1], [1, 2, 0], [0, 2, 1]] {
            #expect(ICalendar.render(permutation.map { events[$0] }, name: "S") == text)
        }
        #expect(ICalendar.render(events, name: "S") == text)
    }

    @Test("values cannot inject properties")
    func injection() {
        var event = calEvent("i@aces", "2027-04-01T10:00:00Z", "2027-04-01T11:00:00Z", zone: "Europe/Paris")
        event.url = "https://example.org/\r\nEND:VEVENT\r\nBEGIN:VEVENT"
        event.title = "t\r\nATTENDEE:mailto:x@example.org"
        event.timeZone = "Europe/Paris\r\nX:1"
        let logical = calCheckLines(ICalendar.render([event], name: "I\nJ"))
        #expect(logical.filter { $0 == "BEGIN:VEVENT" }.count == 1)
        #expect(calProperty(logical, "URL") == ["URL:https://example.org/END:VEVENTBEGIN:VEVENT"])
        #expect(calProperty(logical, "SUMMARY") == ["SUMMARY:t\\nATTENDEE:mailto:x@example.org"])
        #expect(calProperty(logical, "ATTENDEE").isEmpty)
        #expect(calProperty(logical, "X-WR-CALNAME") == ["X-WR-CALNAME:I\\nJ"])
        #expect(calProperty(logical, "DTSTART") == ["DTSTART:20270401T100000Z"])
    }

    @Test("empty calendar")
    func emptyCalendar() {
        #expect(
            ICalendar.render([], name: "Empty", prodID: "-//Test//EN")
                == "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"
                + "X-WR-CALNAME:Empty\r\nEND:VCALENDAR\r\n")
    }

    // MARK: vCard

    @Test("vCard with every field")
    func fullCard() {
        let note = "Membre depuis 2019. " + String(repeating: "Très impliqué·e dans l'équipe 日本; ", count: 4)
        let card = ContactCard(
            uid: "urn:aces:member:m-123", fullName: "Siobhán O'Brien", organisation: "O'Brien, Smith; Co", role: "Trésorière",
            city: "Saint-Denis; Nord", country: "FR", note: note, email: "siobhan@example.org",
            urls: ["https://example.org/a", "https://example.org/b?x=1,2"], revision: calUTC("2027-03-04T05:06:07Z"),
            source: "https://aces.example/members/m-123.vcf")
        let text = VCard.render(card)
        let logical = calCheckLines(text)
        #expect(text.hasPrefix("BEGIN:VCARD\r\nVERSION:4.0\r\n"))
        #expect(
            logical == [
                "BEGIN:VCARD",
                "VERSION:4.0",
                "KIND:individual",
                "FN:Siobhán O'Brien",
                "UID:urn:aces:member:m-123",
                "REV:20270304T050607Z",
                "ORG:O'Brien\\, Smith\\; Co",
                "TITLE:Trésorière",
                "ADR;TYPE=work:;;;Saint-Denis\\; Nord;;;FR",
                "EMAIL;TYPE=work:siobhan@example.org",
                "NOTE:" + ContentLine.escapeText(note),
                "URL:https://example.org/a",
                "URL:https://example.org/b?x=1,2",
                "SOURCE:https://aces.example/members/m-123.vcf",
                "END:VCARD",
            ])
        let adr = calProperty(logical, "ADR").first ?? ""
        let components = adr.dropFirst("ADR;TYPE=work:".count).split(separator: ";", omittingEmptySubsequences: false)
        // Split at unescaped semicolons only: the city's "\;" joins its two halves back.
        #expect(components.count == 8)
        #expect(calUnescape(String(components[3]) + ";" + String(components[4])) == "Saint-Denis; Nord")
        #expect(components[7] == "FR")
        #expect(calUnescape(String(calProperty(logical, "NOTE").first?.dropFirst(5) ?? "")) == note)
        #expect(calPhysicalLines(text).count > logical.count)  // the note was folded
    }

    @Test("vCard with only the required fields, and several cards")
    func minimalCards() {
        let a = ContactCard(uid: "urn:aces:member:m-1", fullName: "A", revision: calUTC("2027-01-01T00:00:00Z"))
        let b = ContactCard(
            uid: "urn:aces:member:m-2", fullName: "B", country: "BE", email: "", revision: calUTC("2027-01-01T00:00:00Z"))
        #expect(
            VCard.render(a)
                == "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:individual\r\nFN:A\r\n"
                + "UID:urn:aces:member:m-1\r\nREV:20270101T000000Z\r\nEND:VCARD\r\n")
        #expect(calProperty(calCheckLines(VCard.render(b)), "ADR") == ["ADR;TYPE=work:;;;;;;BE"])
        #expect(calProperty(calCheckLines(VCard.render(b)), "EMAIL").isEmpty)
        let both = VCard.render([a, b])
        #expect(both == VCard.render(a) + VCard.render(b))
        #expect(calCheckLines(both).filter { $0 == "BEGIN:VCARD" }.count == 2)
        #expect(VCard.render([ContactCard]()) == "")
    }
}
