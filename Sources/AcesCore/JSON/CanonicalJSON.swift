/// The JSON Canonicalization Scheme of RFC 8785 (JCS).
///
/// Output has no whitespace, object members sorted by the UTF-16 code units of their
/// names, strings escaped as ECMAScript `JSON.stringify` does, and numbers written as
/// ECMAScript `Number.prototype.toString` writes them.
public enum CanonicalJSON {
    /// Returns the canonical UTF-8 bytes of `value`.
    ///
    /// A non-finite number (which `JSONParser` never produces, but code can build)
    /// is written as `null`, as `JSON.stringify` does.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        encode(value, into: &out)
        return out
    }

    /// Appends the canonical UTF-8 bytes of `value` to `out`.
    public static func encode(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(contentsOf: "null".utf8)
        case .bool(let b):
            out.append(contentsOf: b ? "true".utf8 : "false".utf8)
        case .number(let d):
            appendNumber(d, into: &out)
        case .string(let s):
            appendString(s, into: &out)
        case .array(let elements):
            out.append(ASCII.openBracket)
            var first = true
            for element in elements {
                if !first { out.append(ASCII.comma) }
                first = false
                encode(element, into: &out)
            }
            out.append(ASCII.closeBracket)
        case .object(let members):
            out.append(ASCII.openBrace)
            var first = true
            for member in members.sorted(by: { precedesInUTF16Order($0.key, $1.key) }) {
                if !first { out.append(ASCII.comma) }
                first = false
                appendString(member.key, into: &out)
                out.append(ASCII.colon)
                encode(member.value, into: &out)
            }
            out.append(ASCII.closeBrace)
        }
    }

    /// Whether `bytes` is exactly the canonical form of the JSON text it holds.
    public static func isCanonical(_ bytes: some Collection<UInt8>) -> Bool {
        guard let value = try? JSONParser.parse(bytes) else { return false }
        return encode(value).elementsEqual(bytes)
    }

    /// Whether `a` sorts before `b` when compared as sequences of UTF-16 code units.
    ///
    /// Works on UTF-8 directly: at the first differing byte both strings are at the
    /// same position within a character, so continuation bytes compare as bytes, and
    /// lead bytes compare by the UTF-16 range they start (below U+D800, supplementary
    /// planes as surrogates D800–DFFF, then U+E000–U+FFFF).
    static func precedesInUTF16Order(_ a: String, _ b: String) -> Bool {
        var ia = a.utf8.makeIterator()
        var ib = b.utf8.makeIterator()
        while true {
            guard let x = ia.next() else { return ib.next() != nil }
            guard let y = ib.next() else { return false }
            if x != y { return utf16Rank(x) < utf16Rank(y) }
        }
    }

    @inline(__always)
    static func utf16Rank(_ byte: UInt8) -> UInt16 {
        switch byte {
        case 0xEE...0xEF: return 0x200 | UInt16(byte)  // U+E000–U+FFFF: after surrogates
        case 0xF0...0xFF: return 0x100 | UInt16(byte)  // supplementary: surrogate pairs
        default: return UInt16(byte)
        }
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `s` as a JSON string literal, escaping as ECMAScript `JSON.stringify`.
    static func appendString(_ s: String, into out: inout [UInt8]) {
        out.append(ASCII.quote)
        let done: Void? = s.utf8.withContiguousStorageIfAvailable { buffer in
            appendEscaped(buffer, into: &out)
        }
        if done == nil {
            Array(s.utf8).withUnsafeBufferPointer { appendEscaped($0, into: &out) }
        }
        out.append(ASCII.quote)
    }

    static func appendEscaped(_ buffer: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var runStart = 0
        for i in 0..<buffer.count {
            let byte = buffer[i]
            guard byte < 0x20 || byte == ASCII.quote || byte == ASCII.backslash else { continue }
            if runStart < i { out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<i])) }
            runStart = i + 1
            out.append(ASCII.backslash)
            switch byte {
            case ASCII.quote: out.append(ASCII.quote)
            case ASCII.backslash: out.append(ASCII.backslash)
            case 0x08: out.append(UInt8(ascii: "b"))
            case 0x0C: out.append(UInt8(ascii: "f"))
            case ASCII.newline: out.append(UInt8(ascii: "n"))
            case ASCII.carriageReturn: out.append(UInt8(ascii: "r"))
            case ASCII.tab: out.append(UInt8(ascii: "t"))
            default:
                out.append(contentsOf: "u00".utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0x0F)])
            }
        }
        if runStart < buffer.count {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<buffer.count]))
        }
    }

    /// Appends `d` as ECMAScript `Number.prototype.toString` writes it.
    static func appendNumber(_ d: Double, into out: inout [UInt8]) {
        guard d.isFinite else {
            out.append(contentsOf: "null".utf8)
            return
        }
        if d == 0 {
            out.append(ASCII.zero)  // both 0 and -0
            return
        }
        // Fast path: integers below 2^53 are written in full.
        if d.magnitude < 9_007_199_254_740_992.0 && d.rounded(.towardZero) == d {
            appendInteger(Int64(d), into: &out)
            return
        }
        appendShortest(d, into: &out)
    }

    static func appendInteger(_ value: Int64, into out: inout [UInt8]) {
        if value < 0 { out.append(ASCII.minus) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            repeat {
                digits[19 - count] = ASCII.zero &+ UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude != 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)..<20]))
        }
    }

    /// Formats a finite, non-zero double from the shortest round-trip digits that
    /// Swift's `description` yields, per ECMA-262 Number::toString.
    static func appendShortest(_ d: Double, into out: inout [UInt8]) {
        let text = d.description  // e.g. "1.5e-07", "0.001", "1.2345678901234568e+20"
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
            var count = 0
            var pointPosition = -1
            var exponent = 0
            var exponentNegative = false
            var inExponent = false
            for c in text.utf8 {
                switch c {
                case ASCII.minus: if inExponent { exponentNegative = true }
                case ASCII.dot: pointPosition = count
                case ASCII.lowerE, ASCII.upperE: inExponent = true
                case ASCII.zero...ASCII.nine:
                    if inExponent {
                        exponent = exponent * 10 + Int(c - ASCII.zero)
                    } else if count < 32 {
                        digits[count] = c
                        count += 1
                    }
                default: break
                }
            }
            if pointPosition < 0 { pointPosition = count }
            var first = 0
            while first < count - 1 && digits[first] == ASCII.zero { first += 1 }
            var end = count
            while end > first + 1 && digits[end - 1] == ASCII.zero { end -= 1 }
            // ECMA-262: value = 0.d1…dk × 10^n, with k significant digits.
            let k = end - first
            let n = pointPosition + (exponentNegative ? -exponent : exponent) - first
            let significant = UnsafeBufferPointer(rebasing: digits[first..<end])

            if d < 0 { out.append(ASCII.minus) }
            if k <= n && n <= 21 {
                out.append(contentsOf: significant)
                out.append(contentsOf: repeatElement(ASCII.zero, count: n - k))
            } else if 0 < n && n <= 21 {
                out.append(contentsOf: significant[0..<n])
                out.append(ASCII.dot)
                out.append(contentsOf: significant[n..<k])
            } else if -6 < n && n <= 0 {
                out.append(ASCII.zero)
                out.append(ASCII.dot)
                out.append(contentsOf: repeatElement(ASCII.zero, count: -n))
                out.append(contentsOf: significant)
            } else {
                out.append(significant[0])
                if k > 1 {
                    out.append(ASCII.dot)
                    out.append(contentsOf: significant[1..<k])
                }
                out.append(ASCII.lowerE)
                let e = n - 1
                out.append(e < 0 ? ASCII.minus : ASCII.plus)
                appendInteger(Int64(e.magnitude), into: &out)
            }
        }
    }
}
