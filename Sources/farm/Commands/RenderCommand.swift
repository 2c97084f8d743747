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

            The song is a local audio or video file, a direct http(s) link to one, a web page with an \
            <audio> or <video> element, or a YouTube (or other yt-dlp supported) link. Links are fetched \
            and checked before any stage runs, and kept: the same link is not fetched again within \
            song.fresh_hours (24 h) unless --refresh is given.

            Examples:
              farm render --profile offline --song demo/demo-song.mp3
              farm render --profile offline --song https://example.com/song.mp3 --clip 0:30-1:45
              farm render --profile offline --song song.mp3 --set portrait.seed=7 --out take2.mp4
              farm render --profile vivid --subject alice --song song.mp3 --json
              farm render --profile offline --song song.mp3 --dry-run
            """)

    @Option(help: "The render profile: a name from `farm profiles list` or a path to a .json file.")
    var profile = "vivid"

    @Option(help: "The subject to render (default: the profile's default subject).")
    var subject: String?

    @Option(help: ArgumentHelp("The song: an audio or video file, or a link to one, to a page with one, or to a YouTube video.", valueName: "file|url"))
    var song: String?

    @Option(help: ArgumentHelp("Render the song from this time: seconds, M:SS or H:MM:SS.", valueName: "time"))
    var start: String?

    @Option(help: ArgumentHelp("Render the song up to this time: seconds, M:SS or H:MM:SS.", valueName: "time"))
    var end: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Render this part of the song, e.g. 0:30-1:45 (either end may be left out).", valueName: "start-end"))
    var clip: String?

    @Flag(help: "Fetch a linked song again even when a fresh copy is stored.")
    var refresh = false

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
        let reporter = RenderReporter(mode: json ? .json : Console.isTerminal ? .live : .plain)
        let request: RenderRequest
        do {
            let clip = try SongClip(start: start, end: end, clip: self.clip)
            request = RenderRequest(profile: profile, subject: subject, song: song, clip: clip, refresh: refresh, settings: settings, output: output)
        } catch let error as UsageError {
            reporter.fail(message: error.message, hint: error.hint, exitCode: error.exitCode)
            throw ArgumentParser.ExitCode(error.exitCode)
        }
        if let server, !dryRun {
            guard request.clip == SongClip(), !request.refresh else {
                reporter.fail(message: "--start, --end, --clip and --refresh are not passed to a studio yet",
                              hint: "render the part here without --server, or trim the song first", exitCode: ExitStatus.badInput)
                throw ArgumentParser.ExitCode(ExitStatus.badInput)
            }
            var remote: RemoteRender?
            try await reportingErrors { remote = try RemoteRender(server: server) }
            try await reportingErrors { try await remote?.perform(request, json: json) }
            return
        }
        let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)

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
            // Ctrl-C before the stages started (while a link was being fetched): nothing was kept.
            if task.isCancelled {
                reporter.fail(message: "interrupted before any stage ran; nothing was kept", hint: "run the same command again", exitCode: ExitStatus.interrupted)
                throw ArgumentParser.ExitCode(ExitStatus.interrupted)
            }
            let farmError = error as? any FarmError
            let code = farmError?.exitCode ?? ExitStatus.stageFailed
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
