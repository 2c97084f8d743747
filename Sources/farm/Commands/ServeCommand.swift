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
            (Ctrl-C) leaves the queue there, and the next farm serve resumes it. Uploaded songs no \
            waiting or running render needs are removed after --keep-uploads.

            Examples:
              farm serve
              farm serve --port 9000
              farm serve --keep-uploads 2h
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

    @Option(help: ArgumentHelp(
        "How long an uploaded song no waiting or running render needs is kept (after it was uploaded or last submitted): 90s, 30m, 24h or 7d.",
        valueName: "time"))
    var keepUploads = "24h"

    @OptionGroup var store: StoreOptions

    func run() async throws {
        try await reportingErrors {
            guard uploadLimit > 0 else { throw UsageError("--upload-limit must be at least 1 (MiB)", hint: "for example --upload-limit 512") }
            guard let retention = Self.duration(keepUploads) else {
                throw UsageError("--keep-uploads \"\(keepUploads)\" is not a time", hint: "give a number with s, m, h or d, e.g. 30m, 24h or 7d")
            }
            let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
            let server = try StudioServer(
                configuration: .init(host: host, port: port, token: token, uploadLimit: Int64(uploadLimit) << 20,
                                uploadRetention: retention), service: service)
            try await server.run { url in Console.writeError("farm: studio listening on \(url)\n") }
        }
    }

    /// `90s`, `30m`, `24h`, `7d` (or plain seconds) as a duration; nil when malformed.
    static func duration(_ text: String) -> Duration? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        let unit = text.last.flatMap { units[$0] }
        guard let value = Double(unit == nil ? text : String(text.dropLast())), value.isFinite, value >= 0 else { return nil }
        return .milliseconds(Int64((value * (unit ?? 1) * 1000).rounded()))
    }
}
