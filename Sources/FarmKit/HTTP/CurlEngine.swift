import CCurl
import Foundation
import Synchronization

/// Where a response body goes.
enum ResponseSink: Sendable {
    /// Buffered in memory, up to `limit` bytes.
    case memory(limit: Int64?)
    /// Streamed to a temp file next to `destination`, renamed into place on success.
    case file(URL, limit: Int64?, progress: (@Sendable (Int64, Int64?) -> Void)?)
}

/// One transfer handed to the engine.
struct CurlJob: Sendable {
    let request: HTTPRequest
    let userAgent: String
    let sink: ResponseSink
}

/// The process-wide libcurl multi handle and the dedicated thread that drives it.
///
/// Every curl call on a transfer happens on that thread. Other threads only queue starts and
/// cancellations in `inbox` and wake the thread with `curl_multi_wakeup` (which is thread-safe).
final class CurlEngine: Sendable {
    static let shared = CurlEngine()

    private struct Inbox: Sendable {
        var starts: [(CurlJob, TransferHandle)] = []
        var cancels: [TransferHandle] = []
    }

    /// The `CURLM *`, used by the curl thread and, for `curl_multi_wakeup` only, by others.
    private struct MultiHandle: @unchecked Sendable { let raw: UnsafeMutableRawPointer }

    private let multi: MultiHandle
    private let inbox = Mutex(Inbox())

    private init() {
        // Once per process: `shared` is initialised lazily and atomically.
        let code = curl_global_init(ccurl_global_default())
        precondition(code == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(code)))")
        guard let raw = curl_multi_init() else { preconditionFailure("curl_multi_init failed") }
        multi = MultiHandle(raw: raw)
        let thread = Thread { [self] in run() }
        thread.name = "farm.curl"
        thread.start()
    }

    /// Runs one transfer. Task cancellation stops it and throws `CancellationError`.
    func perform(_ job: CurlJob) async throws -> HTTPResponse {
        let handle = TransferHandle()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard handle.attach(continuation) else {
                    return continuation.resume(throwing: CancellationError())
                }
                enqueue { $0.starts.append((job, handle)) }
            }
        } onCancel: {
            if handle.cancel() { enqueue { $0.cancels.append(handle) } }
        }
    }

    private func enqueue(_ change: (inout Inbox) -> Void) {
        inbox.withLock { change(&$0) }
        curl_multi_wakeup(multi.raw)
    }

    /// The curl thread: start and cancel what was queued, let curl work, collect finished
    /// transfers, then sleep until a socket is ready, a curl timer is due, or a wakeup.
    private func run() -> Never {
        let loop = CurlLoop(multi: multi.raw)
        while true {
            let work = inbox.withLock { inbox in
                defer { inbox = Inbox() }
                return inbox
            }
            for (job, handle) in work.starts { loop.start(job, handle) }
            for handle in work.cancels { loop.cancel(handle) }
            loop.perform()
            curl_multi_poll(multi.raw, nil, 0, 60_000, nil)
        }
    }
}

/// The caller's side of a transfer: its continuation and whether it was cancelled.
final class TransferHandle: Sendable {
    private struct State {
        var continuation: CheckedContinuation<HTTPResponse, any Error>?
        var cancelled = false
    }

    private let state = Mutex(State())

    /// Stores the continuation; false when the task was cancelled already.
    func attach(_ continuation: CheckedContinuation<HTTPResponse, any Error>) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.continuation = continuation
            return true
        }
    }

    /// Marks the transfer cancelled; true when it was submitted and has not finished yet.
    func cancel() -> Bool {
        state.withLock { state in
            state.cancelled = true
            return state.continuation != nil
        }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Resumes the caller, once; later calls do nothing.
    func finish(_ result: Result<HTTPResponse, any Error>) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}

/// The transfers in the multi handle. Lives on, and is only used by, the curl thread.
private final class CurlLoop {
    private let multi: UnsafeMutableRawPointer
    private var transfers: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    init(multi: UnsafeMutableRawPointer) { self.multi = multi }

    func start(_ job: CurlJob, _ handle: TransferHandle) {
        guard !handle.isCancelled else { return handle.finish(.failure(CancellationError())) }
        let transfer = CurlTransfer(job: job, handle: handle)
        do {
            try transfer.configure()
        } catch {
            return transfer.finish(.failure(error))
        }
        let code = curl_multi_add_handle(multi, transfer.easy)
        guard code == CURLM_OK else {
            let detail = String(cString: curl_multi_strerror(code))
            return transfer.finish(.failure(HTTPError.invalidRequest(url: URLRedaction.redact(job.request.url), detail: detail)))
        }
        transfers[transfer.easy] = transfer
    }

    func cancel(_ handle: TransferHandle) {
        guard let (easy, transfer) = transfers.first(where: { $0.value.handle === handle }) else { return }
        remove(easy)
        transfer.finish(.failure(CancellationError()))
    }

    func perform() {
        var running: Int32 = 0
        curl_multi_perform(multi, &running)
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let transfer = transfers[easy]
            else { continue }
            let code = message.pointee.data.result
            remove(easy)
            transfer.complete(code)
        }
    }

    private func remove(_ easy: UnsafeMutableRawPointer) {
        curl_multi_remove_handle(multi, easy)
        transfers[easy] = nil
    }
}
