import FarmTestSupport
import Foundation
import Testing

@testable import FarmKit

@Suite(.loopbackServer) struct HTTPRetryTests {
    let client = HTTPClient()
    var server: TestHTTPServer { HTTPTesting.server }
    let auth = (name: "Authorization", value: "Bearer \(HTTPTesting.secretToken)")

    /// A fast policy: tiny backoff so tests do not wait on jitter.
    func policy(idempotent: Bool, attempts: Int = 5) -> RetryPolicy {
        RetryPolicy(idempotent: idempotent, maxAttempts: attempts, baseDelay: .milliseconds(20), maxDelay: .seconds(2), totalTime: .seconds(10))
    }

    func attempts(_ id: String) async throws -> Int? {
        try await client.send(HTTPRequest(url: server.url("/count/\(id)"))).json()["attempts"]?.intValue
    }

    @Test func unavailableTwiceThenSuccessHonoursRetryAfter() async throws {
        let start = ContinuousClock.now
        let response = try await client.send(HTTPRequest(url: server.url("/retry/get503/2/503?after=1"), headers: [auth]), retrying: .idempotent)
        let elapsed = ContinuousClock.now - start
        #expect(response.status == 200)
        #expect(try response.json()["attempts"] == 3)
        // Two waits of Retry-After 1 s; the jittered backoff alone would wait at most 0.5 + 1 s.
        #expect(elapsed >= .seconds(2))
    }

    @Test func retryAfterInWholeSecondsAndRatelimitReset() async throws {
        let start = ContinuousClock.now
        let response = try await client.send(HTTPRequest(url: server.url("/retry/after1/1/429?after=1")), retrying: policy(idempotent: false))
        #expect(response.status == 200)
        #expect(ContinuousClock.now - start >= .seconds(1))

        let resetStart = ContinuousClock.now
        let reset = try await client.send(HTTPRequest(url: server.url("/retry/reset/1/429?after=none&reset=0.5")), retrying: policy(idempotent: false))
        #expect(reset.status == 200)
        #expect(ContinuousClock.now - resetStart >= .milliseconds(500))
    }

    @Test func rateLimitedCreateIsRetried() async throws {
        let request = HTTPRequest(method: "POST", url: server.url("/retry/create429/2/429"), headers: [auth], body: .json(["input": ["seed": 1]]))
        let response = try await client.send(request, retrying: .create)
        #expect(response.status == 200)
        #expect(try response.json()["attempts"] == 3)
    }

    @Test func serverErrorOnCreateIsNotRetried() async throws {
        let request = HTTPRequest(method: "POST", url: server.url("/retry/create500/1/500"), headers: [auth], body: .json(["input": [:]]))
        let response = try await client.send(request, retrying: policy(idempotent: false))
        #expect(response.status == 500)
        #expect(try await attempts("create500") == 1)
    }

    @Test func serverErrorOnGetIsRetried() async throws {
        let response = try await client.send(HTTPRequest(url: server.url("/retry/get500/2/500?after=none")), retrying: policy(idempotent: true))
        #expect(response.status == 200)
        #expect(try await attempts("get500") == 3)
    }

    @Test func clientErrorsAreNotRetried() async throws {
        let response = try await client.send(HTTPRequest(url: server.url("/retry/get422/1/422")), retrying: policy(idempotent: true))
        #expect(response.status == 422)
        #expect(try await attempts("get422") == 1)
    }

    @Test func refusedConnectionIsRetriedEvenForCreate() async throws {
        let url = URL(string: "http://127.0.0.1:\(HTTPTesting.closedPort())/v1/predictions")!
        let request = HTTPRequest(method: "POST", url: url, headers: [auth], body: .json(["input": [:]]))
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request, retrying: policy(idempotent: false, attempts: 3)) }
        guard case .retriesExhausted(let method, _, let count, _, let last) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(method == "POST")
        #expect(count == 3)
        guard case .connectFailed = last else { Issue.record("got \(last)"); return }
        #expect(error?.isSurelyNotSent == true)
        #expect(error?.message.contains("failed after 3 attempts") == true)
    }

    @Test func droppedCreateIsNotRetried() async throws {
        let request = HTTPRequest(method: "POST", url: server.url("/drop"), headers: [auth], body: .json(["input": [:]]))
        let error = await HTTPTesting.expectHTTPError { _ = try await client.send(request, retrying: policy(idempotent: false)) }
        guard case .sendFailed = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(error?.isSurelyNotSent == false)
    }

    @Test func exhaustedAttemptsNameTheAttemptsAndLastStatus() async throws {
        let url = server.url("/retry/always503/99/503?after=0.05&token=abc")
        let error = await HTTPTesting.expectHTTPError {
            _ = try await client.send(HTTPRequest(url: url, headers: [auth]), retrying: policy(idempotent: true))
        }
        guard case .retriesExhausted(_, let shown, let count, _, let last) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(count == 5)
        #expect(shown == server.url("/retry/always503/99/503?after=0.05&token=REDACTED").absoluteString)
        #expect(last.statusCode == 503)
        #expect(error?.statusCode == 503)
        let message = try #require(error?.message)
        #expect(message.hasPrefix("GET \(shown) failed after 5 attempts over "))
        #expect(message.contains(" s: last status 503"))
        #expect(try await attempts("always503") == 5)
    }

    @Test func totalTimeIsNeverSleptPast() async throws {
        let tight = RetryPolicy(idempotent: true, maxAttempts: 10, baseDelay: .milliseconds(20), maxDelay: .seconds(5), totalTime: .seconds(1))
        let start = ContinuousClock.now
        let error = await HTTPTesting.expectHTTPError {
            _ = try await client.send(HTTPRequest(url: server.url("/retry/total/99/429?after=30")), retrying: tight)
        }
        #expect(ContinuousClock.now - start < .seconds(15))  // not the 30 s the server asked for
        guard case .retriesExhausted(_, _, let count, _, _) = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(count == 1)
    }

    @Test func cancellationInterruptsTheWait() async throws {
        let task = Task {
            try await client.send(HTTPRequest(url: server.url("/retry/cancelwait/99/503?after=30")), retrying: .idempotent)
        }
        try await Task.sleep(for: .milliseconds(300))
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - cancelled < .seconds(10), "the server asked for 30 s")
    }

    @Test func retryAfterParsing() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(RetryPolicy.parseRetryAfter("3", now: now) == 3)
        #expect(RetryPolicy.parseRetryAfter(" 0.25 ", now: now) == 0.25)
        #expect(RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:30 GMT", now: now) == 10)
        #expect(RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now: now) == 0)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("-1", now: now) == nil)
    }

    @Test func backoffIsCappedAndJittered() {
        let policy = RetryPolicy(idempotent: true, baseDelay: .milliseconds(500), maxDelay: .seconds(2))
        for attempt in 1...10 {
            let cap = min(2, 0.5 * pow(2, Double(attempt - 1)))
            #expect((0...cap).contains(policy.backoff(after: attempt).seconds))
        }
    }

    @Test func redactionHidesCredentials() {
        #expect(URLRedaction.redact("https://user:pw@example.com/a?x=1&api_key=s3cr3t&X-Amz-Signature=abc#frag")
            == "https://example.com/a?x=1&api_key=REDACTED&X-Amz-Signature=REDACTED")
        #expect(URLRedaction.redact("https://api.replicate.com/v1/predictions") == "https://api.replicate.com/v1/predictions")
    }

    @Test func requestDescriptionsHideHeaderValues() {
        let request = HTTPRequest(method: "POST", url: URL(string: "https://u:p@api.example.com/v1?token=t0k")!, headers: [auth])
        var dumped = ""
        dump(request, to: &dumped)
        for text in ["\(request)", String(reflecting: request), dumped] {
            #expect(!text.contains(HTTPTesting.secretToken) && !text.contains("t0k") && !text.contains("u:p"), "\(text)")
        }
        #expect("\(request)" == "POST https://api.example.com/v1?token=REDACTED [Authorization]")
    }

    @Test func secretsInErrorBodiesAreScrubbed() async throws {
        let request = HTTPRequest(url: server.url("/status/500"), headers: [auth])
        #expect(request.snippet(of: Data("bad token Bearer \(HTTPTesting.secretToken) here".utf8)) == "bad token [redacted] here")
        #expect(request.snippet(of: Data("echo \(HTTPTesting.secretToken)".utf8)) == "echo [redacted]")
    }
}
