// String and number scanning for `JSONScanner`.

extension JSONScanner {
    /// Parses a string starting at the opening quote; leaves `index` after the closing quote.
    mutating func parseString() throws(JSONError) -> String {
        let openQuote = index
        let start = index + 1
        var i = start
        // Fast path: no escapes, so the string is a slice of the input.
        while i < bytes.count {
            let byte = bytes[i]
            if byte == ASCII.quote {
                index = i + 1
                return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            }
            if byte == ASCII.backslash { break }
            if byte < 0x20 { throw controlCharacterError(byte, at: i) }
            i = byte < 0x80 ? i + 1 : try endOfUTF8Sequence(at: i)
        }
        guard i < bytes.count else { throw error("unterminated string", at: openQuote) }

        // Slow path: copy runs of plain bytes and decoded escapes into `scratch`.
        scratch.removeAll(keepingCapacity: true)
        var runStart = start
        while i < bytes.count {
            let byte = bytes[i]
            if byte == ASCII.quote {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                index = i + 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte == ASCII.backslash {
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<i]))
                i = try decodeEscape(at: i)
                runStart = i
                continue
            }
            if byte < 0x20 { throw controlCharacterError(byte, at: i) }
            i = byte < 0x80 ? i + 1 : try endOfUTF8Sequence(at: i)
        }
        throw error("unterminated string", at: openQuote)
    }

    func controlCharacterError(_ byte: UInt8, at offset: Int) -> JSONError {
        let hex = String(byte, radix: 16, uppercase: true)
        return error("control character U+00\(hex.count == 1 ? "0" + hex : hex) must be escaped in a string", at: offset)
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629) starting at `i` and returns
    /// the offset just after it.
    func endOfUTF8Sequence(at i: Int) throws(JSONError) -> Int {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw error("invalid UTF-8 (\(found(at: i)) cannot start a character)", at: i)
        }
        guard i + length <= bytes.count else { throw error("invalid UTF-8 (truncated sequence)", at: i) }
        let second = bytes[i + 1]
        guard second >= low && second <= high else { throw error("invalid UTF-8 sequence", at: i) }
        var j = i + 2
        while j < i + length {
            guard bytes[j] & 0xC0 == 0x80 else { throw error("invalid UTF-8 sequence", at: i) }
            j += 1
        }
        return j
    }

    /// Decodes the escape starting at the backslash at `i` into `scratch` and returns
    /// the offset after it.
    mutating func decodeEscape(at i: Int) throws(JSONError) -> Int {
        guard i + 1 < bytes.count else { throw error("unterminated string", at: i) }
        let decoded: UInt8
        switch bytes[i + 1] {
        case ASCII.quote: decoded = ASCII.quote
        case ASCII.backslash: decoded = ASCII.backslash
        case ASCII.slash: decoded = ASCII.slash
        case UInt8(ascii: "b"): decoded = 0x08
        case UInt8(ascii: "f"): decoded = 0x0C
        case UInt8(ascii: "n"): decoded = ASCII.newline
        case UInt8(ascii: "r"): decoded = ASCII.carriageReturn
        case UInt8(ascii: "t"): decoded = ASCII.tab
        case UInt8(ascii: "u"): return try decodeUnicodeEscape(at: i)
        default: throw error("invalid escape sequence, \\ followed by \(found(at: i + 1))", at: i)
        }
        scratch.append(decoded)
        return i + 2
    }

    /// Reads the four hex digits of a `\uXXXX` escape whose backslash is at `i`.
    func hexQuad(at i: Int) throws(JSONError) -> UInt32 {
        guard i + 6 <= bytes.count else { throw error("truncated \\u escape", at: i) }
        var value: UInt32 = 0
        for k in (i + 2)..<(i + 6) {
            let byte = bytes[k]
            let digit: UInt8
            switch byte {
            case ASCII.zero...ASCII.nine: digit = byte &- ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: throw error("invalid hex digit \(found(at: k)) in a \\u escape", at: k)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    mutating func decodeUnicodeEscape(at i: Int) throws(JSONError) -> Int {
        var scalar = try hexQuad(at: i)
        var next = i + 6
        if scalar >= 0xDC00 && scalar <= 0xDFFF {
            throw error("unpaired low surrogate escape in a string", at: i)
        }
        if scalar >= 0xD800 && scalar <= 0xDBFF {
            guard next + 1 < bytes.count, bytes[next] == ASCII.backslash, bytes[next + 1] == UInt8(ascii: "u") else {
                throw error("unpaired high surrogate escape in a string", at: i)
            }
            let low = try hexQuad(at: next)
            guard low >= 0xDC00 && low <= 0xDFFF else {
                throw error("unpaired high surrogate escape in a string", at: i)
            }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            next += 6
        }
        appendUTF8(scalar)
        return next
    }

    @inline(__always)
    mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | (scalar >> 6)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | (scalar >> 12)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        default:
            scratch.append(UInt8(0xF0 | (scalar >> 18)))
            scratch.append(UInt8(0x80 | ((scalar >> 12) & 0x3F)))
            scratch.append(UInt8(0x80 | ((scalar >> 6) & 0x3F)))
            scratch.append(UInt8(0x80 | (scalar & 0x3F)))
        }
    }

    @inline(__always)
    func isDigit(at i: Int) -> Bool {
        i < bytes.count && bytes[i] >= ASCII.zero && bytes[i] <= ASCII.nine
    }

    /// Parses a number per the RFC 8259 grammar; the value is correctly rounded.
    mutating func parseNumber() throws(JSONError) -> Double {
        let start = index
        var i = index
        let negative = bytes[i] == ASCII.minus
        if negative { i += 1 }
        guard isDigit(at: i) else { throw error("expected a digit after '-'", at: i) }
        let integerStart = i
        if bytes[i] == ASCII.zero {
            i += 1
            if isDigit(at: i) { throw error("leading zeros are not allowed in numbers", at: integerStart) }
        } else {
            while isDigit(at: i) { i += 1 }
        }
        let integerEnd = i
        var isInteger = true
        if i < bytes.count && bytes[i] == ASCII.dot {
            i += 1
            guard isDigit(at: i) else { throw error("expected a digit after the decimal point", at: i) }
            while isDigit(at: i) { i += 1 }
            isInteger = false
        }
        if i < bytes.count && (bytes[i] == ASCII.lowerE || bytes[i] == ASCII.upperE) {
            i += 1
            if i < bytes.count && (bytes[i] == ASCII.plus || bytes[i] == ASCII.minus) { i += 1 }
            guard isDigit(at: i) else { throw error("expected a digit in the exponent", at: i) }
            while isDigit(at: i) { i += 1 }
            isInteger = false
        }
        index = i
        // Fast path: up to 15 integer digits are exact in a double.
        if isInteger && integerEnd - integerStart <= 15 {
            var magnitude: Int64 = 0
            for k in integerStart..<integerEnd {
                magnitude = magnitude &* 10 &+ Int64(bytes[k] &- ASCII.zero)
            }
            let value = Double(magnitude)
            return negative ? -value : value
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number is out of range for a double", at: start)
        }
        return value
    }
}
