import ArgumentParser
import Dispatch
import FarmKit
import Foundation

struct RenderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a music video of a subject singing a song.",
        discussion: """
            Stages that already ran with the same inputs and parameters are reused from the cache, so \
            a repeated render costs nothing and changing one parameter re-runs only what depends on it.

            Exit codes: 0 done · 1 a stage failed · 2 bad usage, config or input · 130 interrupted.

            Examples:
              farm render --profile offline --song demo/demo-song.mp3
              farm render --profile offline --song song.mp3 --set portrait.seed=7 --out take2.mp4
              farm render --profile vivid --subject alice --song song.mp3 --json
              farm render --profile offline --song song.mp3 --dry-run
            """)

    @Option(help: "The render profile: a name from `farm profiles list` or a path to a .json file.")
    var profile = "vivid"

    @Option(help: "The subject to render (default: the profile's default subject).")
    var subject: String?

    @Option(help: ArgumentHelp("The song: an audio or video file.", valueName: "file"))
    var song: String?

    @Option(name: .customLong("out"), help: ArgumentHelp("Where to write the video (a file or a folder).", valueName: "path"))
    var output: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a stage parameter (repeatable).", valueName: "stage.param=value"))
    var settings: [String] = []

    @Flag(help: "Check the profile, subject and song and show the plan; run nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON object per line (events); the last line is the run's summary.")
    var json = false

    @Option(help: ArgumentHelp("Render on a running farm serve (its printed address) instead of here.", valueName: "url"))
    var server: String?

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let request = RenderRequest(profile: profile, subject: subject, song: song, settings: settings, output: output)
        if let server, !dryRun {
            var remote: RemoteRender?
            try await reportingErrors { remote = try RemoteRender(server: server) }
            try await reportingErrors { try await remote?.perform(request, json: json) }
            return
        }
        let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
        let reporter = RenderReporter(mode: json ? .json : Console.isTerminal ? .live : .plain)

        if dryRun {
            try await reportingErrors {
                let plan = try service.plan(request)
                print(PlanDescription.text(plan), terminator: "")
            }
            return
        }

        try await Self.perform(request, with: service, reporter: reporter)
    }

    /// Runs a render with live reporting and Ctrl-C handling; throws the exit code when it is not 0.
    static func perform(_ request: RenderRequest, with service: RenderService, reporter: RenderReporter, resuming: String? = nil) async throws {
        let task = Task { try await service.render(request, resuming: resuming) { reporter.handle($0) } }
        let interrupt = InterruptHandler { task.cancel() }
        defer { interrupt.stop() }
        do {
            let summary = try await task.value
            reporter.finish(summary)
            if summary.exitCode != ExitStatus.success { throw ArgumentParser.ExitCode(summary.exitCode) }
        } catch let error as ArgumentParser.ExitCode {
            throw error
        } catch {
            let farmError = error as? any FarmError
            let code = Task.isCancelled ? ExitStatus.interrupted : farmError?.exitCode ?? ExitStatus.stageFailed
            reporter.fail(message: farmError?.message ?? "\(error)", hint: farmError?.hint, exitCode: code)
            throw ArgumentParser.ExitCode(code)
        }
    }
}

/// Turns the first Ctrl-C into a cancellation of the render and the second into an immediate exit.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    init(onInterrupt: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "farm.signals"))
        let count = Counter()
        source.setEventHandler {
            if count.increment() == 1 {
                Console.printNote("interrupting: stopping running stages (Ctrl-C again to quit at once)")
                onInterrupt()
            } else {
                exit(ExitStatus.interrupted)
            }
        }
        source.resume()
        self.source = source
    }

    func stop() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }

    private final class Counter: @unchecked Sendable {
        private var value = 0
        /// Only called from the signal source's serial queue.
        func increment() -> Int {
            value += 1
            return value
        }
    }
}
