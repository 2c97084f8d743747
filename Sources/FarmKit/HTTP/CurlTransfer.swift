import CCurl
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One transfer on the curl thread: its easy handle, what it sends and what it received so far.
///
/// Created, driven and finished on the curl thread only. libcurl's callbacks reach it through an
/// unretained pointer; `CurlLoop` keeps it alive until the transfer leaves the multi handle.
final class CurlTransfer {
    /// Why the transfer was stopped from one of our callbacks.
    private enum Stop {
        case tooLarge(Int64)
        case errorStatus
        case writeFailed(Int32)
        case readFailed(Int32)
        case redirectRefused(target: String, toLoopback: Bool)
    }

    let handle: TransferHandle
    let easy: UnsafeMutableRawPointer
    private let job: CurlJob
    private let shownURL: String
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var mime: OpaquePointer?
    private var upload: (fd: Int32, path: String)?
    private var output: (fd: Int32, temp: URL)?

    private var responseHeaders: [String: String] = [:]
    private var body = Data()
    private var errorBody = Data()
    private var received: Int64 = 0
    private var expected: Int64?
    private var sawBody = false
    /// A download answered with a non-2xx status: the body is kept for the error, not written.
    private var keepsErrorBody = false
    private var stop: Stop?
    private var lastProgress: ContinuousClock.Instant?
    /// Whether the server that gave the first answer is on this machine (a loopback address).
    private var originIsLoopback: Bool?

    private static let errorSnippetBytes = 1024

    private var request: HTTPRequest { job.request }

    init(job: CurlJob, handle: TransferHandle) {
        self.job = job
        self.handle = handle
        shownURL = URLRedaction.redact(job.request.url)
        guard let easy = curl_easy_init() else { preconditionFailure("curl_easy_init failed") }
        self.easy = easy
        errorBuffer = .allocate(capacity: ccurl_error_size())
        errorBuffer.initialize(to: 0)
    }

    // MARK: Setup

    /// Sets every option; throws (without sending anything) when the request cannot be made.
    func configure() throws(HTTPError) {
        try validate()
        let context = Unmanaged.passUnretained(self).toOpaque()
        try set(CURLOPT_URL, request.url.absoluteString)
        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_FOLLOWLOCATION, request.maxRedirects > 0 ? 1 : 0)
        try set(CURLOPT_MAXREDIRS, request.maxRedirects)
        // libcurl silently re-sends a request whose reused connection died before any answer; a
        // request that must not run twice gets a connection of its own.
        if !request.mayRepeat { try set(CURLOPT_FRESH_CONNECT, 1) }
        if let signing = request.awsSigning {
            try check(ccurl_setopt_aws_sigv4(easy, signing.provider))
            try set(CURLOPT_USERNAME, signing.accessKey)
            try set(CURLOPT_PASSWORD, signing.secretKey)
        }
        try set(CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout))
        try set(CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(request.connectTimeout))
        try set(CURLOPT_USERAGENT, job.userAgent)
        try check(ccurl_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        try check(ccurl_setopt_pointer(easy, CURLOPT_HEADERDATA, context))
        try check(ccurl_setopt_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            transfer.receiveHeader(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        })
        try check(ccurl_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, context))
        try check(ccurl_setopt_opensocket_callback(easy) { context, _, address in
            guard let context, let address else { return ccurl_socket_bad() }
            return Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue().openSocket(address)
        })
        try check(ccurl_setopt_pointer(easy, CURLOPT_WRITEDATA, context))
        try check(ccurl_setopt_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            guard let data, let context else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            return transfer.receiveBody(UnsafeRawBufferPointer(start: data, count: size * count))
        })
        if case .file(let destination, _, _) = job.sink {
            try set(CURLOPT_BUFFERSIZE, 256 << 10)
            try openOutput(next: destination)
        }
        try configureMethodAndBody(context: context)
        try configureHeaders()
    }

    private func validate() throws(HTTPError) {
        guard let scheme = request.url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw .invalidRequest(url: shownURL, detail: "only http and https URLs are supported")
        }
        guard !request.method.isEmpty, request.method.utf8.allSatisfy(Self.isTokenByte) else {
            throw .invalidRequest(url: shownURL, detail: "invalid HTTP method \"\(request.method)\"")
        }
        for header in request.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(Self.isTokenByte) else {
                throw .invalidRequest(url: shownURL, detail: "invalid header name \"\(header.name)\"")
            }
            guard !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
                throw .invalidRequest(url: shownURL, detail: "the value of header \(header.name) contains a line break")
            }
        }
        if request.method == "HEAD", request.body.isPresent {
            throw .invalidRequest(url: shownURL, detail: "a HEAD request cannot have a body")
        }
    }

    private func configureMethodAndBody(context: UnsafeMutableRawPointer) throws(HTTPError) {
        let method = request.method
        switch request.body {
        case .none:
            switch method {
            case "GET": return
            case "HEAD": return try set(CURLOPT_NOBODY, 1)
            case "POST": return try setPostFields(Data())
            default: return try set(CURLOPT_CUSTOMREQUEST, method)
            }
        case .data(let data, _):
            try setPostFields(data)
        case .json(let json):
            try setPostFields(Data(json.compactString.utf8))
        case .file(let url, _):
            try openUpload(url, context: context)
        case .multipart(let parts):
            try buildMultipart(parts)
        }
        if method != "POST" { try set(CURLOPT_CUSTOMREQUEST, method) }
    }

    private func setPostFields(_ data: Data) throws(HTTPError) {
        try check(ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(data.count)))
        // COPYPOSTFIELDS copies `POSTFIELDSIZE` bytes, so the buffer need not outlive this call.
        let code = data.isEmpty
            ? ccurl_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, "")
            : data.withUnsafeBytes { ccurl_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress!)) }
        try check(code)
    }

    private func openUpload(_ url: URL, context: UnsafeMutableRawPointer) throws(HTTPError) {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .file(path: url.path, detail: "cannot read: \(Self.describe(errno))") }
        upload = (fd, url.path)
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw .file(path: url.path, detail: "not a regular file")
        }
        try set(CURLOPT_POST, 1)
        try check(ccurl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(info.st_size)))
        try check(ccurl_setopt_pointer(easy, CURLOPT_READDATA, context))
        try check(ccurl_setopt_callback(easy, CURLOPT_READFUNCTION) { buffer, size, count, context in
            guard let buffer, let context else { return ccurl_readfunc_abort() }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            return transfer.readUpload(into: UnsafeMutableRawBufferPointer(start: buffer, count: size * count))
        })
        try check(ccurl_setopt_pointer(easy, CURLOPT_SEEKDATA, context))
        try check(ccurl_setopt_seek_callback(easy) { context, offset, origin in
            guard let context else { return ccurl_seekfunc_fail() }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
            guard let fd = transfer.upload?.fd, lseek(fd, off_t(offset), origin) >= 0 else { return ccurl_seekfunc_fail() }
            return ccurl_seekfunc_ok()
        })
    }

    private func buildMultipart(_ parts: [MultipartPart]) throws(HTTPError) {
        guard let mime = curl_mime_init(easy) else { throw .invalidRequest(url: shownURL, detail: "out of memory") }
        self.mime = mime
        for part in parts {
            guard let mimePart = curl_mime_addpart(mime) else { throw .invalidRequest(url: shownURL, detail: "out of memory") }
            try check(curl_mime_name(mimePart, part.name))
            switch part.content {
            case .text(let value):
                try check(curl_mime_data(mimePart, value, value.utf8.count))
            case .file(let url, let filename, let contentType):
                var info = stat()
                guard stat(url.path, &info) == 0 else { throw .file(path: url.path, detail: "cannot read: \(Self.describe(errno))") }
                guard (info.st_mode & S_IFMT) == S_IFREG, access(url.path, R_OK) == 0 else {
                    throw .file(path: url.path, detail: "not a readable regular file")
                }
                try check(curl_mime_filedata(mimePart, url.path))
                try check(curl_mime_filename(mimePart, filename))
                try check(curl_mime_type(mimePart, contentType))
            }
        }
        try check(ccurl_setopt_mime(easy, mime))
    }

    private func configureHeaders() throws(HTTPError) {
        var lines = request.headers.map { $0.value.isEmpty ? "\($0.name);" : "\($0.name): \($0.value)" }
        let contentType: String? = switch request.body {
        case .none, .multipart: nil
        case .data(_, let type), .file(_, let type): type
        case .json: "application/json"
        }
        if request.header("Content-Type") == nil {
            if let contentType {
                lines.append("Content-Type: \(contentType)")
            } else if request.method == "POST", !request.body.isPresent {
                lines.append("Content-Type:")  // not curl's default application/x-www-form-urlencoded
            }
        }
        if request.body.isPresent, request.header("Expect") == nil {
            lines.append("Expect:")  // no `100-continue` round trip before the body
        }
        for line in lines {
            guard let list = curl_slist_append(headerList, line) else {
                throw .invalidRequest(url: shownURL, detail: "out of memory")
            }
            headerList = list
        }
        if let headerList { try check(ccurl_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)) }
    }

    private func openOutput(next destination: URL) throws(HTTPError) {
        let temp = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).\(UInt32.random(in: .min ... .max)).part")
        let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw .file(path: destination.path, detail: "cannot create a file next to it: \(Self.describe(errno))")
        }
        output = (fd, temp)
    }

    // MARK: Callbacks (curl thread)

    /// Opens the socket curl asks for, unless it is for a redirect that crosses between this
    /// machine and others: from a loopback server to an outside address, or the other way. That
    /// is refused before connecting, so a hostile or compromised server cannot send farm (with
    /// what it sends along) to a third machine, or to local services.
    private func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        let sockaddr = UnsafeRawPointer(address) + MemoryLayout<curl_sockaddr>.offset(of: \.addr)!
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch address.pointee.family {
        case AF_INET: inet_ntop(AF_INET, sockaddr + MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!, &text, socklen_t(text.count))
        case AF_INET6: inet_ntop(AF_INET6, sockaddr + MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!, &text, socklen_t(text.count))
        default: return ccurl_socket_bad()
        }
        let shown = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if let originIsLoopback, originIsLoopback != Self.isLoopback(shown) {
            var url: UnsafeMutablePointer<CChar>?
            ccurl_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &url)
            let target = url.map { URLRedaction.redact(String(cString: $0)) } ?? shown
            stop = .redirectRefused(target: target.contains(shown) ? target : "\(target) (\(shown))", toLoopback: !originIsLoopback)
            return ccurl_socket_bad()
        }
        let fd = socket(address.pointee.family, address.pointee.socktype, address.pointee.protocol)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
    }

    /// Whether a numeric address is on this machine: 127.0.0.0/8, ::1 or ::ffff:127.x.x.x.
    static func isLoopback(_ address: String) -> Bool {
        let lowered = address.lowercased()
        return lowered == "::1" || lowered.hasPrefix("127.") || lowered.hasPrefix("::ffff:127.")
    }

    private func receiveHeader(_ bytes: UnsafeRawBufferPointer) {
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            if originIsLoopback == nil {
                var address: UnsafeMutablePointer<CChar>?
                ccurl_getinfo_string(easy, CURLINFO_PRIMARY_IP, &address)
                originIsLoopback = address.map { Self.isLoopback(String(cString: $0)) }
            }
            responseHeaders = [:]  // a new response (after a redirect or a 1xx)
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            responseHeaders[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
    }

    private func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        if !sawBody {
            sawBody = true
            var length: curl_off_t = -1
            ccurl_getinfo_off(easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length)
            expected = length >= 0 ? Int64(length) : nil
            if case .file = job.sink, !(200..<300).contains(responseCode) {
                keepsErrorBody = true
            } else if let limit = job.sink.limit, let expected, expected > limit {
                stop = .tooLarge(limit)
                return 0
            } else if case .memory = job.sink, let expected {
                body.reserveCapacity(Int(min(expected, 16 << 20)))
            }
        }
        if keepsErrorBody { return keepErrorBody(bytes) }
        received += Int64(bytes.count)
        if let limit = job.sink.limit, received > limit {
            stop = .tooLarge(limit)
            return 0
        }
        switch job.sink {
        case .memory:
            body.append(contentsOf: bytes)
        case .file(_, _, let progress):
            guard let fd = output?.fd else { return 0 }
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    stop = .writeFailed(errno)
                    return 0
                }
                offset += written
            }
            if let progress {
                let now = ContinuousClock.now
                if lastProgress.map({ now - $0 >= .milliseconds(100) }) ?? true {
                    lastProgress = now
                    progress(received, expected)
                }
            }
        }
        return bytes.count
    }

    /// Keeps the start of a non-2xx download's body for the error, then stops the transfer.
    private func keepErrorBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        errorBody.append(contentsOf: bytes.prefix(Self.errorSnippetBytes - errorBody.count))
        guard errorBody.count < Self.errorSnippetBytes else {
            stop = .errorStatus
            return 0
        }
        return bytes.count
    }

    private func readUpload(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        guard let fd = upload?.fd else { return ccurl_readfunc_abort() }
        while true {
            let count = read(fd, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR {
                stop = .readFailed(errno)
                return ccurl_readfunc_abort()
            }
        }
    }

    // MARK: Completion

    /// Called once curl is done with the transfer (it has left the multi handle).
    func complete(_ code: CURLcode) {
        finish(outcome(code))
    }

    /// Releases everything, places or removes the downloaded file, then resumes the caller.
    func finish(_ result: Result<HTTPResponse, any Error>) {
        var result = result
        curl_easy_cleanup(easy)
        if let mime { curl_mime_free(mime) }
        if let headerList { curl_slist_free_all(headerList) }
        errorBuffer.deallocate()
        if let upload { close(upload.fd) }
        if let output, case .file(let destination, _, let progress) = job.sink {
            let closed = close(output.fd) == 0 ? 0 : errno
            if case .success = result {
                if closed != 0 {
                    result = .failure(HTTPError.file(path: destination.path, detail: "cannot write: \(Self.describe(closed))"))
                } else if rename(output.temp.path, destination.path) != 0 {
                    result = .failure(HTTPError.file(path: destination.path, detail: "cannot move the download into place: \(Self.describe(errno))"))
                } else {
                    progress?(received, expected)
                }
            }
            if case .failure = result { unlink(output.temp.path) }
        }
        handle.finish(result)
    }

    private func outcome(_ code: CURLcode) -> Result<HTTPResponse, any Error> {
        if let stop {
            switch stop {
            case .tooLarge(let limit): return .failure(HTTPError.tooLarge(url: shownURL, limit: limit))
            case .errorStatus: return .failure(statusError())
            case .writeFailed(let error):
                return .failure(HTTPError.file(path: job.sink.destinationPath ?? "", detail: "cannot write: \(Self.describe(error))"))
            case .readFailed(let error):
                return .failure(HTTPError.file(path: upload?.path ?? "", detail: "cannot read: \(Self.describe(error))"))
            case .redirectRefused(let target, let toLoopback):
                return .failure(HTTPError.redirectRefused(url: shownURL, target: target, toLoopback: toLoopback))
            }
        }
        guard code == CURLE_OK else { return .failure(error(for: code)) }
        var finalURL: UnsafeMutablePointer<CChar>?
        ccurl_getinfo_string(easy, CURLINFO_EFFECTIVE_URL, &finalURL)
        let url = finalURL.flatMap { URL(string: String(cString: $0)) } ?? request.url
        if case .file = job.sink {
            guard (200..<300).contains(responseCode) else { return .failure(statusError()) }
            return .success(HTTPResponse(status: responseCode, headers: responseHeaders, body: Data(), url: url))
        }
        return .success(HTTPResponse(status: responseCode, headers: responseHeaders, body: body, url: url))
    }

    private func statusError() -> HTTPError {
        .status(code: responseCode, url: shownURL, body: request.snippet(of: errorBody))
    }

    /// Maps a curl failure, telling "surely never sent" apart from "maybe sent".
    private func error(for code: CURLcode) -> HTTPError {
        let detail = request.scrub(errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code)))
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT:
            return .connectFailed(url: shownURL, detail: detail)
        case CURLE_OPERATION_TIMEDOUT:
            var sent = 0
            ccurl_getinfo_long(easy, CURLINFO_REQUEST_SIZE, &sent)
            return sent == 0
                ? .connectFailed(url: shownURL, detail: "timed out before the request was sent: \(detail)")
                : .timedOut(url: shownURL, seconds: request.timeout.seconds)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH,
             CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE:
            return .tls(url: shownURL, detail: detail)
        case CURLE_TOO_MANY_REDIRECTS:
            return .invalidResponse(url: shownURL, detail: "more than \(request.maxRedirects) redirects")
        case CURLE_UNSUPPORTED_PROTOCOL:
            return .invalidResponse(url: shownURL, detail: "redirected to a URL that is not http or https")
        case CURLE_URL_MALFORMAT:
            return .invalidRequest(url: shownURL, detail: detail)
        case CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING:
            return .invalidResponse(url: shownURL, detail: detail)
        default:
            return .sendFailed(url: shownURL, detail: detail)
        }
    }

    private var responseCode: Int {
        var code = 0
        ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    // MARK: Helpers

    private func set(_ option: CURLoption, _ value: Int) throws(HTTPError) {
        try check(ccurl_setopt_long(easy, option, value))
    }

    private func set(_ option: CURLoption, _ value: String) throws(HTTPError) {
        try check(ccurl_setopt_string(easy, option, value))  // curl copies strings
    }

    private func check(_ code: CURLcode) throws(HTTPError) {
        guard code == CURLE_OK else {
            throw .invalidRequest(url: shownURL, detail: String(cString: curl_easy_strerror(code)))
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int((duration.seconds * 1000).rounded(.up)))
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func describe(_ error: Int32) -> String { String(cString: strerror(error)) }
}

extension ResponseSink {
    var limit: Int64? {
        switch self {
        case .memory(let limit), .file(_, let limit, _): limit
        }
    }

    var destinationPath: String? {
        if case .file(let url, _, _) = self { url.path } else { nil }
    }
}

extension HTTPRequest {
    /// Values of headers that carry credentials (and their tokens, for `Bearer …`), never to be shown.
    var secretValues: [String] {
        headers.flatMap { header -> [String] in
            let name = header.name.lowercased()
            let sensitive = ["authorization", "proxy-authorization", "cookie"].contains(name)
                || ["token", "secret", "key", "auth", "password", "session"].contains(where: name.contains)
            guard sensitive else { return [] }
            return [header.value] + header.value.split(separator: " ").map(String.init).filter { $0.count >= 8 }
        }
    }

    /// `text` with any secret header value replaced.
    func scrub(_ text: String) -> String {
        secretValues.filter { !$0.isEmpty }.reduce(text) { $0.replacingOccurrences(of: $1, with: "[redacted]") }
    }

    /// The start of a response body as one line of text for an error message, secrets removed.
    func snippet(of body: Data) -> String {
        let text = String(decoding: body.prefix(1024), as: UTF8.self)
        let line = text.split(whereSeparator: { $0.isWhitespace || $0.isNewline }).joined(separator: " ")
        let scrubbed = scrub(line)
        return scrubbed.count > 300 ? String(scrubbed.prefix(300)) + "…" : scrubbed
    }
}
