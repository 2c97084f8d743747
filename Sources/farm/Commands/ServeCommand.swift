import ArgumentParser
import FarmKit
import FarmServer
import Foundation

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the web studio: pick a subject and profile, drop a song, watch the render.",
        discussion: """
            Serves a page and a JSON API (described at /openapi.json) over the same services as farm \
            render. Renders wait in a queue in the store and run one at a time; stopping farm serve \
            (Ctrl-C) leaves the queue there, and the next farm serve resumes it.

            Examples:
              farm serve
              farm serve --port 9000
              farm serve --host 0.0.0.0 --token "$(openssl rand -hex 16)"
            """)

    @Option(help: "The address to listen on; anything but loopback needs --token.")
    var host = "127.0.0.1"

    @Option(help: "The TCP port (0 picks a free one).")
    var port = 8765

    @Option(help: "A secret every request must carry (required beyond loopback).")
    var token: String?

    @Option(help: "The largest song file an upload may be, in MiB.")
    var uploadLimit = 512

    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await reportingErrors {
            guard uploadLimit > 0 else { throw UsageError("--upload-limit must be at least 1 (MiB)", hint: "for example --upload-limit 512") }
            let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
            let server = try StudioServer(
                configuration: .init(host: host, port: port, token: token, uploadLimit: Int64(uploadLimit) << 20), service: service)
            try await server.run { url in Console.writeError("farm: studio listening on \(url)\n") }
        }
    }
}
