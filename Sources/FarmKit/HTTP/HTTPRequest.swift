import Foundation

/// One HTTP request for `HTTPClient`.
public struct HTTPRequest: Sendable {
    /// `GET`, `POST`, `HEAD`, `DELETE`, … (an HTTP token).
    public var method: String
    /// An `http` or `https` URL.
    public var url: URL
    /// Sent in order. Values must not contain line breaks; an empty value sends an empty header.
    public var headers: [(name: String, value: String)]
    public var body: HTTPBody
    /// The whole transfer, connecting included.
    public var timeout: Duration
    /// Connecting (name lookup, TCP and TLS handshakes).
    public var connectTimeout: Duration = .seconds(10)
    /// Redirects followed; 0 returns a redirect response as it is.
    public var maxRedirects: Int = 0
    /// Limit on a buffered body (`send`); nil for none. `download` takes its own limit.
    public var maxResponseBytes: Int64? = 16 << 20
    /// Whether sending the request twice is harmless. When false (creating a paid prediction) the
    /// request never rides a pooled connection, on which libcurl would silently send it again if
    /// the connection turned out to be dead.
    public var mayRepeat = true
    /// Sign the request with AWS Signature Version 4 (libcurl's own signer), for S3-compatible storage.
    public var awsSigning: AWSSigning?

    public init(
        method: String = "GET", url: URL, headers: [(name: String, value: String)] = [], body: HTTPBody = .none,
        timeout: Duration = .seconds(60)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }
}

/// How to sign a request with AWS SigV4. Never printed: `HTTPRequest` shows no credentials.
public struct AWSSigning: Sendable {
    /// libcurl's provider string, `aws:amz:REGION:SERVICE`.
    public let provider: String
    let accessKey: String
    let secretKey: String

    public init(region: String, service: String, accessKey: String, secretKey: String) {
        provider = "aws:amz:\(region):\(service)"
        self.accessKey = accessKey
        self.secretKey = secretKey
    }
}

/// What a request sends after its headers.
public enum HTTPBody: Sendable {
    case none
    case data(Data, contentType: String)
    /// Serialised compact, sent as `application/json`.
    case json(JSON)
    /// Streamed from disk with a known length; memory does not grow with the file's size.
    case file(URL, contentType: String)
    /// `multipart/form-data`, file parts streamed from disk.
    case multipart([MultipartPart])
}

/// One field of a `multipart/form-data` body.
public struct MultipartPart: Sendable {
    enum Content: Sendable {
        case text(String)
        case file(URL, filename: String, contentType: String)
    }

    let name: String
    let content: Content

    /// A text field.
    public init(name: String, value: String) {
        self.name = name
        content = .text(value)
    }

    /// A file field, read from disk while sending.
    public init(name: String, file: URL, filename: String, contentType: String) {
        self.name = name
        content = .file(file, filename: filename, contentType: contentType)
    }
}

extension HTTPBody {
    /// Whether there is a body to send.
    var isPresent: Bool {
        if case .none = self { false } else { true }
    }
}

extension HTTPRequest: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// `METHOD url [header names]`, the URL redacted and header values left out: safe to log.
    public var description: String {
        "\(method) \(URLRedaction.redact(url))" + (headers.isEmpty ? "" : " [\(headers.map(\.name).joined(separator: ", "))]")
    }

    public var debugDescription: String { description }

    /// Keeps `dump` and reflection from printing header values.
    public var customMirror: Mirror { Mirror(self, children: ["description": description], displayStyle: .struct) }
}
