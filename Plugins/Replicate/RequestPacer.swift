import Synchronization

/// Keeps requests under one of Replicate's rate limits (by default 600 prediction creates a minute,
/// 3000 other requests a minute; see `ReplicateConfiguration`), shared by every render of the
/// process. A token bucket that holds a minute's worth and refills continuously, like the API's
/// own, kept as a generic cell rate (GCRA): a request that would overdraw the bucket waits for its
/// share instead of being refused, plus `margin`: the server's bucket started when the first
/// request arrived, and a later one may arrive relatively sooner (over a connection already open).
final class RequestPacer: Sendable {
    static let margin: Duration = .milliseconds(250)

    private let interval: Duration
    private let tolerance: Duration
    /// When the bucket would be full again were no more requests made.
    private let theoreticalArrival = Mutex<ContinuousClock.Instant?>(nil)

    init(perMinute: Int) {
        interval = .nanoseconds(60_000_000_000 / Int64(perMinute))
        tolerance = interval * (perMinute - 1)
    }

    /// How long a request made at `now` must wait, reserving its place.
    func reserve(at now: ContinuousClock.Instant) -> Duration {
        theoreticalArrival.withLock { arrival in
            let start = max(arrival ?? now, now)
            arrival = start + interval
            let delay = start - tolerance - now
            return delay > .zero ? delay + Self.margin : .zero
        }
    }

    /// Waits for this request's turn.
    func pace() async throws {
        let delay = reserve(at: .now)
        if delay > .zero { try await Task.sleep(for: delay) }
    }
}
