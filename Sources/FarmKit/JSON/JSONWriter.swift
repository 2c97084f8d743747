import Foundation

/// Serialising JSON values: compact (document order), pretty, and canonical (for cache keys).
///
/// Every output is valid JSON that `JSON.parse` reads back as an equal value, with two exceptions
/// JSON itself imposes: non-finite doubles are written as `null`, and a key containing U+0000 is
/// written escaped but rejected by the parser.
extension JSON {
    /// One line, keys in document order.
    public var compactString: String {
        var out = ""
        write(to: &out, canonical: false, indent: nil, level: 0)
        return out
    }

    /// Two-space indentation, keys in document order.
    public var prettyString: String {
        var out = ""
        write(to: &out, canonical: false, indent: "  ", level: 0)
        return out
    }

    /// The canonical form used for cache keys: compact; strings and keys in Unicode normalization
    /// form C (Swift compares strings by canonical equivalence); keys sorted by their UTF-8 bytes;
    /// a double with an integral value that fits `Int64` spelled as that integer (so `2.0` and `2`
    /// agree, and `-0.0` is `0`), other doubles in their shortest round-tripping form. Equal values
    /// always give equal strings.
    public var canonicalString: String {
        var out = ""
        write(to: &out, canonical: true, indent: nil, level: 0)
        return out
    }

    private func write(to out: inout String, canonical: Bool, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .double(let d): out += JSON.spell(d, canonical: canonical)
        case .string(let s): JSON.quote(canonical ? JSON.normalized(s) : s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                JSON.newline(&out, indent, level + 1)
                item.write(to: &out, canonical: canonical, indent: indent, level: level + 1)
            }
            JSON.newline(&out, indent, level)
            out += "]"
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            // (written key, key in the object)
            var members = object.keys.map { (canonical ? JSON.normalized($0) : $0, $0) }
            if canonical { members.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) } }
            out += "{"
            for (index, (written, key)) in members.enumerated() {
                if index > 0 { out += "," }
                JSON.newline(&out, indent, level + 1)
                JSON.quote(written, into: &out)
                out += indent == nil ? ":" : ": "
                object[key]!.write(to: &out, canonical: canonical, indent: indent, level: level + 1)
            }
            JSON.newline(&out, indent, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n" + String(repeating: indent, count: level)
    }

    /// Swift's `description` is the shortest form that round-trips and always valid JSON for finite
    /// values ("1.0", "1e-05", "1.5e+300"); it keeps a fraction or exponent, so it parses back as a
    /// double.
    private static func spell(_ d: Double, canonical: Bool) -> String {
        guard d.isFinite else { return "null" }  // JSON has no NaN or infinity
        if canonical, let integer = Int64(exactly: d) { return String(integer) }
        return d.description
    }

    private static func normalized(_ s: String) -> String {
        s.utf8.allSatisfy { $0 < 0x80 } ? s : s.precomposedStringWithCanonicalMapping
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += s
        } else {
            for scalar in s.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                case _ where scalar.value < 0x20:
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                default: out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
