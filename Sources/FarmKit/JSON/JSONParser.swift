import CJansson
import Foundation

/// A document that is not valid JSON, or a file that could not be read.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was parsed: a file path, `--set portrait.seed`, ….
    public let source: String
    /// 1-based line of the error; 0 when the file could not be read (then `column` is 0 too).
    public let line: Int
    /// 1-based column, counted in Unicode scalars.
    public let column: Int
    /// What is wrong, without the location: `'}' expected near ','`, `duplicate key "x"`.
    public let message: String

    /// `source:line:column: message`, or `source: message` for a file that could not be read.
    public var description: String {
        line > 0 ? "\(source):\(line):\(column): \(message)" : "\(source): \(message)"
    }
}

extension JSON {
    /// Parses `text`; `source` names it in errors (a file path, "--set portrait.seed", …).
    ///
    /// Any JSON value is accepted at the top level (not only objects and arrays). Rejected: duplicate
    /// keys in an object, anything but whitespace after the value, integers outside `Int64`, reals
    /// that overflow a `Double`, nesting deeper than 2048, NUL bytes in the text, and `\u0000` in
    /// object keys (`\u0000` inside string values is kept). A leading UTF-8 byte order mark is
    /// skipped. Integers become `.integer`, numbers with a fraction or exponent `.double`; objects
    /// keep document order.
    public static func parse(_ text: String, source: String) throws(JSONParseError) -> JSON {
        var text = text
        let result = text.withUTF8 { utf8 in
            Result { () throws(JSONParseError) in try parse(bytes: UnsafeRawBufferPointer(utf8), source: source) }
        }
        return try result.get()
    }

    /// Reads and parses a file. Errors name the file's path: a file that cannot be read (missing,
    /// a folder, no permission) gives an error with line 0; invalid UTF-8 is a parse error.
    public static func parse(contentsOf url: URL) throws(JSONParseError) -> JSON {
        var bytes: [UInt8] = []
        do {
            try forEachChunk(ofFileAt: url) { bytes.append(contentsOf: $0) }
        } catch {
            throw JSONParseError(source: url.path, line: 0, column: 0, message: "cannot read file: \(error.reason)")
        }
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONParseError) in try parse(bytes: raw, source: url.path) }
        }
        return try result.get()
    }

    /// Parses UTF-8 bytes with jansson (package access: the fuzz targets call it with raw bytes).
    package static func parse(bytes: UnsafeRawBufferPointer, source: String) throws(JSONParseError) -> JSON {
        var bytes = bytes
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes = UnsafeRawBufferPointer(rebasing: bytes[3...]) }

        // jansson reads a raw NUL byte as the end of the input and reports "end of file expected
        // near end of file"; name the byte instead, unless the text before it has its own error.
        if let nul = bytes.firstIndex(of: 0) {
            let prefix = UnsafeRawBufferPointer(rebasing: bytes[..<nul])
            if !isBlank(prefix) {
                switch jansson(prefix) {
                case .success(let root): json_decref(root)
                case .failure(let error) where error.code != json_error_premature_end_of_input:
                    throw parseError(error, in: prefix, source: source)
                case .failure: break
                }
            }
            let (line, column) = location(ofOffset: nul, in: bytes)
            throw JSONParseError(source: source, line: line, column: column, message: "unexpected NUL byte")
        }
        if isBlank(bytes) { throw JSONParseError(source: source, line: 1, column: 1, message: "empty document") }

        switch jansson(bytes) {
        case .success(let root):
            defer { json_decref(root) }
            return JSON(borrowing: root)
        case .failure(let error):
            throw parseError(error, in: bytes, source: source)
        }
    }

    /// jansson's error record, boxed so it can travel in a `Result`.
    private struct JanssonError: Error {
        var raw: json_error_t
        var code: json_error_code { withUnsafePointer(to: raw) { json_error_code($0) } }
        var text: String { withUnsafeBytes(of: raw.text) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
    }

    /// Runs `json_loadb` on non-empty bytes; on success the caller owns the returned (new) reference.
    private static func jansson(_ bytes: UnsafeRawBufferPointer) -> Result<UnsafeMutablePointer<json_t>, JanssonError> {
        let flags = Int(JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)
        var error = json_error_t()
        guard let root = json_loadb(bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count, flags, &error)
        else { return .failure(JanssonError(raw: error)) }
        return .success(root)
    }

    private static func parseError(_ error: JanssonError, in bytes: UnsafeRawBufferPointer, source: String) -> JSONParseError {
        let raw = error.raw
        if error.code == json_error_duplicate_key, let (key, width) = duplicateKey(endingAt: Int(raw.position), in: bytes) {
            // jansson points at the key's closing quote; point at its opening quote instead.
            return JSONParseError(
                source: source, line: Int(raw.line), column: Int(raw.column) - width + 1,
                message: "duplicate key \(JSON.string(key).compactString)")
        }
        if error.code == json_error_invalid_utf8 || raw.column < 1 {
            // jansson's column is that of the last character it read: a byte it cannot decode gets
            // the column before it, and at the start of a line column 0. Point at the byte itself
            // (or at the end of the input) instead.
            let (line, column) = location(ofOffset: min(max(Int(raw.position), 0), bytes.count), in: bytes)
            return JSONParseError(source: source, line: line, column: column, message: error.text)
        }
        return JSONParseError(source: source, line: Int(raw.line), column: Int(raw.column), message: error.text)
    }

    /// The key of a duplicate-key error (jansson's message holds at most 20 bytes of it), and its
    /// width in Unicode scalars with the quotes. `end` is the offset just past the closing quote.
    private static func duplicateKey(endingAt end: Int, in bytes: UnsafeRawBufferPointer) -> (String, Int)? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        let close = end - 1
        guard close > 0, close < bytes.count, bytes[close] == quote else { return nil }
        // The opening quote is the nearest quote before it that is not escaped (even run of backslashes).
        var open = close - 1
        while open >= 0 {
            if bytes[open] == quote {
                var slashes = 0
                while open - slashes - 1 >= 0, bytes[open - slashes - 1] == backslash { slashes += 1 }
                if slashes % 2 == 0 { break }
            }
            open -= 1
        }
        guard open >= 0 else { return nil }
        let literal = UnsafeRawBufferPointer(rebasing: bytes[open...close])
        guard case .success(let value) = jansson(literal) else { return nil }
        defer { json_decref(value) }
        guard case .string(let key) = JSON(borrowing: value) else { return nil }
        return (key, scalarCount(literal))
    }

    /// 1-based line and column (in Unicode scalars, as jansson counts) of a byte offset.
    private static func location(ofOffset offset: Int, in bytes: UnsafeRawBufferPointer) -> (line: Int, column: Int) {
        let before = UnsafeRawBufferPointer(rebasing: bytes[..<offset])
        let newline = UInt8(ascii: "\n")
        let line = 1 + before.count { $0 == newline }
        let lineStart = (before.lastIndex(of: newline) ?? -1) + 1
        return (line, 1 + scalarCount(UnsafeRawBufferPointer(rebasing: before[lineStart...])))
    }

    /// Unicode scalars in UTF-8 bytes: the bytes that are not continuation bytes.
    private static func scalarCount(_ bytes: UnsafeRawBufferPointer) -> Int {
        bytes.count { $0 & 0xC0 != 0x80 }
    }

    private static func isBlank(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }

    /// Converts a jansson value without taking ownership of `value` or of anything inside it
    /// (`json_object_iter_value` and `json_array_get` return borrowed references).
    private init(borrowing value: UnsafeMutablePointer<json_t>) {
        switch cjansson_typeof(value) {
        case JSON_OBJECT:
            var object = JSONObject()
            var iterator = json_object_iter(value)
            while let current = iterator {
                let key = String(
                    decoding: UnsafeRawBufferPointer(start: json_object_iter_key(current), count: json_object_iter_key_len(current)),
                    as: UTF8.self)
                object[key] = JSON(borrowing: json_object_iter_value(current)!)
                iterator = json_object_iter_next(value, current)
            }
            self = .object(object)
        case JSON_ARRAY:
            self = .array((0..<json_array_size(value)).map { JSON(borrowing: json_array_get(value, $0)!) })
        case JSON_STRING:
            let utf8 = UnsafeRawBufferPointer(start: json_string_value(value), count: json_string_length(value))
            self = .string(String(decoding: utf8, as: UTF8.self))
        case JSON_INTEGER: self = .integer(Int64(json_integer_value(value)))
        case JSON_REAL: self = .double(json_real_value(value))
        case JSON_TRUE: self = .bool(true)
        case JSON_FALSE: self = .bool(false)
        default: self = .null
        }
    }
}
