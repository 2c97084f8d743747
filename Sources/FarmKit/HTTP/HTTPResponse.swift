import Foundation

/// A complete HTTP response: any status, 2xx or not.
public struct HTTPResponse: Sendable {
    public let status: Int
    /// Lowercased names; when a header repeats, the last value wins.
    public let headers: [String: String]
    /// The body; empty for downloads (it went to the file).
    public let body: Data
    /// The final URL, after any redirects.
    public let url: URL

    public init(status: Int, headers: [String: String], body: Data, url: URL) {
        self.status = status
        self.headers = headers
        self.body = body
        self.url = url
    }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// The body parsed as JSON; an error names the (redacted) URL.
    public func json() throws -> JSON {
        let source = URLRedaction.redact(url)
        guard let text = String(validating: body, as: UTF8.self) else {
            throw HTTPError.invalidResponse(url: source, detail: "the body is not UTF-8 text")
        }
        do {
            return try JSON.parse(text, source: source)
        } catch {
            throw HTTPError.invalidResponse(url: source, detail: "the body is not JSON (\(error.line):\(error.column): \(error.message))")
        }
    }
}
