import Synchronization

/// A counting semaphore for one provider's concurrency limit; waiters are served in FIFO order.
actor ProviderLimiter {
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        available = limit
    }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// The concurrency limit of every provider, by name. One render has its own; the renders of a
/// batch share one, so a limit (say, of concurrent Replicate predictions) holds across all of them.
public final class ProviderLimits: Sendable {
    private let limiters = Mutex<[String: ProviderLimiter]>([:])
    private let fixed: [String: Int]

    /// `fixed` limits win over those of any plan.
    public init(_ fixed: [String: Int] = [:]) {
        self.fixed = fixed
    }

    /// Takes on a plan's limits for providers that have none yet (the first plan to name a provider sets its limit).
    func adopt(_ limits: [String: Int]) {
        limiters.withLock { limiters in
            for (provider, limit) in limits where limiters[provider] == nil {
                limiters[provider] = ProviderLimiter(limit: fixed[provider] ?? limit)
            }
        }
    }

    /// The limiter of `provider` (one slot when no plan named it).
    func limiter(for provider: String) -> ProviderLimiter {
        limiters.withLock { limiters in
            if let limiter = limiters[provider] { return limiter }
            let limiter = ProviderLimiter(limit: fixed[provider] ?? 1)
            limiters[provider] = limiter
            return limiter
        }
    }
}
