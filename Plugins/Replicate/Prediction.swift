import FarmKit
import Foundation

/// A Replicate prediction (or training) as the API returns it; unknown fields are ignored and
/// missing ones tolerated, as the real API omits some on create.
public struct Prediction: Sendable {
    public enum Status: String, Sendable {
        case starting, processing, succeeded, failed, canceled, aborted

        public var isTerminal: Bool { self != .starting && self != .processing }
    }

    public let id: String
    public let model: String
    public let version: String?
    public let status: Status
    public let input: JSON
    public let output: JSON
    public let error: String?
    public let logs: String
    public let createdAt: Date?
    /// GPU/CPU seconds, excluding queueing (terminal predictions only).
    public let predictTime: Double?
    public let dataRemoved: Bool
    public let getURL: URL?
    public let webURL: String?

    /// Reads one prediction object (package access: the fuzz targets decode arbitrary answers).
    package init(json: JSON) throws {
        guard let id = json["id"]?.stringValue, let statusText = json["status"]?.stringValue else {
            throw ReplicateError("Replicate answered with something that is not a prediction: \(json.compactString.prefix(200))",
                                 hint: ReplicateError.oddAnswerHint)
        }
        guard let status = Status(rawValue: statusText) else {
            throw ReplicateError("prediction \(id) has an unknown status \"\(statusText)\"", hint: ReplicateError.oddAnswerHint)
        }
        self.id = id
        self.status = status
        model = json["model"]?.stringValue ?? ""
        version = json["version"]?.stringValue
        input = json["input"] ?? .null
        output = json["output"] ?? .null
        let errorText = json["error"]?.stringValue ?? json["error"].flatMap { $0.isNull ? nil : $0.compactString }
        error = errorText?.isEmpty == true ? nil : errorText
        logs = json["logs"]?.stringValue ?? ""
        createdAt = json["created_at"]?.stringValue.flatMap(Self.date)
        predictTime = json["metrics"]?["predict_time"]?.doubleValue
        dataRemoved = json["data_removed"]?.boolValue ?? false
        getURL = json["urls"]?["get"]?.stringValue.flatMap(URL.init(string:))
        webURL = json["urls"]?["web"]?.stringValue
    }

    /// Every URL in the output, in order: a string, a list, or an object's values.
    public var outputURLs: [URL] {
        func collect(_ value: JSON) -> [URL] {
            switch value {
            case .string(let text): text.hasPrefix("http://") || text.hasPrefix("https://") ? URL(string: text).map { [$0] } ?? [] : []
            case .array(let items): items.flatMap(collect)
            case .object(let object): object.flatMap { collect($0.value) }
            default: []
            }
        }
        return collect(output)
    }

    /// The last non-empty lines of the logs.
    public func logTail(_ count: Int) -> [String] {
        logs.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.suffix(count).map { $0 }
    }

    /// RFC 3339 with 0–9 fractional digits, as Replicate writes them. The fraction is digits
    /// followed by the zone: read as any number, ".5e400" made the date infinite.
    static func date(_ text: String) -> Date? {
        var text = text
        var fraction = 0.0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { ("0"..."9").contains($0) }
            let zone = text[digits.endIndex...].first
            guard !digits.isEmpty, let zone, "Zz+-".contains(zone), let value = Double("0." + digits) else { return nil }
            fraction = value
            text.removeSubrange(dot..<digits.endIndex)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text).map { $0.addingTimeInterval(fraction) }
    }
}
