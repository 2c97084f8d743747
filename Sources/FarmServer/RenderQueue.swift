import FarmKit
import Foundation

/// Runs the renders submitted to the studio, one at a time in submission order, through the same
/// `RenderService` as `farm render`. The queue lives in the store: a render left running when the
/// server stopped resumes (finished stages from the cache) when it starts again.
actor RenderQueue {
    let store: Store
    let service: RenderService
    private var logs: [String: EventLog] = [:]
    /// Ended renders whose events are still kept, oldest first; older ones answer with their state.
    private var ended: [String] = []
    static let keptEndedLogs = 50
    private var current: (id: String, task: Task<RenderSummary?, Never>)?
    private var cancelRequested: Set<String> = []
    private var wakeUp: AsyncStream<Void>.Continuation?

    /// `service` renders into its working directory, one `<queue id>.mp4` per render.
    init(store: Store, service: RenderService) {
        self.store = store
        self.service = service
    }

    /// Adds a render (the JSON form `RenderRequest(json:)` reads) and wakes the worker.
    func submit(_ request: JSON) async throws -> QueueEntry {
        let entry = try await store.enqueue(request)
        _ = newLog(entry.id)
        wakeUp?.yield()
        return entry
    }

    /// The events of render `id` while this server keeps them: every waiting or running render
    /// has a log (one left by an earlier server starts with `queued`); nil for renders that ended
    /// before this server started, or long ago (their events are rebuilt from the store).
    func log(for id: String) async throws -> EventLog? {
        if let log = logs[id] { return log }
        guard let entry = try await store.queueEntry(id: id) else { return nil }
        // Checked again: the render may have ended, and kept its log, while the store answered.
        if let log = logs[id] { return log }
        guard entry.state == .queued || entry.state == .running else { return nil }
        return newLog(id)
    }

    /// A log that starts with the render's `queued` event.
    private func newLog(_ id: String) -> EventLog {
        let log = EventLog()
        log.append(["event": "queued", "id": .string(id)])
        logs[id] = log
        return log
    }

    /// Cancels a waiting or running render. False when it already ended.
    func cancel(_ id: String) async throws -> Bool {
        if current?.id == id {
            cancelRequested.insert(id)
            current?.task.cancel()
            return true
        }
        guard try await store.updateQueueEntry(id: id, state: .cancelled, error: "cancelled before it started") else { return false }
        finish(id, with: RenderEvent.failureJSON(message: "cancelled before it started", hint: nil, exitCode: ExitStatus.interrupted))
        return true
    }

    /// Runs queued renders until the calling task is cancelled (the server stopping). A render
    /// running then is interrupted and stays `running` in the queue, to resume on the next start.
    func work() async {
        let (wake, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        wakeUp = continuation
        defer {
            continuation.finish()
            for log in logs.values { log.close() }
        }
        var iterator = wake.makeAsyncIterator()
        while !Task.isCancelled {
            let next: QueueEntry?
            do {
                next = try await store.nextQueueEntry()
            } catch {
                next = nil
            }
            guard let next else {
                guard await iterator.next() != nil else { return }
                continue
            }
            await run(next)
        }
    }

    private func run(_ entry: QueueEntry) async {
        let log = logs[entry.id] ?? newLog(entry.id)
        let resuming = entry.state == .running ? entry.runID : nil
        var request: RenderRequest
        do {
            request = try RenderRequest(json: entry.request)
        } catch {
            await record(entry.id, error)
            return
        }
        request.output = "\(entry.id).mp4"
        _ = try? await store.updateQueueEntry(id: entry.id, state: .running)
        let store = store, service = service, id = entry.id
        let task = Task<RenderSummary?, Never> {
            do {
                return try await service.render(request, resuming: resuming) { event in
                    if case .started(let runID, _, _, _) = event {
                        // Recorded at once, so a server stopped mid-render resumes this run.
                        Task { try? await store.updateQueueEntry(id: id, state: .running, runID: runID) }
                    }
                    if case .finished = event { return }
                    log.append(event.json)
                }
            } catch {
                await self.record(id, error)
                return nil
            }
        }
        current = (entry.id, task)
        let summary = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        current = nil
        guard let summary else { return }
        let userCancelled = cancelRequested.remove(entry.id) != nil
        if summary.status == .interrupted, !userCancelled {
            log.close()
            return
        }
        let failed = summary.stages.first { $0.status == .failed }
        _ = try? await store.updateQueueEntry(
            id: entry.id, state: userCancelled ? .cancelled : .finished, runID: summary.runID,
            error: failed.map { "stage \($0.name) failed: \($0.error ?? "unknown error")" }, hint: failed?.hint)
        finish(entry.id, with: RenderEvent.finished(summary).json)
    }

    /// Ends render `id` with an error that stopped it before or outside its stages.
    private func record(_ id: String, _ error: any Error) async {
        if cancelRequested.remove(id) != nil {
            _ = try? await store.updateQueueEntry(id: id, state: .cancelled, error: "cancelled")
            finish(id, with: RenderEvent.failureJSON(message: "cancelled", hint: nil, exitCode: ExitStatus.interrupted))
            return
        }
        // The server is stopping: the render stays `running`, to resume on the next start.
        if Task.isCancelled { return }
        let farmError = error as? any FarmError
        let message = farmError?.message ?? "\(error)"
        _ = try? await store.updateQueueEntry(id: id, state: .finished, error: message, hint: farmError?.hint)
        finish(id, with: RenderEvent.failureJSON(message: message, hint: farmError?.hint, exitCode: farmError?.exitCode ?? 1))
    }

    private func finish(_ id: String, with event: JSON) {
        let log = logs[id] ?? newLog(id)
        log.append(event)
        log.close()
        ended.append(id)
        while ended.count > Self.keptEndedLogs { logs[ended.removeFirst()] = nil }
    }
}
