import Foundation

/// Content-line helpers shared by both (RFC 5545 §3.1 / RFC 6350 §3.2).
///
/// A content line is `NAME;PARAM=VALUE:value`. Renderers build each logical line from escaped or sanitised parts,
/// then pass it through ``fold(_:)``, which limits physical lines to 75 octets and adds the CRLF.
public enum ContentLine {
    /// Longest physical line allowed, in octets, not counting the CRLF.
    static let maxOctets = 75

    /// Escapes a TEXT value: backslash, semicolon, comma, and newline (CRLF/LF/CR -> "\n").
    ///
    /// Other control characters (U+0000–U+001F except horizontal tab, and U+007F) are not allowed in a content
    /// line by either RFC and are dropped. Everything else, including `<`, `>` and `&`, is kept as it is.
    public static func escapeText(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        var afterCR = false
        for scalar in s.unicodeScalars {
            defer { afterCR = scalar == "\r" }
            switch scalar {
            case "\\": out.append(contentsOf: "\\\\".unicodeScalars)
            case ";": out.append(contentsOf: "\\;".unicodeScalars)
            case ",": out.append(contentsOf: "\\,".unicodeScalars)
            case "\r": out.append(contentsOf: "\\n".unicodeScalars)
            case "\n":
                // The LF of a CRLF pair was already written when its CR was seen.
                if !afterCR { out.append(contentsOf: "\\n".unicodeScalars) }
            default:
                if !isForbiddenControl(scalar, allowTab: true) { out.append(scalar) }
            }
        }
        return String(out)
    }

    /// Folds one logical line to at most 75 octets per physical line (CRLF followed by one space),
    /// never splitting a UTF-8 multi-byte character, and ends it with CRLF.
    ///
    /// A logical line cannot hold CR or LF; any found are dropped so the result is always one content line.
    /// Unfolding the result (removing every CRLF followed by one space) gives back the input without them.
    public static func fold(_ line: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(line.utf8.count + line.utf8.count / 70 * 3 + 2)
        var used = 0
        for scalar in line.unicodeScalars where scalar != "\r" && scalar != "\n" {
            let width = UTF8.width(scalar)
            if used + width > maxOctets {
                out.append(contentsOf: [13, 10, 32])
                used = 1  // the leading space of the continuation line counts
            }
            UTF8.encode(scalar) { out.append($0) }
            used += width
        }
        out.append(contentsOf: [13, 10])
        return String(decoding: out, as: UTF8.self)
    }

    /// A value that is not TEXT (a URI, an identifier) with every control character removed, so that it can
    /// neither end the content line nor start a new property. No escaping is applied.
    static func raw(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars where !isForbiddenControl(scalar, allowTab: false) {
            out.append(scalar)
        }
        return String(out)
    }

    /// A parameter value (RFC 5545 §3.2 / RFC 6350 §3.3): quoted when it holds `:`, `;` or `,`.
    /// Nil when it cannot be written at all (it holds a double quote or a control character).
    static func parameterValue(_ s: String) -> String? {
        var needsQuotes = false
        for scalar in s.unicodeScalars {
            if scalar == "\"" || isForbiddenControl(scalar, allowTab: false) { return nil }
            if scalar == ":" || scalar == ";" || scalar == "," { needsQuotes = true }
        }
        return needsQuotes ? "\"\(s)\"" : s
    }

    /// `YYYYMMDDTHHMMSSZ` for an instant (fractions of a second dropped).
    static func utcDateTime(_ date: Date) -> String {
        basicDateTime(epochSeconds: epochSeconds(date)) + "Z"
    }

    /// Whole seconds since 1970 (rounded down), clamped to years 0001–9999 so every date prints as four digits.
    static func epochSeconds(_ date: Date) -> Int {
        let t = date.timeIntervalSince1970
        guard !t.isNaN else { return 0 }
        return Int(min(max(t, Double(minEpochSeconds)), Double(maxEpochSeconds)).rounded(.down))
    }

    /// 0001-01-01T00:00:00Z, the earliest instant written.
    static let minEpochSeconds = -62_135_596_800
    /// 9999-12-31T23:59:59Z, the latest instant written.
    static let maxEpochSeconds = 253_402_300_799

    /// `YYYYMMDDTHHMMSS` for a count of seconds since 1970-01-01T00:00:00 on the proleptic Gregorian calendar,
    /// read as a wall time (callers add the zone offset first). No zone marker is appended.
    static func basicDateTime(epochSeconds unclamped: Int) -> String {
        let s = min(max(unclamped, minEpochSeconds), maxEpochSeconds)
        let days = s >= 0 ? s / 86_400 : -((-s + 86_399) / 86_400)
        let secondOfDay = s - days * 86_400
        let (y, m, d) = civilDate(daysSince1970: days)
        return pad(y, 4) + pad(m, 2) + pad(d, 2) + "T" + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2)
            + pad(secondOfDay % 60, 2)
    }

    /// Year, month, day for a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
    private static func civilDate(daysSince1970: Int) -> (Int, Int, Int) {
        let z = daysSince1970 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// Zero-padded decimal of a non-negative number.
    static func pad(_ n: Int, _ width: Int) -> String {
        let s = String(n)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    private static func isForbiddenControl(_ scalar: Unicode.Scalar, allowTab: Bool) -> Bool {
        if scalar == "\t" { return !allowTab }
        return scalar.value < 0x20 || scalar.value == 0x7F
    }
}
