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

            Several --song values, or --batch FILE, render together in one process: they share the \
            store and work in flight, --limit caps a provider's stages at once across all of them, and \
            one job's failure does not stop the others. --out must then be a folder.

            Examples:
              farm render --profile offline --song demo/demo-song.mp3
              farm render --profile offline --song https://example.com/song.mp3 --clip 0:30-1:45
              farm render --profile offline --song song.mp3 --set portrait.seed=7 --out take2.mp4
              farm render --profile vivid --subject alice --song song.mp3 --json
              farm render --profile offline --song song.mp3 --dry-run
              farm render --profile vivid --subject alice --song one.mp3 --song two.mp3 --out videos/
              farm render --profile vivid --batch jobs.txt --limit replicate=16
            """)

    @Option(help: "The render profile: a name from `farm profiles list` or a path to a .json file.")
    var profile = "vivid"

    @Option(help: "The subject to render (default: the profile's default subject).")
    var subject: String?

    @Option(help: ArgumentHelp(
        "The song: an audio or video file, or a link to one, to a page with one, or to a YouTube video. Repeat it to render several songs at once.",
        valueName: "file|url"))
    var song: [String] = []

    @Option(help: ArgumentHelp(
        "Render every line of a batch file at once: SUBJECT SONG [--set stage.param=value]… [--clip start-end] [--out path] [--profile name].",
        valueName: "file"))
    var batch: String?

    @Option(name: .customLong("limit"), help: ArgumentHelp(
        "At most N stages of a provider at once, across every render of the command (repeatable).", valueName: "provider=N"))
    var limits: [String] = []

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
        let mode: RenderReporter.Mode = json ? .json : Console.isTerminal ? .live : .plain
        let reporter = RenderReporter(mode: mode)
        let request: RenderRequest
        let jobs: [RenderRequest]
        let limits: [String: Int]
        do {
            let clip = try SongClip(start: start, end: end, clip: self.clip)
            request = RenderRequest(profile: profile, subject: subject, song: song.first, clip: clip, refresh: refresh, settings: settings, output: output)
            limits = try Self.parseLimits(self.limits)
            jobs = try self.jobs(request)
        } catch let error as UsageError {
            reporter.fail(message: error.message, hint: error.hint, exitCode: error.exitCode)
            throw ArgumentParser.ExitCode(error.exitCode)
        }
        if let server, !dryRun {
            guard jobs.count == 1, limits.isEmpty else {
                reporter.fail(message: jobs.count == 1 ? "--limit applies to renders made here, not on a studio" : "--server renders one song at a time",
                              hint: "queue each song with its own farm render --server, or render here without --server",
                              exitCode: ExitStatus.badInput)
                throw ArgumentParser.ExitCode(ExitStatus.badInput)
            }
            var remote: RemoteRender?
            try await reportingErrors { remote = try RemoteRender(server: server) }
            try await reportingErrors { try await remote?.perform(jobs[0], json: json) }
            return
        }
        let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
        if jobs.count > 1 {
            try await BatchRun(service: service, jobs: jobs, limits: limits, mode: mode).run(dryRun: dryRun)
            return
        }

        if dryRun {
            try await reportingErrors {
                let plan = try await service.check(jobs[0])
                print(PlanDescription.text(plan), terminator: "")
            }
            return
        }

        try await Self.perform(jobs[0], with: service, reporter: reporter, limits: limits)
    }

    /// Runs a render with live reporting and Ctrl-C handling; throws the exit code when it is not 0.
    static func perform(
        _ request: RenderRequest, with service: RenderService, reporter: RenderReporter, limits: [String: Int] = [:], resuming: String? = nil
    ) async throws {
        let task = Task { try await service.render(request, resuming: resuming, limits: limits) { reporter.handle($0) } }
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

extension RenderCommand {
    /// One render per `--song`, then one per line of `--batch`.
    func jobs(_ request: RenderRequest) throws -> [RenderRequest] {
        var jobs = song.map { song -> RenderRequest in
            var job = request
            job.song = song
            return job
        }
        if let batch {
            var defaults = request
            defaults.song = nil
            jobs += try BatchFile.requests(contentsOf: URL(fileURLWithPath: batch), defaults: defaults)
        }
        var isFolder: ObjCBool = false
        if jobs.count > 1, let output, !(FileManager.default.fileExists(atPath: output, isDirectory: &isFolder) && isFolder.boolValue) {
            throw UsageError("--out \(output) names one file, but \(jobs.count) renders would write it",
                             hint: "give --out an existing folder (each video gets its own name there), or an --out per batch line")
        }
        return jobs.isEmpty ? [request] : jobs
    }

    /// `--limit replicate=16` → ["replicate": 16].
    static func parseLimits(_ texts: [String]) throws -> [String: Int] {
        var limits: [String: Int] = [:]
        for text in texts {
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let limit = Int(parts[1]), limit >= 1 else {
                throw UsageError("--limit \(text): expected PROVIDER=N with N at least 1", hint: "for example --limit replicate=16")
            }
            limits[parts[0]] = limit
        }
        return limits
    }
}

/// Turns the first Ctrl-C into a cancellation of the render and the second into an immediate exit.
final class InterruptHandler {
    private let source: any DispatchSourceSignal

    /// `note` is printed on the first Ctrl-C, before `onInterrupt` runs; nil prints nothing.
    init(note: String? = "interrupting: stopping running stages (Ctrl-C again to quit at once)", onInterrupt: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: DispatchQueue(label: "farm.signals"))
        let count = Counter()
        source.setEventHandler {
            if count.increment() == 1 {
                if let note { Console.printNote(note) }
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
