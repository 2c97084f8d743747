import FarmKit
import Synchronization

/// The events of one queued render, kept so a page that connects late sees them all, and handed
/// to every live subscriber as they happen. Closed after the last one.
final class EventLog: Sendable {
    private struct State {
        var events: [JSON] = []
        var subscribers: [Int: AsyncStream<JSON>.Continuation] = [:]
        var nextSubscriber = 0
        var closed = false
    }

    private let state = Mutex(State())

    func append(_ event: JSON) {
        state.withLock { state in
            guard !state.closed else { return }
            state.events.append(event)
            for continuation in state.subscribers.values { continuation.yield(event) }
        }
    }

    /// Ends every subscription; later subscribers get the history only.
    func close() {
        // Finished outside the lock: finishing runs `onTermination`, which takes it.
        let subscribers = state.withLock { state in
            state.closed = true
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for continuation in subscribers { continuation.finish() }
    }

    /// The events from index `start` on that exist now, and whether the log has closed (for
    /// clients that poll instead of streaming).
    func events(from start: Int) -> (events: [JSON], closed: Bool) {
        state.withLock { state in (Array(state.events.dropFirst(max(0, start))), state.closed) }
    }

    /// Every event so far, then the live ones until the log closes.
    func subscribe() -> AsyncStream<JSON> {
        let (stream, continuation) = AsyncStream<JSON>.makeStream(bufferingPolicy: .unbounded)
        state.withLock { state in
            for event in state.events { continuation.yield(event) }
            if state.closed {
                continuation.finish()
                return
            }
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
        }
        return stream
    }
}
