import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

@Suite(.loopbackServer) struct HTTPClientTests {
    let client = HTTPClient(userAgent: "farm-tests/1")
    var server: TestHTTPServer { HTTPTesting.server }
    let auth = (name: "Authorization", value: "Bearer \(HTTPTesting.secretToken)")

    @Test func getReturnsStatusHeadersAndBody() async throws {
        let response = try await client.send(HTTPRequest(url: server.url("/echo?x=1")))
        #expect(response.status == 200)
        #expect(response.isSuccess)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.headers["content-type"] == "application/json")
        let echo = try response.json()
        #expect(echo["method"] == "GET")
        #expect(echo["path"] == "/echo")
        #expect(echo["query"] == "x=1")
        #expect(echo["headers"]?["User-Agent"] == "farm-tests/1")
        #expect(response.url == server.url("/echo?x=1"))
    }

    @Test func postJSONSendsContentTypeAndBody() async throws {
        let body: JSON = ["input": ["prompt": "TOK singing", "seed": 7]]
        let request = HTTPRequest(method: "POST", url: server.url("/echo"), headers: [auth], body: .json(body))
        let echo = try await client.send(request).json()
        let sent = Data(body.compactString.utf8)
        #expect(echo["method"] == "POST")
        #expect(echo["headers"]?["Content-Type"] == "application/json")
        #expect(echo["headers"]?["Authorization"] == .string(auth.value))
        #expect(echo["headers"]?["Expect"] == nil)
        #expect(echo["body_length"]?.intValue == sent.count)
        #expect(echo["body_sha256"]?.stringValue == SHA256.hex(sent))
    }

    @Test func methodsAndRawBodies() async throws {
        let empty = try await client.send(HTTPRequest(method: "POST", url: server.url("/echo"))).json()
        #expect(empty["method"] == "POST")
        #expect(empty["body_length"] == 0)
        #expect(empty["headers"]?["Content-Length"] == "0")
        #expect(empty["headers"]?["Content-Type"] == nil)

        let data = Data((0..<5000).map { UInt8($0 % 256) })
        let put = try await client.send(HTTPRequest(method: "PUT", url: server.url("/echo"), body: .data(data, contentType: "application/octet-stream"))).json()
        #expect(put["method"] == "PUT")
        #expect(put["body_sha256"]?.stringValue == SHA256.hex(data))
        #expect(put["headers"]?["Content-Type"] == "application/octet-stream")

        let delete = try await client.send(HTTPRequest(method: "DELETE", url: server.url("/echo"))).json()
        #expect(delete["method"] == "DELETE")
        #expect(delete["body_length"] == 0)
    }

    @Test func headReturnsHeadersWithoutBody() async throws {
        let response = try await client.send(HTTPRequest(method: "HEAD", url: server.url("/bytes/100000")))
        #expect(response.status == 200)
        #expect(response.header("content-length") == "100000")
        #expect(response.body.isEmpty)
    }

    @Test func headersRoundTrip() async throws {
        let headers = [
            (name: "X-Farm-One", value: "1"), (name: "X-Farm-Two", value: "two words; and: colons"),
            (name: "Prefer", value: "wait=5"), (name: "User-Agent", value: "custom/2"),
        ]
        let echo = try await client.send(HTTPRequest(url: server.url("/echo"), headers: headers)).json()
        for header in headers {
            #expect(echo["headers"]?[header.name] == .string(header.value))
        }
    }

    @Test func nonSuccessStatusIsAResponseNotAnError() async throws {
        for code in [201, 204, 404, 422, 500] {
            let response = try await client.send(HTTPRequest(url: server.url("/status/\(code)")))
            #expect(response.status == code)
            #expect(response.isSuccess == (200..<300).contains(code))
        }
    }

    @Test func jsonErrorNamesTheURLNotTheHeaders() async throws {
        let response = try await client.send(HTTPRequest(url: server.url("/bytes/10?api_token=abc"), headers: [auth]))
        let error = await HTTPTesting.expectHTTPError { _ = try response.json() }
        guard case .invalidResponse(let url, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(url == server.url("/bytes/10?api_token=REDACTED").absoluteString)
    }

    @Test func chunkedBodyIsBuffered() async throws {
        let response = try await client.send(HTTPRequest(url: server.url("/stream/300000")))
        #expect(response.status == 200)
        #expect(response.header("content-length") == nil)
        #expect(response.body.count == 300_000)
        #expect(response.body.prefix(3) == Data([7, 38, 69]))
    }

    @Test func redirectsAreFollowedOnlyWhenAsked() async throws {
        var request = HTTPRequest(url: server.url("/redirect/3"))
        let unfollowed = try await client.send(request)
        #expect(unfollowed.status == 302)
        #expect(unfollowed.header("location") == "/redirect/2")

        request.maxRedirects = 5
        let followed = try await client.send(request)
        #expect(followed.status == 200)
        #expect(followed.url == server.url("/redirect/0"))
        #expect(try followed.json()["redirected"] == true)
        #expect(followed.header("location") == nil)

        request.maxRedirects = 2
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .invalidResponse(_, let detail) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(detail.contains("more than 2 redirects"))
    }

    @Test func redirectToAnotherURLAndProtocolLimits() async throws {
        let target = server.url("/echo").absoluteString
        var request = HTTPRequest(url: server.url("/redirect-to?url=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"))
        request.maxRedirects = 1
        let response = try await client.send(request)
        #expect(response.url.absoluteString == target)
        #expect(try response.json()["path"] == "/echo")

        var toFile = HTTPRequest(url: server.url("/redirect-to?url=file%3A%2F%2F%2Fetc%2Fpasswd"))
        toFile.maxRedirects = 1
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(toFile) }
        guard case .invalidResponse = error else { Issue.record("got \(String(describing: error))"); return }

        let ftp = await HTTPTesting.expectHTTPError { _ = try await client.send(HTTPRequest(url: URL(string: "ftp://127.0.0.1/x")!)) }
        guard case .invalidRequest = ftp else { Issue.record("got \(String(describing: ftp))"); return }
        #expect(ftp?.isSurelyNotSent == true)
    }

    @Test func redirectsBetweenThisMachineAndOthersAreRefused() async throws {
        // 192.0.2.1 (TEST-NET-1) is never reached: its address is refused before connecting.
        var away = HTTPRequest(url: server.url("/redirect-to?url=http%3A%2F%2F192.0.2.1%2Fx%3Ftoken%3Ds3cret"))
        away.maxRedirects = 3
        away.connectTimeout = .seconds(1)
        let started = ContinuousClock.now
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(away) }
        guard case .redirectRefused(_, let target, let toLoopback) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(target == "http://192.0.2.1/x?token=REDACTED")
        #expect(!toLoopback)
        #expect(error?.message.contains("to http://192.0.2.1/x?token=REDACTED: it leads from this machine (a loopback address) to another one") == true)
        #expect(error?.hint?.contains("no redirect between this machine and others") == true)
        #expect(ContinuousClock.now - started < .seconds(1), "a connection to the outside address was tried")

        var download = away
        download.url = server.url("/redirect-to?url=http%3A%2F%2F192.0.2.1%2Fy")
        let folder = try TemporaryDirectory("farm-redirect")
        defer { folder.remove() }
        let file = await HTTPTesting.expectHTTPError { _ = try await client.download(download, to: folder.file("y"), maxBytes: nil) }
        guard case .redirectRefused = file else { Issue.record("got \(String(describing: file))"); return }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).isEmpty)

        // By name or by another loopback address, a redirect stays on this machine and is followed.
        let local = "http://localhost:\(server.url("/").port!)/echo".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        var byName = HTTPRequest(url: server.url("/redirect-to?url=\(local)"))
        byName.maxRedirects = 1
        #expect(try await client.send(byName).json()["path"] == "/echo")
        #expect(CurlTransfer.isLoopback("127.0.0.1") && CurlTransfer.isLoopback("127.8.9.10") && CurlTransfer.isLoopback("::1")
            && CurlTransfer.isLoopback("::FFFF:127.0.0.1"))
        #expect(!CurlTransfer.isLoopback("192.0.2.1") && !CurlTransfer.isLoopback("::2") && !CurlTransfer.isLoopback("10.127.0.1"))
    }

    @Test func post307RedirectKeepsMethodAndBody() async throws {
        var request = HTTPRequest(method: "POST", url: server.url("/redirect/1?code=307"), body: .json(["a": 1]))
        request.maxRedirects = 1
        let response = try await client.send(request)
        #expect(try response.json()["method"] == "POST")
    }

    @Test func invalidHeadersAreRejectedWithoutShowingValues() async throws {
        let request = HTTPRequest(url: server.url("/echo"), headers: [(name: "Authorization", value: "Bearer \(HTTPTesting.secretToken)\r\nX-Evil: 1")])
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .invalidRequest = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.isSurelyNotSent == true)
    }

    @Test func manyConcurrentRequestsAllComplete() async throws {
        let start = ContinuousClock.now
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let response = try await client.send(HTTPRequest(url: server.url("/echo?i=\(index)")))
                    #expect(try response.json()["query"] == .string("i=\(index)"))
                    return response.status
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let elapsed = ContinuousClock.now - start
        print("HTTP: 50 concurrent requests in \(elapsed)")
        #expect(results.count == 50)
        #expect(results.allSatisfy { $0 == 200 })
        #expect(elapsed < .seconds(10))
    }

    @Test func refusedConnectionIsConnectFailed() async throws {
        let url = URL(string: "http://user:pass@127.0.0.1:\(HTTPTesting.closedPort())/v1/predictions")!
        let request = HTTPRequest(method: "POST", url: url, headers: [auth], body: .json(["input": [:]]))
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .connectFailed(let shown, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.isSurelyNotSent == true)
        #expect(!shown.contains("user") && !shown.contains("pass"))
    }

    @Test func droppedConnectionIsSendFailed() async throws {
        let request = HTTPRequest(method: "POST", url: server.url("/drop"), headers: [auth], body: .json(["input": [:]]))
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .sendFailed = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.isSurelyNotSent == false)
    }

    @Test func tlsToAPlainServerIsATLSError() async throws {
        let request = HTTPRequest(method: "POST", url: URL(string: "https://127.0.0.1:\(server.port)/echo")!, headers: [auth], body: .json([:]))
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .tls = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.isSurelyNotSent == true)
    }

    /// Certificates are verified: an HTTPS server with a self-signed certificate (made here by
    /// openssl for 127.0.0.1) is refused before any request is sent.
    @Test func aSelfSignedCertificateIsRefused() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let certificate = folder.file("cert.pem"), key = folder.file("key.pem")
        let made = try await ProcessRunner.run("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.path, "-out", certificate.path,
        ])
        try #require(made.status == 0, "openssl: \(made.standardError)")
        let tlsServer = try await TestHTTPServer.start(tls: (certificate, key))
        defer { tlsServer.stop() }
        let request = HTTPRequest(method: "POST", url: URL(string: "https://127.0.0.1:\(tlsServer.port)/echo")!, headers: [auth], body: .json([:]))
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .tls(_, let reason) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.lowercased().contains("certificate"), "\(reason)")
        #expect(error?.isSurelyNotSent == true)
        #expect(!"\(String(describing: error))".contains(HTTPTesting.secretToken))
    }

    @Test func slowAnswerTimesOut() async throws {
        var request = HTTPRequest(url: server.url("/slow/5"), headers: [auth], timeout: .milliseconds(500))
        request.connectTimeout = .seconds(2)
        let start = ContinuousClock.now
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .timedOut(_, let seconds) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(seconds == 0.5)
        #expect(error?.isSurelyNotSent == false)
        #expect(ContinuousClock.now - start < .seconds(3))
    }

    @Test func cancellationStopsASlowRequestPromptly() async throws {
        let task = Task { try await client.send(HTTPRequest(url: server.url("/slow/10"))) }
        try await Task.sleep(for: .milliseconds(300))
        let cancelled = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(ContinuousClock.now - cancelled < .seconds(5), "the answer takes 10 s otherwise")
        #expect(throws: CancellationError.self) { try result.get() }
    }

    @Test func alreadyCancelledTaskSendsNothing() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.send(HTTPRequest(url: server.url("/retry/precancelled/0/200")))
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        let count = try await client.send(HTTPRequest(url: server.url("/count/precancelled"))).json()
        #expect(count["attempts"] == 0)
    }

    @Test func bufferedBodyOverTheLimitIsTooLarge() async throws {
        var request = HTTPRequest(url: server.url("/bytes/2000"))
        request.maxResponseBytes = 1000
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request) }
        guard case .tooLarge(_, let limit) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(limit == 1000)

        var chunked = HTTPRequest(url: server.url("/stream/2000"))
        chunked.maxResponseBytes = 1000
        let chunkedError = await HTTPTesting.expectHTTPError { _ = try await client.send(chunked) }
        guard case .tooLarge = chunkedError else { Issue.record("got \(String(describing: chunkedError))"); return }
    }
}
