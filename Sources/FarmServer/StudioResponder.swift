import FarmKit
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

/// Every request of the studio: security checks first (Host, token, same-origin for changes),
/// then the route. Errors answer `{"error": …, "hint": …}` with a fitting status.
struct StudioResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let configuration: StudioServer.Configuration
    let service: RenderService
    let store: Store
    let queue: RenderQueue
    let uploads: UploadFolder
    let port: BoundPort
    let files = FileIO()

    static let tokenCookie = "farm_studio_token"
    static let studioHeader = HTTPField.Name("X-Farm-Studio")!

    func respond(to request: Request, context: Context) async throws -> Response {
        var response: Response
        do {
            response = try await handle(request, context: context)
        } catch let error as StudioError {
            response = error.response
        } catch let error as any FarmError {
            response = StudioError(.badRequest, error.message, hint: error.hint).response
        } catch {
            response = StudioError(.internalServerError, "the studio failed: \(error)", hint: "see the farm serve output").response
        }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        response.headers[.contentSecurityPolicy] =
            "default-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return request.method == .head ? response.createHeadResponse() : response
    }

    private func handle(_ request: Request, context: Context) async throws -> Response {
        let authority = try checkHost(request)
        let path = try Self.segments(request.uri.path)
        if let token = configuration.token {
            if request.method == .get, path.isEmpty, let given = request.uri.queryParameters["token"].map(String.init) {
                guard Self.equal(given, token) else { throw StudioError(.unauthorized, "wrong studio token", hint: Self.tokenHint) }
                var response = Response(status: .seeOther)
                response.headers[.location] = "/"
                response.headers[.setCookie] = "\(Self.tokenCookie)=\(token); Path=/; HttpOnly; SameSite=Strict"
                return response
            }
            guard let given = Self.presentedToken(request), Self.equal(given, token) else {
                throw StudioError(.unauthorized, "this studio needs its token", hint: Self.tokenHint)
            }
        }
        guard let route = Route(path) else {
            throw StudioError(.notFound, "no such page or API: \(request.uri.path)", hint: "the API is described at /openapi.json")
        }
        let method = request.method == .head ? .get : request.method
        guard route.methods.contains(method) else {
            var error = StudioError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.uri.path)",
                                    hint: "use \(route.methods.map(\.rawValue).joined(separator: " or "))")
            error.headers[.allow] = route.methods.map(\.rawValue).joined(separator: ", ")
            throw error
        }
        if method != .get { try checkSameOrigin(request, authority: authority) }
        return try await RouteHandler(responder: self, request: request, context: context).handle(route)
    }

    // MARK: - Security

    /// The request's Host must name this server (defeats DNS rebinding); returns it.
    private func checkHost(_ request: Request) throws -> String {
        let authority = (request.head.authority ?? "").lowercased()
        let host = configuration.host.contains(":") ? "[\(configuration.host.lowercased())]" : configuration.host.lowercased()
        if ["0.0.0.0", "[::]"].contains(host) { return authority }
        var names = [host]
        if StudioServer.isLoopback(configuration.host) { names += ["127.0.0.1", "localhost", "[::1]"] }
        guard names.contains(where: { authority == "\($0):\(port.value)" }) else {
            throw StudioError(.misdirectedRequest, "this studio does not answer for host \"\(authority)\"",
                              hint: "open the address farm serve printed, http://\(host):\(port.value)/")
        }
        return authority
    }

    /// Changes must come from the studio's own page (or farm): the custom header cannot be sent
    /// cross-site without a CORS preflight, which the studio never grants; a browser's Origin and
    /// Sec-Fetch-Site, when sent, must say same origin.
    private func checkSameOrigin(_ request: Request, authority: String) throws {
        let hint = "changes are accepted only from the studio page itself (or farm), with the X-Farm-Studio: 1 header"
        if let origin = request.headers[.origin], origin.lowercased() != "http://\(authority)" {
            throw StudioError(.forbidden, "cross-origin request from \(origin) refused", hint: hint)
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            throw StudioError(.forbidden, "cross-site request (\(site)) refused", hint: hint)
        }
        guard request.headers[Self.studioHeader] == "1" else {
            throw StudioError(.forbidden, "the X-Farm-Studio header is missing", hint: hint)
        }
    }

    static let tokenHint = "open the address farm serve printed (it ends in ?token=…), or send Authorization: Bearer TOKEN"

    private static func presentedToken(_ request: Request) -> String? {
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            return String(authorization.dropFirst("Bearer ".count))
        }
        for cookie in request.headers[values: .cookie].flatMap({ $0.split(separator: ";") }) {
            let pair = cookie.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0] == tokenCookie { return String(pair[1]) }
        }
        return nil
    }

    /// Compares in time independent of where the strings differ.
    private static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The path's segments, percent-decoded; a segment that is empty, `.`, `..` or holds a slash,
    /// backslash or NUL once decoded is refused, so no path can climb out of anything.
    static func segments(_ path: String) throws -> [String] {
        let raw = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        if raw.count == 1, raw.first == "" { return [] }
        return try raw.map { part in
            guard let decoded = part.removingPercentEncoding, !decoded.isEmpty, decoded != ".", decoded != "..",
                  !decoded.contains(where: { $0 == "/" || $0 == "\\" || $0 == "\0" })
            else { throw StudioError(.badRequest, "bad path \(path)", hint: "paths name API resources; see /openapi.json") }
            return decoded
        }
    }
}

/// An answer with a status, an error message and a hint.
struct StudioError: Error {
    let status: HTTPResponse.Status
    let message: String
    let hint: String?
    var headers = HTTPFields()

    init(_ status: HTTPResponse.Status, _ message: String, hint: String?) {
        self.status = status
        self.message = message
        self.hint = hint
    }

    var response: Response {
        var body = JSONObject()
        body["error"] = .string(message)
        body["hint"] = hint.map(JSON.string) ?? .null
        var response = Reply.json(.object(body), status: status)
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// Response builders.
enum Reply {
    static func json(_ value: JSON, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: value.compactString)))
    }

    static func text(_ text: String, contentType: String) -> Response {
        Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "no-cache"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Runs small blocking file work (probing, listing, renaming) on NIO's thread pool, never on the
/// cooperative one.
func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(work)
}
