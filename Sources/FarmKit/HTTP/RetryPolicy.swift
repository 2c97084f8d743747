import Foundation

/// When and how long a retrying `HTTPClient.send` waits before trying again.
///
/// Idempotent requests (GET, HEAD, a cancel) are retried on network errors, 429 and 5xx.
/// Non-idempotent ones (creating a prediction) only when the request surely never reached the
/// server (`connectFailed`) or was refused with 429, so nothing is ever done twice.
/// Delays grow exponentially (×2 from `baseDelay`, capped at `maxDelay`) with full jitter; on 429
/// and 503 a `Retry-After` (seconds or HTTP date) or `ratelimit-reset` (seconds) header replaces
/// the backoff, capped at `maxDelay`. No attempt starts after `totalTime`, and no sleep would end
/// past it.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    public var totalTime: Duration
    public var idempotent: Bool

    public init(
        idempotent: Bool, maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(20), totalTime: Duration = .seconds(120)
    ) {
        self.idempotent = idempotent
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.totalTime = totalTime
    }

    /// For GET, HEAD and other requests that are safe to repeat.
    public static let idempotent = RetryPolicy(idempotent: true)
    /// For requests that must not be done twice, such as creating a prediction.
    public static let create = RetryPolicy(idempotent: false)

    /// Whether a failed attempt may be repeated.
    func shouldRetry(_ error: HTTPError) -> Bool {
        switch error {
        case .connectFailed: true
        case .sendFailed, .timedOut: idempotent
        default: false
        }
    }

    /// Whether a response with this status may be repeated.
    func shouldRetry(status: Int) -> Bool {
        status == 429 || (idempotent && (500..<600).contains(status))
    }

    /// The backoff before attempt `attempt + 1` (attempts count from 1): uniform in 0...cap.
    func backoff(after attempt: Int) -> Duration {
        let cap = min(maxDelay.seconds, baseDelay.seconds * pow(2, Double(min(attempt - 1, 62))))
        return .seconds(Double.random(in: 0...max(0, cap)))
    }

    /// The delay a 429 or 503 response asks for, capped at `maxDelay`; nil when it names none.
    func serverDelay(for response: HTTPResponse, now: Date = Date()) -> Duration? {
        guard response.status == 429 || response.status == 503 else { return nil }
        let seconds = response.header("retry-after").flatMap { Self.parseRetryAfter($0, now: now) }
            ?? response.header("ratelimit-reset").flatMap { Self.parseSeconds($0) }
        return seconds.map { min(.seconds($0), maxDelay) }
    }

    /// `Retry-After`: delay seconds (fractions accepted) or an HTTP date.
    static func parseRetryAfter(_ value: String, now: Date) -> Double? {
        if let seconds = parseSeconds(value) { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: value.trimmingCharacters(in: .whitespaces)) {
                return max(0, date.timeIntervalSince(now))
            }
        }
        return nil
    }

    private static func parseSeconds(_ value: String) -> Double? {
        guard let seconds = Double(value.trimmingCharacters(in: .whitespaces)), seconds.isFinite, seconds >= 0 else { return nil }
        return seconds
    }
}
