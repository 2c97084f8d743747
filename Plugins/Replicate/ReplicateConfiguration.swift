import FarmKit
import Foundation

/// Where the Replicate API is and how to authenticate: `REPLICATE_API_TOKEN` (or a token file with
/// 0600 permissions) and `REPLICATE_BASE_URL`; the account's rate limits when they are not
/// Replicate's defaults (`FARM_REPLICATE_CREATES_PER_MINUTE`, `FARM_REPLICATE_REQUESTS_PER_MINUTE`).
public struct ReplicateConfiguration: Sendable {
    /// The API root, always ending in `/v1`.
    public var baseURL: URL
    /// Seconds a create request asks Replicate to hold the answer (`Prefer: wait=N`, 1–60). Short,
    /// so the prediction id is journalled soon and a crash cannot lose track of a paid prediction.
    public var preferWaitSeconds: Int = 5
    /// Polls come at `pollFraction` of the time waited so far, between these bounds: a prediction's
    /// end is noticed within about 0.5 % of its time (and at most 5 s late), with at most 4 polls a
    /// second per prediction.
    public var minPollInterval: Duration = .milliseconds(250)
    public var maxPollInterval: Duration = .seconds(5)
    public var pollFraction = 0.005
    /// How far this machine's clock may be off Replicate's, in seconds: a prediction looked up after
    /// a lost create must have been made no earlier than this before the create was sent.
    public var clockSkew: TimeInterval = 15
    /// Largest output file farm downloads.
    public var maxOutputBytes: Int64 = 4 << 30
    /// The account's rate limits, a minute's worth each: prediction and training creates, and every
    /// other request. Farm keeps under them, so a batch never draws a 429.
    public var createsPerMinute = 600
    public var requestsPerMinute = 3000
    /// A setting from the environment that farm cannot use; `check()` throws it.
    public private(set) var settingProblem: ReplicateError?
    private let tokenValue: String?
    private let tokenFile: URL

    public init(baseURL: URL, token: String?, tokenFile: URL) {
        self.baseURL = baseURL
        self.tokenValue = token
        self.tokenFile = tokenFile
    }

    /// Reads `REPLICATE_API_TOKEN` and `REPLICATE_BASE_URL` (with or without a trailing `/v1`;
    /// default https://api.replicate.com/v1).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> ReplicateConfiguration {
        let base = environment["REPLICATE_BASE_URL"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://api.replicate.com/v1"
        let token = environment["REPLICATE_API_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let file = UserFolders.config(environment: environment).appendingPathComponent("replicate-token")
        var configuration = ReplicateConfiguration(baseURL: normalizedBase(base), token: token, tokenFile: file)
        let limits: [(String, WritableKeyPath<ReplicateConfiguration, Int>)] = [
            ("FARM_REPLICATE_CREATES_PER_MINUTE", \.createsPerMinute), ("FARM_REPLICATE_REQUESTS_PER_MINUTE", \.requestsPerMinute),
        ]
        for (name, limit) in limits {
            guard let text = environment[name], !text.isEmpty else { continue }
            if let value = Int(text), (1...1_000_000).contains(value) {
                configuration[keyPath: limit] = value
            } else {
                configuration.settingProblem = ReplicateError(
                    "\(name) is \"\(text)\", not a number of requests a minute",
                    hint: "set it to your account's limit, a whole number like 600, or unset it for Replicate's defaults", isBadInput: true)
            }
        }
        return configuration
    }

    /// Throws a problem with the settings or the token (what every Replicate stage checks first).
    public func check() throws {
        if let settingProblem { throw settingProblem }
        _ = try token()
    }

    /// `https://host/v1` from `https://host`, `https://host/` or `https://host/v1/`.
    static func normalizedBase(_ text: String) -> URL {
        var trimmed = text
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        if !trimmed.hasSuffix("/v1") { trimmed += "/v1" }
        return URL(string: trimmed) ?? URL(string: "https://api.replicate.com/v1")!
    }

    /// Whether a token is given at all: in the environment, or as a file (usable or not).
    public var hasToken: Bool { tokenValue != nil || FileManager.default.fileExists(atPath: tokenFile.path) }

    /// The API token; a clear error when there is none or its file is readable by others.
    /// The token itself never appears in any message.
    public func token() throws -> String {
        if let tokenValue { return tokenValue }
        guard FileManager.default.fileExists(atPath: tokenFile.path) else {
            throw ReplicateError(
                "no Replicate API token: REPLICATE_API_TOKEN is not set",
                hint: "export REPLICATE_API_TOKEN=… (from https://replicate.com/account/api-tokens), or put it in \(tokenFile.path) with chmod 600; for a local render use --profile offline",
                isBadInput: true)
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: tokenFile.path)
        let mode = (attributes?[.posixPermissions] as? NSNumber)?.intValue ?? 0
        guard mode & 0o077 == 0 else {
            throw ReplicateError("refusing to read \(tokenFile.path): other users can read it (mode \(String(mode, radix: 8)))",
                                 hint: "chmod 600 \(tokenFile.path)", isBadInput: true)
        }
        guard let text = try? String(contentsOf: tokenFile, encoding: .utf8),
              case let token = text.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty
        else {
            throw ReplicateError("\(tokenFile.path) holds no token", hint: "write the token on one line", isBadInput: true)
        }
        return token
    }
}
