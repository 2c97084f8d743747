/// Serialising JSON values: compact (document order), pretty, and canonical (for cache keys).
extension JSON {
    /// One line, keys in document order.
    public var compactString: String {
        var out = ""
        write(to: &out, sortKeys: false, indent: nil, level: 0)
        return out
    }

    /// Two-space indentation, keys in document order.
    public var prettyString: String {
        var out = ""
        write(to: &out, sortKeys: false, indent: "  ", level: 0)
        return out
    }

    /// The canonical form used for cache keys: compact, keys sorted by their UTF-8 bytes, numbers
    /// in one spelling (an integral double is written as an integer, others in their shortest
    /// round-tripping form). Equal values always give equal strings.
    public var canonicalString: String {
        var out = ""
        write(to: &out, sortKeys: true, indent: nil, level: 0)
        return out
    }

    private func write(to out: inout String, sortKeys: Bool, indent: String?, level: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .integer(let i): out += String(i)
        case .double(let d): out += JSON.spell(d)
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                JSON.newline(&out, indent, level + 1)
                item.write(to: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
            }
            JSON.newline(&out, indent, level)
            out += "]"
        case .object(let object):
            guard !object.isEmpty else { out += "{}"; return }
            let keys = sortKeys ? object.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } : object.keys
            out += "{"
            for (index, key) in keys.enumerated() {
                if index > 0 { out += "," }
                JSON.newline(&out, indent, level + 1)
                JSON.quote(key, into: &out)
                out += indent == nil ? ":" : ": "
                object[key]!.write(to: &out, sortKeys: sortKeys, indent: indent, level: level + 1)
            }
            JSON.newline(&out, indent, level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, _ indent: String?, _ level: Int) {
        guard let indent else { return }
        out += "\n" + String(repeating: indent, count: level)
    }

    private static func spell(_ d: Double) -> String {
        guard d.isFinite else { return "null" }  // JSON has no NaN or infinity
        if d == d.rounded(), abs(d) < 9.007_199_254_740_992e15 { return String(Int64(d)) }
        return String(d)  // shortest representation that round-trips
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
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
        out += "\""
    }
}
