import Foundation

/// An S3-compatible bucket (AWS S3, Cloudflare R2, MinIO, …) where farm publishes voice model zips
/// as public objects: the RVC model downloads its voice from a plain URL, without credentials, and
/// names the voice after the URL's last path segment.
///
/// Configured from the environment: `FARM_S3_BUCKET` (publishing is off without it),
/// `FARM_S3_ENDPOINT` (default `https://s3.REGION.amazonaws.com`; path-style URLs),
/// `FARM_S3_REGION` (default `us-east-1`; R2 takes `auto`), `FARM_S3_PREFIX` (default `farm/voices/`),
/// `FARM_S3_PUBLIC_URL` (the public base URL of the bucket when it differs from the endpoint, such
/// as an R2 `r2.dev` domain), `FARM_S3_ACL` (default `public-read`; `none` for buckets without
/// ACLs whose policy makes the prefix public), and credentials `FARM_S3_ACCESS_KEY_ID` /
/// `FARM_S3_SECRET_ACCESS_KEY` or `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`.
public struct S3Bucket: Sendable {
    public let endpoint: URL
    public let region: String
    public let bucket: String
    public let prefix: String
    public let publicBase: URL?
    public let acl: String?
    private let accessKey: String
    private let secretKey: String

    /// The variables that configure publishing, for hints.
    public static let setupHint = "set FARM_S3_BUCKET (and FARM_S3_ENDPOINT, FARM_S3_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; see the README)"

    /// The bucket the environment configures; nil when `FARM_S3_BUCKET` is unset.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> S3Bucket? {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let bucket = value("FARM_S3_BUCKET") else { return nil }
        let region = value("FARM_S3_REGION") ?? "us-east-1"
        let endpointText = value("FARM_S3_ENDPOINT") ?? "https://s3.\(region).amazonaws.com"
        guard let endpoint = URL(string: endpointText), ["http", "https"].contains(endpoint.scheme ?? ""), endpoint.host != nil else {
            throw UsageError("FARM_S3_ENDPOINT \(endpointText) is not an http(s) URL", hint: "e.g. https://ACCOUNT.r2.cloudflarestorage.com")
        }
        var publicBase: URL?
        if let text = value("FARM_S3_PUBLIC_URL") {
            guard let url = URL(string: text), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
                throw UsageError("FARM_S3_PUBLIC_URL \(text) is not an http(s) URL", hint: "e.g. https://pub-1234.r2.dev")
            }
            publicBase = url
        }
        guard let accessKey = value("FARM_S3_ACCESS_KEY_ID") ?? value("AWS_ACCESS_KEY_ID"),
              let secretKey = value("FARM_S3_SECRET_ACCESS_KEY") ?? value("AWS_SECRET_ACCESS_KEY") else {
            throw UsageError("FARM_S3_BUCKET is set but the bucket's credentials are not",
                             hint: "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or FARM_S3_ACCESS_KEY_ID and FARM_S3_SECRET_ACCESS_KEY)")
        }
        var prefix = value("FARM_S3_PREFIX") ?? "farm/voices/"
        if !prefix.isEmpty, !prefix.hasSuffix("/") { prefix += "/" }
        let acl = value("FARM_S3_ACL") ?? "public-read"
        return S3Bucket(endpoint: endpoint, region: region, bucket: bucket, prefix: prefix, publicBase: publicBase,
                        acl: acl == "none" ? nil : acl, accessKey: accessKey, secretKey: secretKey)
    }

    /// Where the bucket is, without credentials: part of cache keys and messages.
    public var identity: String { "\(endpoint.absoluteString)|\(bucket)|\(prefix)|\(publicBase?.absoluteString ?? "")" }

    /// The object key for `name`.
    public func key(_ name: String) -> String { prefix + name }

    /// The path-style URL of an object at the endpoint (`ENDPOINT/BUCKET/KEY`).
    func objectURL(_ key: String) -> URL {
        var url = endpoint
        url.append(path: bucket)
        for part in key.split(separator: "/") { url.append(path: String(part)) }
        return url
    }

    /// The URL anyone can download the object from.
    public func publicURL(_ key: String) -> URL {
        guard var url = publicBase else { return objectURL(key) }
        for part in key.split(separator: "/") { url.append(path: String(part)) }
        return url
    }

    /// Uploads `file` (whose SHA-256 is `sha256`) as the public object `key`; returns its public URL.
    public func put(_ file: URL, sha256: String, key: String, contentType: String = "application/zip", http: HTTPClient) async throws -> URL {
        var headers: [(name: String, value: String)] = [(name: "x-amz-content-sha256", value: sha256)]
        if let acl { headers.append((name: "x-amz-acl", value: acl)) }
        var request = HTTPRequest(method: "PUT", url: objectURL(key), headers: headers, body: .file(file, contentType: contentType),
                                  timeout: .seconds(3600))
        request.awsSigning = AWSSigning(region: region, service: "s3", accessKey: accessKey, secretKey: secretKey)
        let response: HTTPResponse
        do {
            response = try await http.send(request, retrying: .idempotent)
        } catch {
            throw PublishFailure("cannot reach the bucket at \(endpoint.absoluteString): \(redact("\(error)"))",
                                 hint: "check FARM_S3_ENDPOINT and the network, then run the same command again")
        }
        guard (200..<300).contains(response.status) else {
            let body = String(decoding: response.body.prefix(600), as: UTF8.self)
            let code = Self.element("Code", in: body), detail = Self.element("Message", in: body)
            throw PublishFailure(
                "the bucket \(bucket) refused the upload of \(key) (HTTP \(response.status)\(code.map { " \($0)" } ?? "")\(detail.map { ": \(redact($0))" } ?? ""))",
                hint: response.status == 403
                    ? "check the credentials and that they may put objects (and set ACLs; FARM_S3_ACL=none for buckets without ACLs) in \(bucket)"
                    : "check FARM_S3_BUCKET, FARM_S3_REGION and FARM_S3_ENDPOINT; the zip is kept, so publishing again costs nothing")
        }
        return publicURL(key)
    }

    /// Checks that anyone can download `url` (a ranged GET with no credentials).
    public func checkPublic(_ url: URL, http: HTTPClient) async throws {
        var request = HTTPRequest(url: url, headers: [(name: "Range", value: "bytes=0-3")], timeout: .seconds(30))
        request.maxRedirects = 5
        let response = try? await http.send(request, retrying: .idempotent)
        guard let status = response?.status, (200..<300).contains(status) else {
            throw PublishFailure(
                "the published voice model is not publicly readable at \(url.absoluteString) (\(response.map { "HTTP \($0.status)" } ?? "no answer"))",
                hint: "make \(prefix)* public in the bucket's policy (or set FARM_S3_PUBLIC_URL to its public domain), then farm subjects publish NAME")
        }
    }

    /// `text` with the credentials blanked out (S3 errors can quote the access key).
    private func redact(_ text: String) -> String {
        text.replacingOccurrences(of: accessKey, with: "[access key]").replacingOccurrences(of: secretKey, with: "[secret]")
    }

    private static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else { return nil }
        return String(xml[start.upperBound..<end.lowerBound])
    }
}

/// Publishing a voice model failed.
public struct PublishFailure: FarmError {
    public let message: String
    public let hint: String?
    public var exitCode: Int32 { ExitStatus.stageFailed }

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
