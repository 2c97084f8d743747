import FarmKit
import Foundation

/// RFC 3339 timestamps as Replicate writes them: UTC, microseconds, `Z`.
enum Timestamp {
    static func format(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var micros = Int(((seconds - Double(whole)) * 1_000_000).rounded())
        if micros >= 1_000_000 {
            whole += 1
            micros -= 1_000_000
        }
        var parts = tm()
        gmtime_r(&whole, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
    }

    /// Reads an ISO 8601 date-time (with or without a fraction) or a date alone.
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withFullDate]
        return formatter.date(from: text)
    }
}

/// Random identifiers in Replicate's shapes.
enum Identifier {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    /// A prediction or training id: 26 lowercase base32 characters (`gm3qorzdhgbfurvjtvhg6dckhu`).
    static func prediction() -> String {
        String((0..<26).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// A file id: base64 of a UUID's text, as the real Files API's (`NGZiNmY2YzQtMThh…`).
    static func file() -> String {
        Data(UUID().uuidString.lowercased().utf8).base64EncodedString().replacingOccurrences(of: "=", with: "")
    }

    /// A new 64-hex version id.
    static func version() -> String {
        SHA256.hex((0..<32).map { _ in UInt8.random(in: 0...255) })
    }

    /// A stable 64-hex version id for a seeded model.
    static func seededVersion(_ name: String) -> String {
        SHA256.hex(of: "fake-replicate version " + name)
    }

    /// A path segment for a delivery URL.
    static func deliveryToken() -> String {
        prediction()
    }
}

extension String {
    /// Percent-encodes everything but RFC 3986's unreserved characters (for a path segment or a query value).
    var percentEncodedSegment: String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        allowed.insert(charactersIn: "-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}

/// The query items of a request, percent-decoded (`+` is a space).
func parseQuery(_ query: String?) -> [String: String] {
    guard let query, !query.isEmpty else { return [:] }
    var items: [String: String] = [:]
    for pair in query.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ text: Substring) -> String {
            let spaced = text.replacingOccurrences(of: "+", with: " ")
            return spaced.removingPercentEncoding ?? spaced
        }
        items[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
    }
    return items
}

/// A content type guessed from a file name.
func contentType(forName name: String) -> String {
    switch (name as NSString).pathExtension.lowercased() {
    case "png": "image/png"
    case "jpg", "jpeg": "image/jpeg"
    case "webp": "image/webp"
    case "gif": "image/gif"
    case "mp3": "audio/mpeg"
    case "wav": "audio/wav"
    case "flac": "audio/flac"
    case "ogg": "audio/ogg"
    case "m4a": "audio/mp4"
    case "mp4": "video/mp4"
    case "zip": "application/zip"
    case "tar": "application/x-tar"
    case "json": "application/json"
    case "txt": "text/plain"
    default: "application/octet-stream"
    }
}

/// A file name extension for a content type (for data: URIs, which carry no name).
func fileExtension(forContentType type: String) -> String {
    switch type.lowercased().split(separator: ";").first.map({ String($0).trimmingCharacters(in: .whitespaces) }) ?? "" {
    case "image/png": "png"
    case "image/jpeg", "image/jpg": "jpg"
    case "image/webp": "webp"
    case "audio/mpeg", "audio/mp3": "mp3"
    case "audio/wav", "audio/x-wav", "audio/wave": "wav"
    case "audio/flac": "flac"
    case "video/mp4": "mp4"
    case "application/zip": "zip"
    default: "bin"
    }
}

/// MD5, for the Files API's `etag` and `checksums.md5` (RFC 1321).
enum MD5 {
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]
    private static let constants: [UInt32] = (0..<64).map { UInt32(truncatingIfNeeded: Int64(abs(sin(Double($0 + 1))) * 4_294_967_296)) }

    static func hex(_ data: Data) -> String {
        var message = [UInt8](data)
        let bitLength = UInt64(message.count) &* 8
        message.append(0x80)
        while message.count % 64 != 56 { message.append(0) }
        for shift in stride(from: 0, to: 64, by: 8) { message.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }

        var a0: UInt32 = 0x6745_2301, b0: UInt32 = 0xefcd_ab89, c0: UInt32 = 0x98ba_dcfe, d0: UInt32 = 0x1032_5476
        var words = [UInt32](repeating: 0, count: 16)
        for chunk in stride(from: 0, to: message.count, by: 64) {
            for i in 0..<16 {
                let base = chunk + i * 4
                words[i] = UInt32(message[base]) | UInt32(message[base + 1]) << 8 | UInt32(message[base + 2]) << 16 | UInt32(message[base + 3]) << 24
            }
            var a = a0, b = b0, c = c0, d = d0
            for i in 0..<64 {
                var f: UInt32
                let g: Int
                switch i {
                case 0..<16: f = (b & c) | (~b & d); g = i
                case 16..<32: f = (d & b) | (~d & c); g = (5 * i + 1) % 16
                case 32..<48: f = b ^ c ^ d; g = (3 * i + 5) % 16
                default: f = c ^ (b | ~d); g = (7 * i) % 16
                }
                f = f &+ a &+ constants[i] &+ words[g]
                a = d
                d = c
                c = b
                b = b &+ (f << shifts[i] | f >> (32 - shifts[i]))
            }
            a0 = a0 &+ a
            b0 = b0 &+ b
            c0 = c0 &+ c
            d0 = d0 &+ d
        }
        var digest: [UInt8] = []
        for word in [a0, b0, c0, d0] {
            for shift in stride(from: 0, to: 32, by: 8) { digest.append(UInt8(truncatingIfNeeded: word >> UInt32(shift))) }
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
