import FarmKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A response before it goes on the wire (where a fault may still cut it short).
struct Reply: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: Data

    init(status: Int, headers: [(String, String)] = [], body: Data = Data()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    static func json(_ status: Int, _ value: JSON, contentType: String = "application/json") -> Reply {
        Reply(status: status, headers: [("Content-Type", contentType)], body: Data(value.compactString.utf8))
    }

    /// An error in Replicate's problem-details shape: `{"title":…,"detail":…,"status":…}` (title
    /// and status left out where the real body has none).
    static func problem(_ status: Int, title: String?, detail: String, includeStatus: Bool = true, extra: [(String, JSON)] = []) -> Reply {
        var object = JSONObject()
        if let title { object["title"] = .string(title) }
        object["detail"] = .string(detail)
        if includeStatus { object["status"] = .integer(Int64(status)) }
        for (key, value) in extra { object[key] = value }
        return .json(status, .object(object), contentType: "application/problem+json")
    }

    static func notFound(_ detail: String = "Not found.") -> Reply {
        .problem(404, title: "Not found", detail: detail)
    }

    static func badRequest(_ detail: String) -> Reply {
        .problem(400, title: "Bad request", detail: detail)
    }

    static func unauthenticated() -> Reply {
        .problem(401, title: "Unauthenticated", detail: "You did not pass a valid authentication token")
    }

    static func billingRequired() -> Reply {
        .problem(
            402, title: "Billing required",
            detail: "You need to set up billing to run this model. Go to https://replicate.com/account/billing#billing to set it up. If you have recently set up billing, please wait a few minutes before trying again.")
    }

    static func invalidVersion() -> Reply {
        .problem(
            422, title: "Invalid version or not permitted",
            detail: "The specified version does not exist (or perhaps you don't have permission to use it?)")
    }

    /// 422 with `invalid_fields`, as the real API answers a body that fails its JSON schema.
    static func validationFailed(_ problems: [InvalidField]) -> Reply {
        let detail = problems.map { "- \($0.field): \($0.description)\n" }.joined()
        return .problem(
            422, title: "Input validation failed", detail: detail, extra: [("invalid_fields", .array(problems.map(\.json)))])
    }

    static func throttled(retryAfter seconds: Int) -> Reply {
        var reply = Reply.problem(
            429, title: "Request was throttled.", detail: "Request was throttled. Your rate limit resets in ~\(seconds)s.",
            extra: [("retry_after", .integer(Int64(seconds)))])
        reply.headers.append(("Retry-After", "\(seconds)"))
        return reply
    }

    static func serverError(_ status: Int) -> Reply {
        .problem(status, title: reason(status), detail: "The server had an error while processing your request. Please try again.")
    }

    static func methodNotAllowed(_ method: String, allowed: [String]) -> Reply {
        var reply = Reply.problem(405, title: "Method not allowed", detail: "Method \"\(method)\" not allowed.")
        reply.headers.append(("Allow", allowed.joined(separator: ", ")))
        return reply
    }

    /// The Hummingbird response; `truncate` sends the full Content-Length but only half the body
    /// and then closes `channel`.
    func response(truncatingOn channel: (any Channel)?) -> Response {
        var fields = HTTPFields()
        for (name, value) in headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: status, reasonPhrase: Self.reason(status))
        guard let channel else {
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
        }
        let body = self.body
        fields[.contentLength] = "\(body.count)"
        return Response(status: status, headers: fields, body: ResponseBody(contentLength: body.count) { writer in
            try await writer.write(ByteBuffer(bytes: body.prefix(body.count / 2)))
            // Let the bytes reach the socket before the connection goes.
            try? await Task.sleep(for: .milliseconds(100))
            channel.close(promise: nil)
            throw ConnectionDropped()
        })
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 402: "Payment Required"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 413: "Content Too Large"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status \(status)"
        }
    }
}

/// Thrown after a fault closed the connection on purpose.
struct ConnectionDropped: Error {}
