/// The error thrown by `JSONParser` for input that is not strict RFC 8259 JSON.
public struct JSONError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The zero-based byte offset in the input where the problem was found.
    public let offset: Int
    /// A short, human-readable reason, without the offset.
    public let reason: String

    /// Creates an error at `offset` with `reason`.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    /// One sentence such as `invalid JSON at byte 17: expected ':' after an object key`.
    public var description: String {
        "invalid JSON at byte \(offset): \(reason)"
    }
}

/// A strict RFC 8259 JSON parser.
///
/// It rejects invalid UTF-8, a byte-order mark, trailing data after the top-level
/// value, leading zeros, bare control characters in strings, unpaired surrogate
/// escapes, duplicate member names in one object, nesting deeper than `maxDepth`,
/// and numbers that do not fit a finite double. Numbers are correctly rounded.
public enum JSONParser {
    /// Parses one JSON text from UTF-8 bytes.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded JSON text.
    ///   - maxDepth: The deepest nesting of arrays and objects allowed; a top-level
    ///     array or object is at depth 1.
    /// - Throws: `JSONError` describing the first problem found.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        let direct: Result<JSONValue, JSONError>? = bytes.withContiguousStorageIfAvailable { buffer in
            parse(buffer: buffer, maxDepth: maxDepth)
        }
        if let direct { return try direct.get() }
        let copy = Array(bytes)
        return try copy.withUnsafeBufferPointer { buffer in
            parse(buffer: buffer, maxDepth: maxDepth)
        }.get()
    }

    /// Parses one JSON text from a string (its UTF-8 bytes).
    ///
    /// - Throws: `JSONError` describing the first problem found.
    public static func parse(_ text: String, maxDepth: Int = 64) throws(JSONError) -> JSONValue {
        try parse(text.utf8, maxDepth: maxDepth)
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONValue, JSONError> {
        var scanner = JSONScanner(bytes: buffer, maxDepth: maxDepth)
        do throws(JSONError) {
            return .success(try scanner.parseDocument())
        } catch {
            return .failure(error)
        }
    }
}

/// ASCII byte constants used by the parser and the encoder.
enum ASCII {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let lowerE: UInt8 = 0x65
    static let upperE: UInt8 = 0x45
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
}

/// The parsing state over one contiguous buffer.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    /// Reused buffer for strings that contain escapes.
    var scratch: [UInt8] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    @inline(__always)
    func error(_ reason: String, at offset: Int? = nil) -> JSONError {
        JSONError(offset: offset ?? index, reason: reason)
    }

    /// A short description of the byte at `offset` (or end of input) for messages.
    func found(at offset: Int) -> String {
        guard offset < bytes.count else { return "end of input" }
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "byte 0x\(hex.count == 1 ? "0" + hex : hex)"
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case ASCII.space, ASCII.tab, ASCII.newline, ASCII.carriageReturn: index += 1
            default: return
            }
        }
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index != bytes.count {
            throw error("unexpected \(found(at: index)) after the top-level value")
        }
        return value
    }

    mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case ASCII.openBrace: return try parseObject(depth: depth + 1)
        case ASCII.openBracket: return try parseArray(depth: depth + 1)
        case ASCII.quote: return .string(try parseString())
        case ASCII.minus, ASCII.zero...ASCII.nine: return .number(try parseNumber())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: throw error("unexpected \(found(at: index)), expected a value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let pointer = literal.utf8Start
        for i in 0..<count {
            guard start + i < bytes.count, bytes[start + i] == pointer[i] else {
                throw error("invalid literal, expected '\(literal)'", at: start)
            }
        }
        index = start + count
    }

    mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        if depth > maxDepth { throw error("nesting is deeper than the limit of \(maxDepth) levels") }
        index += 1  // [
        skipWhitespace()
        var elements: [JSONValue] = []
        if index < bytes.count && bytes[index] == ASCII.closeBracket {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input inside an array") }
            switch bytes[index] {
            case ASCII.comma:
                index += 1
                skipWhitespace()
                if index < bytes.count && bytes[index] == ASCII.closeBracket {
                    throw error("trailing comma before ']'")
                }
            case ASCII.closeBracket:
                index += 1
                return .array(elements)
            default:
                throw error("unexpected \(found(at: index)), expected ',' or ']' after an array element")
            }
        }
    }

    mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        if depth > maxDepth { throw error("nesting is deeper than the limit of \(maxDepth) levels") }
        index += 1  // {
        skipWhitespace()
        var members: [String: JSONValue] = [:]
        if index < bytes.count && bytes[index] == ASCII.closeBrace {
            index += 1
            return .object(members)
        }
        while true {
            guard index < bytes.count else { throw error("unexpected end of input inside an object") }
            guard bytes[index] == ASCII.quote else {
                throw error("unexpected \(found(at: index)), expected a string as an object key")
            }
            let keyOffset = index
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == ASCII.colon else {
                throw error("expected ':' after an object key")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue(depth: depth)
            if members.updateValue(value, forKey: key) != nil {
                let shown = key.count <= 40 ? String(reflecting: key) : String(reflecting: String(key.prefix(40))) + "…"
                throw error("duplicate object key \(shown)", at: keyOffset)
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input inside an object") }
            switch bytes[index] {
            case ASCII.comma:
                index += 1
                skipWhitespace()
                if index < bytes.count && bytes[index] == ASCII.closeBrace {
                    throw error("trailing comma before '}'")
                }
            case ASCII.closeBrace:
                index += 1
                return .object(members)
            default:
                throw error("unexpected \(found(at: index)), expected ',' or '}' after an object member")
            }
        }
    }
}
