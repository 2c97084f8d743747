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
              farm render --profile vivid --subject alice --song one.mp3 --song two.mp3 --out videos/
              farm render --profile vivid --batch jobs.txt --limit replicate=16
            """)

    @Option(help: "The render profile: a name from `farm profiles list` or a path to a .json file.")
    var profile = "vivid"

    @Option(help: "The subject to render (default: the profile's default subject).")
    var subject: String?

    @Option(help: ArgumentHelp("The song: an audio or video file. Repeat it to render several songs at once.", valueName: "file"))
    var song: [String] = []

    @Option(help: ArgumentHelp(
        "Render every line of a batch file at once: SUBJECT SONG [--set stage.param=value]… [--out path] [--profile name].",
        valueName: "file"))
    var batch: String?

    @Option(name: .customLong("limit"), help: ArgumentHelp(
        "At most N stages of a provider at once, across every render of the command (repeatable).", valueName: "provider=N"))
    var limits: [String] = []

    @Option(name: .customLong("out"), help: ArgumentHelp("Where to write the video (a file or a folder).", valueName: "path"))
    var output: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a stage parameter (repeatable).", valueName: "stage.param=value"))
    var settings: [String] = []

    @Flag(help: "Check the profile, subject and song and show the plan; run nothing.")
    var dryRun = false

    @Flag(help: "Print one JSON object per line (events); the last line is the run's summary.")
    var json = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let request = RenderRequest(profile: profile, subject: subject, song: song.first, settings: settings, output: output)
        let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
        var jobs: [RenderRequest] = []
        var limits: [String: Int] = [:]
        try await reportingErrors {
            limits = try Self.parseLimits(self.limits)
            jobs = try self.jobs(request)
        }
        if jobs.count > 1 {
            try await BatchRun(service: service, jobs: jobs, limits: limits, mode: json ? .json : Console.isTerminal ? .live : .plain)
                .run(dryRun: dryRun)
            return
        }
        let reporter = RenderReporter(mode: json ? .json : Console.isTerminal ? .live : .plain)

        if dryRun {
            try await reportingErrors {
                let plan = try service.plan(request)
                print(PlanDescription.text(plan), terminator: "")
            }
            return
        }

        let task = Task { try await service.render(jobs.first ?? request, limits: limits) { reporter.handle($0) } }
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
