import FarmKit
import Foundation

/// A problem talking to Replicate or with what it answered. Messages never contain the token.
public struct ReplicateError: FarmError {
    public let message: String
    public let hint: String?
    /// True for problems the user fixes (token, billing, model reference, input): exit code 2.
    public let isBadInput: Bool
    /// The HTTP status Replicate answered with, when there was one.
    public let status: Int?

    public init(_ message: String, hint: String? = nil, isBadInput: Bool = false, status: Int? = nil) {
        self.message = message
        self.hint = hint
        self.isBadInput = isBadInput
        self.status = status
    }

    public var exitCode: Int32 { isBadInput ? ExitStatus.badInput : ExitStatus.stageFailed }

    /// For answers farm cannot read: nothing was paid twice, and a re-run picks up where it stopped.
    static let oddAnswerHint = "check REPLICATE_BASE_URL (unset for the real API) and https://replicate.statuspage.io, then run the same command again: a prediction already made is found, not paid twice"

    /// The error for a non-2xx answer, from Replicate's problem-details body.
    static func from(status: Int, body: JSON?, what: String) -> ReplicateError {
        let fields = (body?["invalid_fields"]?.arrayValue ?? []).compactMap { field -> String? in
            guard let name = field["field"]?.stringValue else { return nil }
            return "\(name): \(field["description"]?.stringValue ?? "invalid")"
        }
        // A 422's detail lists its invalid fields again, and a 404's "Not found" repeats its title
        // and farm's own words: each is said once.
        var parts = [body?["title"]?.stringValue, fields.isEmpty ? body?["detail"]?.stringValue : nil]
            .compactMap { $0?.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        func plain(_ text: String) -> String { text.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: ". ")) }
        parts = parts.enumerated().filter { index, part in
            !parts[..<index].contains { plain($0) == plain(part) } && !(status == 404 && plain(part) == "not found")
        }.map(\.element)
        let suffix = parts.isEmpty ? "" : ": " + parts.joined(separator: ": ")
        switch status {
        case 401:
            return ReplicateError("Replicate rejected the API token (401)\(suffix)",
                                  hint: "check REPLICATE_API_TOKEN; tokens are at https://replicate.com/account/api-tokens",
                                  isBadInput: true, status: status)
        case 402:
            return ReplicateError("Replicate refused \(what): the account has no credit (402)\(suffix)",
                                  hint: "set up billing at https://replicate.com/account/billing", isBadInput: true, status: status)
        case 404:
            return ReplicateError("Replicate answered 404 (not found) for \(what)\(suffix)",
                                  hint: "check the model reference (owner/name:version) in the subject or profile", isBadInput: true, status: status)
        case 413:
            return ReplicateError("Replicate refused \(what) as too large (413)\(suffix)", isBadInput: true, status: status)
        case 422:
            let listed = fields.isEmpty ? "" : " — " + fields.joined(separator: "; ")
            return ReplicateError("Replicate refused \(what) (422)\(suffix)\(listed)",
                                  hint: "fix the named inputs in the profile or with --set; farm providers list shows each stage's parameters",
                                  isBadInput: true, status: status)
        case 429:
            return ReplicateError("Replicate kept rate-limiting \(what) (429)\(suffix)", hint: "wait a minute and run the same command again", status: status)
        default:
            return ReplicateError("Replicate answered \(status) to \(what)\(suffix)",
                                  hint: status >= 500 ? "Replicate had a problem; run the same command again to continue" : nil, status: status)
        }
    }
}
