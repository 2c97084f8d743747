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

/// What the renders of one process share: the concurrency limit of every provider, by name (so a
/// limit of concurrent Replicate predictions holds across a whole batch), and the work in flight,
/// so two renders that need the same stage or unit (the same portrait, the same chunk) make it once.
public final class ProviderLimits: Sendable {
    let inFlight = InFlight()
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

/// Cache keys being made right now: the first caller of `enter` makes the result, the others wait
/// until it is done and then look in the cache again.
actor InFlight {
    private var running: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// True when the caller holds `key` and must make it (then `leave`); false once another holder
    /// has left (look in the cache again).
    func enter(_ key: String) async -> Bool {
        guard running[key] != nil else {
            running[key] = []
            return true
        }
        await withCheckedContinuation { running[key]!.append($0) }
        return false
    }

    func leave(_ key: String) {
        for waiter in running.removeValue(forKey: key) ?? [] { waiter.resume() }
    }
}
