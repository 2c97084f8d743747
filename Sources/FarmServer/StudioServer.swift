import FarmKit
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// `farm serve`: the web studio and its JSON API over the same `RenderService` as the CLI.
public struct StudioServer: Sendable {
    /// What the server needs; `service` decides providers, profiles and the store.
    public struct Configuration: Sendable {
        public var host: String
        public var port: Int
        /// Required when `host` is not a loopback address; then every request must carry it.
        public var token: String?
        /// The largest song file accepted by an upload, bytes.
        public var uploadLimit: Int64
        /// How long an uploaded song no waiting or running render needs is kept after it was
        /// uploaded or last submitted.
        public var uploadRetention: Duration

        public init(host: String = "127.0.0.1", port: Int = 8765, token: String? = nil, uploadLimit: Int64 = 512 << 20,
                    uploadRetention: Duration = .seconds(24 * 3600)) {
            self.host = host
            self.port = port
            self.token = token
            self.uploadLimit = uploadLimit
            self.uploadRetention = uploadRetention
        }
    }

    let configuration: Configuration
    let service: RenderService

    /// Checks the configuration: a non-loopback host needs a token of at least 16 characters.
    public init(configuration: Configuration, service: RenderService) throws {
        if !Self.isLoopback(configuration.host) {
            guard let token = configuration.token else {
                throw UsageError("listening on \(configuration.host) opens the studio to other machines, so it needs a token",
                                 hint: "add --token SECRET (16 or more characters), or leave out --host to stay on 127.0.0.1")
            }
            guard token.count >= 16 else {
                throw UsageError("the --token is too short (\(token.count) characters)", hint: "use 16 or more random characters")
            }
        }
        guard configuration.uploadRetention > .zero else {
            throw UsageError("--keep-uploads must be longer than 0", hint: "give a time such as 30m, 24h or 7d")
        }
        guard (0...65535).contains(configuration.port) else {
            throw UsageError("--port \(configuration.port) is not a TCP port", hint: "use a number from 1 to 65535 (0 picks a free one)")
        }
        self.configuration = configuration
        self.service = service
    }

    /// Serves until SIGINT or SIGTERM; `onListening` gets the page's URL once the socket is bound.
    public func run(onListening: @escaping @Sendable (String) -> Void) async throws {
        let home = service.home
        let store = try Store(home: home)
        let studio = home.appendingPathComponent("studio", isDirectory: true)
        let videos = studio.appendingPathComponent("videos", isDirectory: true)
        let uploads = studio.appendingPathComponent("uploads", isDirectory: true)
        for folder in [videos, uploads] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let renderService = RenderService(
            registry: service.registry, profiles: service.profiles, home: home, ffmpeg: service.ffmpeg, workingDirectory: videos)
        let queue = RenderQueue(store: store, service: renderService)
        let sweeper = UploadSweeper(folder: UploadFolder(url: uploads, retention: configuration.uploadRetention), store: store)
        // Stale uploads go before the server listens.
        try await sweeper.sweep(startup: true)
        let port = BoundPort()
        let responder = StudioResponder(
            configuration: configuration, service: renderService, store: store, queue: queue, uploads: sweeper.folder, port: port)

        var logger = Logger(label: "farm.serve")
        logger.logLevel = .warning
        let configuration = configuration
        let app = Application(
            responder: responder,
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port)),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? configuration.port
                port.set(bound)
                let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
                onListening("http://\(host):\(bound)/" + (configuration.token.map { "?token=\($0)" } ?? ""))
            },
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: QueueService(queue: queue)), .init(service: sweeper), .init(service: app)],
            gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            throw UsageError("port \(configuration.port) on \(configuration.host) is already in use",
                             hint: "stop what uses it, or choose another with --port (0 picks a free one)")
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        ["127.0.0.1", "localhost", "::1"].contains(host.lowercased()) || host.hasPrefix("127.")
    }
}

/// The port the server listens on, known once it is bound (`--port 0` picks one).
final class BoundPort: Sendable {
    private let port = Mutex(0)
    func set(_ value: Int) { port.withLock { $0 = value } }
    var value: Int { port.withLock { $0 } }
}

/// The queue's worker as a service: stops (interrupting the running render) when the server does.
struct QueueService: Service {
    let queue: RenderQueue

    func run() async throws {
        await cancelWhenGracefulShutdown { await queue.work() }
    }
}
