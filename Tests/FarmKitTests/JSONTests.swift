import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

@Suite struct JSONTests {
    private func parse(_ text: String) throws(JSONParseError) -> JSON {
        try JSON.parse(text, source: "test.json")
    }

    /// The error parsing `text` gives, or nil if it parses.
    private func failure(_ text: String) -> JSONParseError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Parsing values

    @Test(arguments: [
        ("null", JSON.null), ("true", .bool(true)), ("false", .bool(false)), ("0", .integer(0)), ("-0", .integer(0)),
        ("42", .integer(42)), ("-7", .integer(-7)), ("1.5", .double(1.5)), ("1.0", .double(1)), ("1e3", .double(1000)),
        ("-2.5E-3", .double(-0.0025)), ("\"hi\"", .string("hi")), ("[]", .array([])), ("{}", .object(JSONObject())),
        (" \n\t 7 \r\n", .integer(7)),
    ])
    func scalarsAndEmptyContainers(text: String, expected: JSON) throws {
        #expect(try parse(text) == expected)
    }

    @Test func nesting() throws {
        let value = try parse(#"{"a": [1, {"b": null, "c": [[]]}], "d": {"e": {"f": [true, 2.5, "x"]}}}"#)
        #expect(value == ["a": [1, ["b": nil, "c": [[]]]], "d": ["e": ["f": [true, 2.5, "x"]]]])
        #expect(value["d"]?["e"]?["f"]?.arrayValue?.count == 3)
    }

    @Test func unicodeAndEscapes() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\u00e9\u4e2d\ud83d\ude00""#) == .string("é中😀"))
        #expect(try parse("\"héllo 中 😀\"") == .string("héllo 中 😀"))
        #expect(try parse(#"["a\u0000b"]"#) == [.string("a\u{0}b")])
        #expect(try parse(#"{"ключ": "значение"}"#) == ["ключ": "значение"])
        #expect(try parse("\u{FEFF}[1]") == [1])  // a byte order mark is skipped
    }

    @Test func int64Limits() throws {
        #expect(try parse("9223372036854775807") == .integer(.max))
        #expect(try parse("-9223372036854775808") == .integer(.min))
        #expect(failure("9223372036854775808")?.message == "too big integer near '9223372036854775808'")
        #expect(failure("[-9223372036854775809]")?.message.hasPrefix("too big negative integer") == true)
    }

    @Test func reals() throws {
        #expect(try parse("0.1") == .double(0.1))
        #expect(try parse("1.7976931348623157e308") == .double(.greatestFiniteMagnitude))
        #expect(try parse("5e-324") == .double(.leastNonzeroMagnitude))
        #expect(try parse("-0.0") == .double(-0.0))
        #expect(try parse("123456789012345678901234567890.0") == .double(1.2345678901234568e29))
        #expect(failure("1e400")?.message == "real number overflow near '1e400'")
    }

    @Test func documentOrderIsPreserved() throws {
        let text = #"{"z":1,"a":{"y":true,"b":false},"m":[],"é":null}"#
        let value = try parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m", "é"])
        #expect(value["a"]?.objectValue?.keys == ["y", "b"])
        #expect(value.compactString == text)
    }

    // MARK: Errors

    @Test func duplicateKeys() throws {
        let error = failure("{\n  \"a\": 1,\n  \"a\": 2\n}")
        #expect(error == JSONParseError(source: "test.json", line: 3, column: 3, message: #"duplicate key "a""#))
        let long = String(repeating: "long", count: 10)
        #expect(failure(#"{"x": {"\#(long)": 1, "\#(long)": 2}}"#)?.message == #"duplicate key "\#(long)""#)
        #expect(failure(#"{"q\"\\": 1, "q\"\\": 2}"#)?.message == #"duplicate key "q\"\\""#)
        #expect(failure(#"{"é": 1, "\u00e9": 2}"#)?.column == 10)
        #expect(try parse(#"{"a": {"a": 1}, "b": {"a": 2}}"#) == ["a": ["a": 1], "b": ["a": 2]])
    }

    @Test func errorLineAndColumn() {
        let error = failure("{\n  \"a\": 1,\n  \"b\" 2\n}")
        #expect(error == JSONParseError(source: "test.json", line: 3, column: 7, message: "':' expected near '2'"))
        #expect(error?.description == "test.json:3:7: ':' expected near '2'")
        #expect(failure("[1,\n 2,,]")?.line == 2)
        #expect(failure("[1,\n 2,,]")?.column == 4)
        #expect(failure("[\"é\", x]")?.column == 7)  // columns count characters, not bytes
    }

    /// Found by Fuzz/FuzzJSON: jansson gave column 0 for a byte it cannot decode at the start of a
    /// line (and the column before such a byte elsewhere), and for the end of input after a newline.
    @Test func undecodableBytesAndEndOfInputHaveTheirOwnColumn() {
        func failure(_ bytes: [UInt8]) -> JSONParseError? {
            do {
                _ = try bytes.withUnsafeBytes { try JSON.parse(bytes: $0, source: "test.json") }
                return nil
            } catch {
                return error as? JSONParseError
            }
        }
        let fuzzed: [UInt8] = [0xEF, 0xBB, 0x5D, 0x7B, 0x22, 0x6F, 0x62, 0x6D, 0x22, 0x3A, 0x20, 0x31, 0x7D]  // crash-0f837138…
        #expect(failure(fuzzed) == JSONParseError(source: "test.json", line: 1, column: 1, message: "unable to decode byte 0xef"))
        #expect(failure(Array("[\"a".utf8) + [0xFF, 0x22, 0x5D])?.column == 4)
        let nextLine = failure(Array("[1,\n".utf8) + [0xFF, 0x5D])
        #expect(nextLine?.line == 2 && nextLine?.column == 1)
        #expect(failure(Array("[1,\n".utf8)) == JSONParseError(source: "test.json", line: 2, column: 1, message: "']' expected near end of file"))
    }

    @Test(arguments: ["", " ", "\n\n  \t\r\n"])
    func emptyDocument(text: String) {
        #expect(failure(text) == JSONParseError(source: "test.json", line: 1, column: 1, message: "empty document"))
    }

    @Test func trailingGarbage() {
        #expect(failure("{} x") == JSONParseError(source: "test.json", line: 1, column: 4, message: "end of file expected near 'x'"))
        #expect(failure("1 2")?.message == "end of file expected near '2'")
        #expect(failure("[1]]")?.message == "end of file expected near ']'")
    }

    @Test func nulBytes() {
        #expect(failure("[1]\u{0}") == JSONParseError(source: "test.json", line: 1, column: 4, message: "unexpected NUL byte"))
        #expect(failure("[1,\n \"é\u{0}\"]") == JSONParseError(source: "test.json", line: 2, column: 4, message: "unexpected NUL byte"))
        #expect(failure("\u{0}")?.message == "unexpected NUL byte")
        // An error before the NUL byte is the one reported.
        #expect(failure("[1,]\u{0}")?.column == 4)
        #expect(failure("[1,]\u{0}")?.message == "unexpected token near ']'")
    }

    @Test func keysWithNULAreRejected() {
        #expect(failure(#"{"a\u0000": 1}"#)?.message.hasPrefix("NUL byte in object key not supported") == true)
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(failure(deep)?.message.hasPrefix("maximum parsing depth reached") == true)
    }

    @Test func files() throws {
        let folder = try TemporaryDirectory("json")
        defer { folder.remove() }
        let good = folder.file("good.json")
        try Data(#"{"b": [1, 2.5], "a": "x"}"#.utf8).write(to: good)
        #expect(try JSON.parse(contentsOf: good) == ["b": [1, 2.5], "a": "x"])

        let bad = folder.file("bad.json")
        try Data("{\n  \"a\": }".utf8).write(to: bad)
        #expect(throws: JSONParseError(source: bad.path, line: 2, column: 8, message: "unexpected token near '}'")) {
            try JSON.parse(contentsOf: bad)
        }

        let latin1 = folder.file("latin1.json")
        try Data([0x5B, 0x22, 0xE9, 0x22, 0x5D]).write(to: latin1)  // ["é"] in Latin-1
        let decodeError = try #require(catching { try JSON.parse(contentsOf: latin1) })
        #expect(decodeError.source == latin1.path)
        #expect(decodeError.message.hasPrefix("unable to decode byte 0xe9"))

        let missing = folder.file("missing.json")
        let missingError = try #require(catching { try JSON.parse(contentsOf: missing) })
        #expect(missingError == JSONParseError(source: missing.path, line: 0, column: 0, message: "cannot read file: No such file or directory"))
        #expect(missingError.description == "\(missing.path): cannot read file: No such file or directory")
        #expect(catching { try JSON.parse(contentsOf: folder.url) }?.message == "cannot read file: Is a directory")
    }

    private func catching(_ body: () throws -> JSON) -> JSONParseError? {
        do {
            _ = try body()
            return nil
        } catch {
            return error as? JSONParseError
        }
    }

    // MARK: Writing

    @Test func canonicalIgnoresKeyOrder() throws {
        let first = try parse(#"{"z": 1, "a": {"y": [1, {"q": 1, "p": 2}], "b": 2}, "m": null}"#)
        let second = try parse(#"{"m": null, "a": {"b": 2, "y": [1, {"p": 2, "q": 1}]}, "z": 1}"#)
        #expect(first == second)
        #expect(first.compactString != second.compactString)
        #expect(first.canonicalString == #"{"a":{"b":2,"y":[1,{"p":2,"q":1}]},"m":null,"z":1}"#)
        #expect(first.canonicalString == second.canonicalString)
    }

    @Test func canonicalKeysSortByUTF8Bytes() {
        let value: JSON = ["é": 1, "z": 2, "Z": 3, "a": 4, "ab": 5, "": 6, "😀": 7, "\u{FFFD}": 8]
        #expect(value.canonicalString == #"{"":6,"Z":3,"a":4,"ab":5,"z":2,"é":1,"�":8,"😀":7}"#)
    }

    @Test func canonicalNormalizesUnicode() {
        let composed: JSON = ["caf\u{E9}": "r\u{E9}sum\u{E9}"]
        let decomposed: JSON = ["cafe\u{301}": "re\u{301}sume\u{301}"]
        #expect(composed == decomposed)
        #expect(composed.canonicalString == decomposed.canonicalString)
        #expect(decomposed.compactString == "{\"cafe\u{301}\":\"re\u{301}sume\u{301}\"}")  // compact keeps the bytes
    }

    @Test func numberSpelling() {
        #expect(JSON.double(2).canonicalString == JSON.integer(2).canonicalString)
        #expect(JSON.double(2).canonicalString == "2")
        #expect(JSON.double(-0.0).canonicalString == "0")
        #expect(JSON.double(-3e15).canonicalString == "-3000000000000000")
        #expect(JSON.double(1e300).canonicalString == "1e+300")
        #expect(JSON.double(0.1).canonicalString == "0.1")
        #expect(JSON.double(1.0 / 3).canonicalString == "0.3333333333333333")
        #expect(JSON.integer(.min).canonicalString == "-9223372036854775808")
        // Compact and pretty keep a double a double.
        #expect(JSON.double(2).compactString == "2.0")
        #expect(JSON.double(1e16).compactString == "1e+16")
        #expect(JSON.double(.nan).compactString == "null")
        #expect(JSON.double(-.infinity).canonicalString == "null")
    }

    @Test func escaping() throws {
        let value = JSON.string("\u{0}\u{1}\u{1F}\u{7F}\"\\/\n\r\t\u{08}\u{0C}\u{2028}é")
        #expect(value.compactString == "\"\\u0000\\u0001\\u001f\u{7F}\\\"\\\\/\\n\\r\\t\\b\\f\u{2028}é\"")
        #expect(try parse(value.compactString) == value)
    }

    @Test func prettyString() {
        let value: JSON = ["a": [1, 2.5], "b": [:], "c": []]
        #expect(value.prettyString == "{\n  \"a\": [\n    1,\n    2.5\n  ],\n  \"b\": {},\n  \"c\": []\n}")
    }

    /// Every output re-parses to an equal value (canonical to one with the same canonical string).
    @Test func roundTripsGeneratedValues() throws {
        var generator = SplitMix64(seed: 2024)
        for _ in 0..<400 {
            let value = JSON.random(depth: 4, using: &generator)
            #expect(try parse(value.compactString) == value, "\(value.compactString)")
            #expect(try parse(value.prettyString) == value, "\(value.prettyString)")
            let canonical = value.canonicalString
            #expect(try parse(canonical).canonicalString == canonical)
            #expect(value.shuffledKeys(using: &generator).canonicalString == canonical)
        }
    }

    // MARK: Codable

    @Test func codableRoundTrip() throws {
        let exact: JSON = ["name": "vivid", "n": -12, "x": 0.25, "ok": true, "none": nil, "list": [1, "two", [3.5]]]
        let data = try JSONEncoder().encode(exact)
        #expect(try JSONDecoder().decode(JSON.self, from: data) == exact)

        struct Record: Codable, Equatable {
            var id: Int
            var params: JSON
        }
        let record = Record(id: 3, params: exact)
        #expect(try JSONDecoder().decode(Record.self, from: JSONEncoder().encode(record)) == record)

        var generator = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let value = JSON.random(depth: 3, using: &generator)
            let decoded = try JSONDecoder().decode(JSON.self, from: JSONEncoder().encode(value))
            #expect(decoded.canonicalString == value.canonicalString, "\(value.compactString)")
        }
    }
}

extension JSON {
    /// A random finite value: every kind, awkward strings and numbers, nesting up to `depth`.
    fileprivate static func random(depth: Int, using generator: inout some RandomNumberGenerator) -> JSON {
        switch Int.random(in: 0..<(depth > 0 ? 8 : 6), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            let special: [Int64] = [0, 1, -1, .max, .min, 1 << 53, (1 << 53) + 1]
            return .integer(Bool.random(using: &generator) ? special.randomElement(using: &generator)! : Int64.random(in: .min ... .max, using: &generator))
        case 3: return .double(randomDouble(using: &generator))
        case 4, 5: return .string(randomString(allowNUL: true, using: &generator))
        case 6:
            return .array((0..<Int.random(in: 0...4, using: &generator)).map { _ in random(depth: depth - 1, using: &generator) })
        default:
            var object = JSONObject()
            for _ in 0..<Int.random(in: 0...4, using: &generator) {
                object[randomString(allowNUL: false, using: &generator)] = random(depth: depth - 1, using: &generator)
            }
            return .object(object)
        }
    }

    private static func randomDouble(using generator: inout some RandomNumberGenerator) -> Double {
        switch Int.random(in: 0..<5, using: &generator) {
        case 0:
            let special: [Double] = [0, -0.0, 0.1, 1, -1, 1e16, 1e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0x1p63]
            return special.randomElement(using: &generator)!
        case 1: return Double(Int.random(in: -100_000...100_000, using: &generator))
        case 2: return Double.random(in: -1000...1000, using: &generator)
        default:
            while true {  // any finite bit pattern, subnormals included
                let d = Double(bitPattern: generator.next())
                if d.isFinite { return d }
            }
        }
    }

    private static func randomString(allowNUL: Bool, using generator: inout some RandomNumberGenerator) -> String {
        let pieces = [
            "a", "Z", "0", " ", "key", "\"", "\\", "/", "\n", "\r\n", "\t", "\u{1}", "\u{1F}", "\u{7F}", "é", "e\u{301}",
            "中", "😀", "👩‍👩‍👧", "\u{2028}", "\u{FEFF}", "\u{FFFD}",
        ] + (allowNUL ? ["\u{0}"] : [])
        return (0..<Int.random(in: 0...6, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }

    /// The same value with every object's keys in a shuffled order.
    fileprivate func shuffledKeys(using generator: inout some RandomNumberGenerator) -> JSON {
        switch self {
        case .array(let items): return .array(items.map { $0.shuffledKeys(using: &generator) })
        case .object(let object):
            var shuffled = JSONObject()
            for key in object.keys.shuffled(using: &generator) { shuffled[key] = object[key]!.shuffledKeys(using: &generator) }
            return .object(shuffled)
        default: return self
        }
    }
}
