import Foundation

/// An HTTP client over libcurl: every transfer runs on one shared `curl_multi` handle driven by a
/// dedicated thread, so waiting never blocks Swift's cooperative pool. Connections are reused,
/// TLS is always verified, and only http and https are allowed (redirects included).
///
/// Cancelling the calling task stops its transfer and throws `CancellationError`.
public final class HTTPClient: Sendable {
    private let userAgent: String
    private let engine = CurlEngine.shared

    public init(userAgent: String = "farm/0.1") {
        self.userAgent = userAgent
    }

    /// One transfer with the body buffered in memory (up to `request.maxResponseBytes`).
    /// A non-2xx status is not an error here: the response is returned.
    public func send(_ request: HTTPRequest) async throws -> HTTPResponse {
        try await engine.perform(CurlJob(request: request, userAgent: userAgent, sink: .memory(limit: request.maxResponseBytes)))
    }

    /// Streams the body to a temp file in `destination`'s folder, then renames it into place; the
    /// temp file is removed on any failure or cancellation. Throws `HTTPError.tooLarge` past
    /// `maxBytes` (from `Content-Length` up front, and while streaming) and `HTTPError.status` on a
    /// non-2xx answer, leaving no file. `request.timeout` bounds the whole transfer: raise it for
    /// large files. `progress(received, expected)` is called on the transfer thread at most about
    /// ten times a second, and once at the end: keep it quick.
    public func download(
        _ request: HTTPRequest, to destination: URL, maxBytes: Int64?,
        progress: (@Sendable (Int64, Int64?) -> Void)? = nil
    ) async throws -> HTTPResponse {
        let sink = ResponseSink.file(destination, limit: maxBytes, progress: progress)
        return try await engine.perform(CurlJob(request: request, userAgent: userAgent, sink: sink))
    }

    /// `send`, repeated as `policy` allows on network errors, 429 and 5xx. A response that is not
    /// retried (or succeeds) is returned whatever its status; when retrying stops on a retryable
    /// failure, throws `HTTPError.retriesExhausted` naming the attempts and the last failure.
    public func send(_ request: HTTPRequest, retrying policy: RetryPolicy) async throws -> HTTPResponse {
        let clock = ContinuousClock()
        let start = clock.now
        var attempt = 0
        while true {
            attempt += 1
            let failure: HTTPError
            let delay: Duration
            do {
                let response = try await send(request)
                guard policy.shouldRetry(status: response.status) else { return response }
                failure = .status(code: response.status, url: URLRedaction.redact(request.url), body: request.snippet(of: response.body))
                delay = policy.serverDelay(for: response) ?? policy.backoff(after: attempt)
            } catch let error as HTTPError where policy.shouldRetry(error) {
                failure = error
                delay = policy.backoff(after: attempt)
            }
            let elapsed = clock.now - start
            guard attempt < policy.maxAttempts, elapsed + delay <= policy.totalTime else {
                throw HTTPError.retriesExhausted(
                    method: request.method, url: URLRedaction.redact(request.url), attempts: attempt,
                    seconds: elapsed.seconds, last: failure)
            }
            try await Task.sleep(for: delay)
        }
    }
}
