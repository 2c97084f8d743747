import FarmKit
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A local fake of the Replicate HTTP API on loopback, for tests and benchmarks: start it, point a
/// client at the returned base URL with the token `r8_test_token`, read the ledger, inject faults.
public final class FakeReplicateServer: Sendable {
    private let engine: Engine
    private let lifecycle = Mutex<Lifecycle>(Lifecycle())

    private struct Lifecycle {
        var task: Task<Void, Never>?
        var group: ServiceGroup?
        var baseURL: URL?
        var stopped = false
    }

    public init(configuration: FakeReplicate.Configuration = FakeReplicate.Configuration()) {
        engine = Engine(configuration: configuration)
    }

    /// Starts listening; returns the API base URL, `http://127.0.0.1:PORT/v1`. Starting a running
    /// server returns its URL again.
    public func start() async throws -> URL {
        if let url = lifecycle.withLock({ $0.baseURL }) { return url }
        let configuration = engine.configuration
        guard Self.isLoopback(configuration.host) else {
            throw ConfigurationError("fake-replicate listens on loopback only (127.0.0.1, localhost or ::1), not \(configuration.host)")
        }
        try engine.prepareStorage()

        var logger = Logger(label: "fake-replicate")
        logger.logLevel = Logger.Level(rawValue: configuration.logLevel) ?? .warning
        let (events, continuation) = AsyncStream<Result<Int, any Error>>.makeStream()
        let app = Application(
            responder: FakeResponder(engine: engine),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in continuation.yield(.success(channel.localAddress?.port ?? 0)) },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                continuation.yield(.failure(error))
            }
            continuation.finish()
        }
        for await event in events {
            switch event {
            case .success(let port):
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                engine.setOrigin("http://\(host):\(port)")
                let url = URL(string: "http://\(host):\(port)/v1")!
                lifecycle.withLock { state in
                    state.task = task
                    state.group = group
                    state.baseURL = url
                }
                return url
            case .failure(let error):
                throw error
            }
        }
        throw ConfigurationError("the server stopped before it was listening")
    }

    /// Stops listening and every running prediction; removes the temporary storage.
    public func stop() async {
        let (task, group) = lifecycle.withLock { state -> (Task<Void, Never>?, ServiceGroup?) in
            guard !state.stopped else { return (nil, nil) }
            state.stopped = true
            return (state.task, state.group)
        }
        await engine.shutdown()
        if let task, let group {
            // Graceful: open connections finish their request; after 5 s they are cut.
            await group.triggerGracefulShutdown()
            let watchdog = Task {
                try await Task.sleep(for: .seconds(5))
                task.cancel()
            }
            await task.value
            watchdog.cancel()
        }
        if engine.ownsStorage { try? FileManager.default.removeItem(at: engine.storage) }
    }

    /// Everything done so far.
    public func ledger() -> FakeReplicate.Ledger { engine.ledger() }

    /// Adds faults to the active ones.
    public func inject(_ faults: FakeReplicate.Faults) { engine.inject(faults) }

    /// Serves `data` at `/public/NAME` (no token, no expiry) until the server stops: a stand-in
    /// for public storage, such as the stable URL a voice model zip must have. Start the server first.
    public func publish(_ data: Data, as name: String) throws -> URL {
        try engine.publish(data, as: name)
    }

    /// Records `id` as a FLUX pro finetune already trained on this account (as if by
    /// black-forest-labs/flux-pro-trainer), so flux-pro-finetuned accepts it.
    public func addFinetune(_ id: String) { engine.state.withLock { _ = $0.finetunes.insert(id) } }

    /// Removes every active fault.
    public func clearFaults() { engine.state.withLock { $0.faults.replace(with: FakeReplicate.Faults()) } }

    /// The base URL, once started.
    public var baseURL: URL? { lifecycle.withLock { $0.baseURL } }

    /// The folder with uploads and outputs.
    public var storageDirectory: URL { engine.storage }

    static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "localhost", "::1"].contains(host.lowercased()) || host.hasPrefix("127.")
    }
}

/// The request context: Hummingbird's, plus the connection (faults close it).
struct FakeContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// Hands every request to the engine.
struct FakeResponder: HTTPResponder {
    typealias Context = FakeContext
    let engine: Engine

    func respond(to request: Request, context: FakeContext) async throws -> Response {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: engine.configuration.maxFileSize + 1024 * 1024)
        } catch {
            return Reply.tooLarge().response(truncatingOn: nil)
        }
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { "\($0), \(field.value)" } ?? field.value
        }
        let path = request.uri.path
        let incoming = Incoming(
            method: request.method.rawValue, path: path,
            segments: path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) },
            query: parseQuery(request.uri.query), headers: headers, body: Data(body.readableBytesView))
        let (reply, truncate) = try await engine.handle(incoming, channel: context.channel)
        return reply.response(truncatingOn: truncate ? context.channel : nil)
    }
}
