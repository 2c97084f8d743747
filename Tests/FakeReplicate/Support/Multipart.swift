import Foundation

/// One part of a `multipart/form-data` body.
struct MultipartPart {
    let name: String
    let filename: String?
    let contentType: String?
    let data: Data
}

/// A `multipart/form-data` body (RFC 7578) split into parts.
enum Multipart {
    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    /// The boundary parameter of a `Content-Type: multipart/form-data; boundary=…` header.
    static func boundary(fromContentType type: String) -> String? {
        let pieces = type.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard pieces.first?.lowercased() == "multipart/form-data" else { return nil }
        for piece in pieces.dropFirst() where piece.lowercased().hasPrefix("boundary=") {
            var value = String(piece.dropFirst("boundary=".count))
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }

    static func parse(_ body: Data, boundary: String) throws -> [MultipartPart] {
        let bytes = [UInt8](body)
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var searchFrom = 0
        while let found = find(delimiter, in: bytes, from: searchFrom) {
            positions.append(found)
            searchFrom = found + delimiter.count
        }
        guard positions.count >= 2 else { throw Invalid(description: "no multipart boundary found") }
        var parts: [MultipartPart] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            // The line break after the delimiter.
            if partStart + 1 < bytes.count, bytes[partStart] == 13, bytes[partStart + 1] == 10 { partStart += 2 }
            // The line break before the next delimiter belongs to the delimiter.
            var partEnd = end
            if partEnd >= 2, bytes[partEnd - 2] == 13, bytes[partEnd - 1] == 10 { partEnd -= 2 }
            guard partStart <= partEnd else { throw Invalid(description: "a multipart part is cut short") }
            let part = Array(bytes[partStart..<partEnd])
            guard let headerEnd = find([13, 10, 13, 10], in: part, from: 0) else {
                throw Invalid(description: "a multipart part has no header")
            }
            let headerText = String(decoding: part[0..<headerEnd], as: UTF8.self)
            var name: String?
            var filename: String?
            var type: String?
            for line in headerText.components(separatedBy: "\r\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let field = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if field == "content-disposition" {
                    name = parameter("name", in: value)
                    filename = parameter("filename", in: value)
                } else if field == "content-type" {
                    type = value
                }
            }
            guard let name else { throw Invalid(description: "a multipart part has no name") }
            parts.append(MultipartPart(name: name, filename: filename, contentType: type, data: Data(part[(headerEnd + 4)...])))
        }
        return parts
    }

    /// `name="value"` (or unquoted) in a Content-Disposition header.
    private static func parameter(_ name: String, in header: String) -> String? {
        var rest = Substring(header)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...]
            let piece = rest.drop { $0 == " " }
            guard piece.lowercased().hasPrefix(name + "=") else { continue }
            let value = piece.dropFirst(name.count + 1)
            if value.first == "\"" {
                var result = ""
                var escaped = false
                for character in value.dropFirst() {
                    if escaped { result.append(character); escaped = false }
                    else if character == "\\" { escaped = true }
                    else if character == "\"" { return result }
                    else { result.append(character) }
                }
                return result
            }
            return String(value.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
