import Foundation
import Testing

@testable import AcesCore

/// The RFC 8785 reference vectors, the project's own copy (`Vectors/rfc8785`, see its README).
private let rfc8785Vectors: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .appendingPathComponent("Vectors/rfc8785")

private func canonical(_ value: JSONValue) -> String {
    String(decoding: CanonicalJSON.encode(value), as: UTF8.self)
}

private func canonical(parsing text: String) throws -> String {
    canonical(try JSONParser.parse(text))
}

@Suite("CanonicalJSON")
struct CanonicalJSONTests {
    @Test("RFC 8785 reference vectors")
    func referenceVectors() throws {
        let input = rfc8785Vectors.appendingPathComponent("input")
        let names = try FileManager.default.contentsOfDirectory(atPath: input.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
        #expect(names.count == 6)
        for name in names {
            let source = try Data(contentsOf: input.appendingPathComponent(name))
            let expected = try Data(contentsOf: rfc8785Vectors.appendingPathComponent("output/\(name)"))
            let encoded = CanonicalJSON.encode(try JSONParser.parse(source))
            #expect(encoded == Array(expected), "vector \(name): got \(String(decoding: encoded, as: UTF8.self))")
            #expect(CanonicalJSON.isCanonical(expected), "vector \(name) output is canonical")
        }
    }

    @Test("member names sort by UTF-16 code units")
    func keyOrder() {
        // U+1F602 is D83D DE02 in UTF-16, so it sorts before U+FB33 (but after it by scalar).
        let value: JSONValue = ["\u{FB33}": 1, "\u{1F602}": 2, "\u{E000}": 3, "\u{D7FF}": 4, "b": 5, "a": 6, "": 7, "aa": 8]
        #expect(canonical(value) == "{\"\":7,\"a\":6,\"aa\":8,\"b\":5,\"\u{D7FF}\":4,\"\u{1F602}\":2,\"\u{E000}\":3,\"\u{FB33}\":1}")
        #expect(CanonicalJSON.precedesInUTF16Order("\u{1F602}", "\u{FB33}"))
        #expect(!CanonicalJSON.precedesInUTF16Order("\u{FB33}", "\u{1F602}"))
        #expect(CanonicalJSON.precedesInUTF16Order("\u{10000}", "\u{10FFFF}"))
        #expect(CanonicalJSON.precedesInUTF16Order("\u{7F}", "\u{80}"))
        #expect(!CanonicalJSON.precedesInUTF16Order("a", "a"))
    }

    @Test("strings escape as JSON.stringify does")
    func escapes() {
        #expect(canonical("\"\\/\u{08}\u{0C}\n\r\t") == #""\"\\/\b\f\n\r\t""#)
        #expect(canonical("\u{00}\u{01}\u{0B}\u{1F}") == #""\u0000\u0001\u000b\u001f""#)
        #expect(canonical("\u{7F}\u{80}é€😂") == "\"\u{7F}\u{80}é€😂\"")
        #expect(canonical("plain ascii") == "\"plain ascii\"")
        #expect(canonical("") == "\"\"")
        // Unnormalised text keeps its exact scalars.
        #expect(CanonicalJSON.encode("A\u{030A}") == [0x22, 0x41, 0xCC, 0x8A, 0x22])
    }

    @Test("numbers format as ECMAScript Number.prototype.toString")
    func numbers() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "0"), (1, "1"), (-1, "-1"), (1e21, "1e+21"), (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"), (1e-6, "0.000001"), (1.234e-6, "0.000001234"),
            (123456789012345680000.0, "123456789012345680000"), (1e20, "100000000000000000000"),
            (0.1, "0.1"), (-1.5, "-1.5"), (.leastNonzeroMagnitude, "5e-324"), (-.leastNonzeroMagnitude, "-5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740991, "9007199254740991"), (9007199254740992, "9007199254740992"),
            (295147905179352825856.0, "295147905179352830000"), (1e23, "1e+23"),
            (333333333.33333329, "333333333.3333333"), (4.5, "4.5"), (0.002, "0.002"),
            (1e30, "1e+30"), (123.456, "123.456"), (1e16, "10000000000000000"),
            (2.5e-5, "0.000025"), (1.2345e21, "1.2345e+21"), (-1e-7, "-1e-7"),
        ]
        for (value, expected) in cases {
            #expect(canonical(.number(value)) == expected, "\(value)")
        }
        #expect(canonical(.number(.nan)) == "null")
        #expect(canonical(.number(.infinity)) == "null")
    }

    @Test("nested structures")
    func nested() throws {
        let text = #" { "b" : [ 1 , { "y" : null , "x" : true } , [ ] ] , "a" : { } , "c" : "s" } "#
        #expect(try canonical(parsing: text) == #"{"a":{},"b":[1,{"x":true,"y":null},[]],"c":"s"}"#)
        #expect(try canonical(parsing: "[[[[]]]]") == "[[[[]]]]")
        #expect(try canonical(parsing: "\t\r\n 42 \n") == "42")
        #expect(CanonicalJSON.isCanonical(Array(#"{"a":1,"b":[true,false]}"#.utf8)))
        #expect(!CanonicalJSON.isCanonical(Array(#"{"b":1,"a":2}"#.utf8)))
        #expect(!CanonicalJSON.isCanonical(Array(#"{"a": 1}"#.utf8)))
        #expect(!CanonicalJSON.isCanonical(Array(#"[1.0]"#.utf8)))
        #expect(!CanonicalJSON.isCanonical(Array(#"[1,]"#.utf8)))
    }

    @Test("parser reads values exactly")
    func parserValues() throws {
        #expect(try JSONParser.parse("-0").doubleValue?.sign == .minus)
        #expect(try JSONParser.parse("0.1") == .number(0.1))
        #expect(try JSONParser.parse("1E2") == .number(100))
        #expect(try JSONParser.parse("12345678901234567890") == .number(12345678901234567890.0))
        #expect(try JSONParser.parse("-9007199254740993") == .number(-9007199254740992))
        #expect(try JSONParser.parse("1e-400") == .number(0))
        #expect(try JSONParser.parse(#""\ud83d\ude02\u00e9\/""#) == .string("😂é/"))
        #expect(try JSONParser.parse(#""a\u0000b""#) == .string("a\u{0}b"))
        #expect(try JSONParser.parse([0x22, 0xF0, 0x9F, 0x98, 0x82, 0x22]) == .string("😂"))
        let object = try JSONParser.parse(#"{"n":3,"s":"x","b":false,"z":null,"a":[1]}"#)
        #expect(object["n"]?.intValue == 3)
        #expect(object["s"]?.stringValue == "x")
        #expect(object["b"]?.boolValue == false)
        #expect(object["z"] == .null)
        #expect(object["a"]?.arrayValue == [1])
        #expect(object["missing"] == nil)
        #expect(JSONValue.number(1.5).intValue == nil)
        #expect(JSONValue.number(9007199254740994.0).intValue == nil)
        #expect(JSONValue(-7).intValue == -7)
    }

    @Test(
        "parser rejects malformed input",
        arguments: [
            ([0x22, 0xFF, 0x22], "invalid UTF-8"),
            ([0x22, 0xC0, 0xAF, 0x22], "overlong UTF-8"),
            ([0x22, 0xED, 0xA0, 0x80, 0x22], "UTF-8 encoded surrogate"),
            ([0x22, 0xE2, 0x82, 0x22], "truncated UTF-8"),
            ([0xEF, 0xBB, 0xBF, 0x31], "byte-order mark"),
            (Array(#"{"a":1,"a":2}"#.utf8), "duplicate keys"),
            // Swift strings compare by canonical equivalence, so these two keys collide.
            (Array(#"{"\u00c5":1,"A\u030a":2}"#.utf8), "canonically equivalent keys"),
            (Array("[1,]".utf8), "trailing comma in array"),
            (Array(#"{"a":1,}"#.utf8), "trailing comma in object"),
            (Array("01".utf8), "leading zero"),
            (Array("-01".utf8), "negative leading zero"),
            (Array(#""\ud800""#.utf8), "lone high surrogate"),
            (Array(#""\ud800\u0041""#.utf8), "high surrogate then non-surrogate"),
            (Array(#""\udc00""#.utf8), "lone low surrogate"),
            ([0x22, 0x61, 0x0A, 0x22], "control character in string"),
            (Array("[1] x".utf8), "trailing garbage"),
            (Array("1 2".utf8), "two values"),
            (Array("".utf8), "empty input"),
            (Array("   ".utf8), "whitespace only"),
            (Array("1e400".utf8), "number overflows a double"),
            (Array("-".utf8), "lone minus"),
            (Array("1.".utf8), "no fraction digits"),
            (Array(".5".utf8), "no integer digits"),
            (Array("1e".utf8), "no exponent digits"),
            (Array("+1".utf8), "plus sign"),
            (Array("NaN".utf8), "NaN"),
            (Array("tru".utf8), "truncated literal"),
            (Array(#""abc"#.utf8), "unterminated string"),
            (Array(#""\x""#.utf8), "invalid escape"),
            (Array(#""\u12G4""#.utf8), "invalid hex escape"),
            (Array(#"{"a" 1}"#.utf8), "missing colon"),
            (Array("{1:2}".utf8), "non-string key"),
            (Array("[1 2]".utf8), "missing comma"),
            (Array("[\u{0B}1]".utf8), "vertical tab is not whitespace"),
            (Array("'a'".utf8), "single quotes"),
        ] as [([UInt8], String)])
    func rejects(input: [UInt8], label: String) {
        #expect(throws: JSONError.self, "\(label)") { try JSONParser.parse(input) }
    }

    @Test("depth limit")
    func depthLimit() throws {
        let nested = { (depth: Int) in String(repeating: "[", count: depth) + String(repeating: "]", count: depth) }
        #expect(try JSONParser.parse(nested(64)) == JSONParser.parse(nested(64)))
        #expect(throws: JSONError.self) { try JSONParser.parse(nested(65)) }
        #expect(throws: JSONError.self) { try JSONParser.parse(#"{"a":{"b":[1]}}"#, maxDepth: 2) }
        #expect(try JSONParser.parse(#"{"a":{"b":[1]}}"#, maxDepth: 3)["a"]?["b"] == [1])
    }

    @Test("error messages carry the byte offset")
    func errorMessages() {
        do {
            _ = try JSONParser.parse(#"{"key" 1}"#)
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 7)
            #expect(error.description == "invalid JSON at byte 7: expected ':' after an object key")
        }
        #expect(throws: JSONError(offset: 7, reason: #"duplicate object key "a""#)) {
            try JSONParser.parse(#"{"a":1,"a":2}"#)
        }
    }

    @Test("parse(canonical(x)) == x")
    func roundTrip() throws {
        let values: [JSONValue] = [
            nil, true, 0, -1.25, 1e300, .number(.leastNonzeroMagnitude), "",
            ["a": [1, 2.5, "three", nil, false], "\u{1F602}": ["nested": ["deep": "\u{0}\u{1F}\"\\"]]],
            [[], [:], [[:]], "é€😂\u{7F}"],
        ]
        for value in values {
            let bytes = CanonicalJSON.encode(value)
            #expect(try JSONParser.parse(bytes) == value)
            #expect(CanonicalJSON.isCanonical(bytes))
        }
    }
}
