import Foundation

/// Why an HTTP transfer failed. URLs in these errors are redacted (no user info, no secret-looking
/// query values) and no error ever carries request headers.
public enum HTTPError: FarmError, Sendable {
    /// The request surely never reached the server (name lookup, refused, connect timeout): safe to
    /// retry even a non-idempotent request.
    case connectFailed(url: String, detail: String)
    /// The request was (or may have been) sent but no complete answer came back.
    case sendFailed(url: String, detail: String)
    case timedOut(url: String, seconds: Double)
    case tooLarge(url: String, limit: Int64)
    /// A non-2xx answer: from `download`, and from a retrying `send` whose attempts ran out.
    case status(code: Int, url: String, body: String)
    case tls(url: String, detail: String)
    case invalidResponse(url: String, detail: String)
    /// The request could not be made as given (bad URL scheme, method or header); nothing was sent.
    case invalidRequest(url: String, detail: String)
    /// A local file (upload source or download destination) could not be used, before or during
    /// the transfer.
    case file(path: String, detail: String)
    /// A redirect that would cross between this machine (loopback) and others, refused before
    /// connecting to `target`.
    case redirectRefused(url: String, target: String, toLoopback: Bool)
    /// A retrying `send` gave up; `last` is the final attempt's error.
    indirect case retriesExhausted(method: String, url: String, attempts: Int, seconds: Double, last: HTTPError)

    /// Whether the server surely never saw the request, so repeating it cannot do anything twice.
    public var isSurelyNotSent: Bool {
        switch self {
        case .connectFailed, .tls, .invalidRequest: true
        case .retriesExhausted(_, _, _, _, let last): last.isSurelyNotSent
        case .sendFailed, .timedOut, .tooLarge, .status, .invalidResponse, .redirectRefused, .file: false
        }
    }

    /// The HTTP status of a `.status` error, also inside `.retriesExhausted`.
    public var statusCode: Int? {
        switch self {
        case .status(let code, _, _): code
        case .retriesExhausted(_, _, _, _, let last): last.statusCode
        default: nil
        }
    }

    public var message: String {
        switch self {
        case .connectFailed(let url, let detail): "could not reach \(url): \(detail)"
        case .sendFailed(let url, let detail): "request to \(url) failed after it was sent: \(detail)"
        case .timedOut(let url, let seconds): "request to \(url) timed out after \(Self.format(seconds)) s"
        case .tooLarge(let url, let limit): "response from \(url) is larger than the limit of \(Self.format(bytes: limit))"
        case .status(let code, let url, let body): "\(url) answered HTTP \(code)" + (body.isEmpty ? "" : ": \(body)")
        case .tls(let url, let detail): "TLS failed for \(url): \(detail)"
        case .invalidResponse(let url, let detail): "invalid response from \(url): \(detail)"
        case .invalidRequest(let url, let detail): "invalid request for \(url): \(detail)"
        case .file(let path, let detail): "\(path): \(detail)"
        case .redirectRefused(let url, let target, let toLoopback):
            "refused a redirect from \(url) to \(target): it leads from "
                + (toLoopback ? "another machine to this one (a loopback address)" : "this machine (a loopback address) to another one")
        case .retriesExhausted(let method, let url, let attempts, let seconds, let last):
            "\(method) \(url) failed after \(attempts) attempt\(attempts == 1 ? "" : "s") over \(Self.format(seconds)) s: "
                + Self.summary(of: last)
        }
    }

    public var hint: String? {
        switch self {
        case .connectFailed: "check the network connection and that the server is reachable"
        case .sendFailed: "the server may or may not have acted on the request"
        case .timedOut: "the server or the network is slow; try again later"
        case .tooLarge: "the server sent far more than such an answer can be; check the URL (or REPLICATE_BASE_URL)"
        case .status(let code, _, _):
            code == 429 ? "rate limited; wait a moment and try again"
                : code >= 500 ? "the server had a problem; try again later" : "check the URL"
        case .tls: "check the system clock and the CA certificates (ca-certificates)"
        case .invalidResponse: "the server did not answer in HTTP; check the URL (or REPLICATE_BASE_URL)"
        case .invalidRequest: "check the URL"
        case .file: "check the folder's free space and permissions"
        case .redirectRefused: "farm follows no redirect between this machine and others; check the URL (or REPLICATE_BASE_URL)"
        case .retriesExhausted(_, _, _, _, let last): last.hint
        }
    }

    public var exitCode: Int32 { ExitStatus.stageFailed }

    private static func summary(of last: HTTPError) -> String {
        if case .status(let code, _, let body) = last {
            return "last status \(code)" + (body.isEmpty ? "" : ": \(body)")
        }
        return "last error: \(last.message)"
    }

    private static func format(_ seconds: Double) -> String { String(format: "%.1f", seconds) }

    private static func format(bytes: Int64) -> String {
        bytes >= 1 << 20 && bytes % (1 << 20) == 0 ? "\(bytes >> 20) MiB" : "\(bytes) bytes"
    }
}

/// Makes URLs safe to show: drops user info and fragments, and hides the values of query
/// parameters whose names look secret.
public enum URLRedaction {
    private static let secretWords = ["token", "secret", "key", "sig", "password", "passwd", "auth", "credential", "session", "code"]

    public static func redact(_ url: URL) -> String { redact(url.absoluteString) }

    public static func redact(_ string: String) -> String {
        guard var components = URLComponents(string: string) else { return "<unparseable URL>" }
        components.user = nil
        components.password = nil
        components.fragment = nil
        if let items = components.percentEncodedQueryItems {
            components.percentEncodedQueryItems = items.map { item in
                let name = item.name.lowercased()
                guard item.value != nil, secretWords.contains(where: name.contains) else { return item }
                return URLQueryItem(name: item.name, value: "REDACTED")
            }
        }
        return components.string ?? "<unparseable URL>"
    }
}
