import ArgumentParser
import FarmKit
import Foundation
import Synchronization

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a subject's voice model and image model, and record the subject.",
        discussion: """
            Give a few minutes of the person singing or speaking alone (--voice: files, folders, direct \
            links, pages with a recording, or YouTube links; the more the better, RVC does best with \
            about 10 minutes) and 10–20 photos of them (--photos, a folder or a zip; jpg, png or webp; a \
            photo.txt next to photo.jpg is kept as its caption). farm fetches links first (yt-dlp for \
            pages and YouTube, kept in the store like song links), slices the recordings at their pauses \
            into a dataset, checks the photos, trains both models and writes the subject file; then \
            render with the command it prints. The profile train-vivid-youtube builds the dataset on \
            Replicate instead (zsxkib/create-rvc-dataset: one YouTube link, its vocals separated from \
            music there); the local build is the default because it is free and YouTube often blocks \
            Replicate's machines.

            Like renders, trainings are cached and resumable: running the same command again, or \
            farm runs resume ID, continues an interrupted training without paying twice. Ctrl-C while \
            a training runs on Replicate asks (on a terminal) whether to cancel it there or leave it \
            running and collect it later with farm runs resume ID; with --json or without a terminal \
            it is left running (what was paid for is not thrown away). --on-interrupt cancel|leave \
            answers in advance.

            Exit codes: 0 done · 1 a stage failed · 2 bad usage, config or input · 130 interrupted.

            Examples:
              farm train --profile train-offline --subject alice --voice alice-voice/ --photos alice-photos/
              farm train --subject alice --voice talk.m4a --voice singing.wav --photos alice.zip --trigger ALICETOK
              farm train --subject alice --voice https://example.com/alice-interview.mp3 --photos alice-photos/
              farm train --subject alice --voice 'https://www.youtube.com/watch?v=VIDEO' --photos alice-photos/ --on-interrupt cancel
              farm train --profile train-vivid-youtube --subject alice --voice 'https://youtu.be/VIDEO' --photos alice-photos/
            """)

    @Option(help: "The training profile: train-vivid (Replicate) or train-offline (local fakes), or a .json path.")
    var profile = "train-vivid"

    @Option(help: "The new subject's name (letters, digits, - and _).")
    var subject: String

    @Option(help: ArgumentHelp("A recording of the person's voice: a file, a folder of them, or an http(s) link (a file, a page, YouTube; repeatable).", valueName: "path|url"))
    var voice: [String] = []

    @Option(help: ArgumentHelp("Photos of the person: a folder or a zip.", valueName: "path"))
    var photos: String?

    @Option(help: "The image model's trigger word (default: the name in capitals).")
    var trigger: String?

    @Option(help: "The voice's pitch relation recorded with the subject: no-change, male-to-female or female-to-male.")
    var pitch: String?

    @Option(name: .customLong("voice-url"), help: ArgumentHelp("A public URL where you host the voice zip (e.g. a Hugging Face resolve link).", valueName: "url"))
    var voiceURL: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a stage parameter (repeatable).", valueName: "stage.param=value"))
    var settings: [String] = []

    @Flag(help: "Replace a subject of the same name.")
    var force = false

    @Option(name: .customLong("on-interrupt"),
            help: ArgumentHelp("On Ctrl-C, cancel the trainings running on Replicate or leave them running to resume later (default: ask on a terminal, else leave).", valueName: "cancel|leave"))
    var onInterrupt: InterruptOption?

    @Flag(help: "Print one JSON object per line (events); the last line is the run's summary.")
    var json = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        var request = TrainRequest(
            profile: profile, subject: subject, trigger: trigger, voice: voice, photos: photos, settings: settings,
            pitch: pitch, voiceURL: voiceURL, force: force)
        if !force, !json, Console.isTerminal, SubjectCatalog(home: store.homeURL).exists(subject) {
            request.force = try await Self.confirm("subject \(subject) already exists; replace it when the training is done? [y/N] ")
        }
        let service = TrainService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL)
        let reporter = RenderReporter(mode: json ? .json : Console.isTerminal ? .live : .plain)
        try await Self.perform(request, with: service, reporter: reporter, onInterrupt: onInterrupt?.choice)
    }

    /// Checks, runs and reports a training; throws the exit code when it is not 0. `onInterrupt`
    /// nil asks on Ctrl-C when remote stages run and the terminal can answer, else leaves them.
    static func perform(_ request: TrainRequest, with service: TrainService, reporter: RenderReporter, onInterrupt: InterruptChoice?,
                        resuming: String? = nil) async throws {
        var prepared: TrainService.Prepared?
        try await reportingErrors { prepared = try await service.prepare(request) }
        guard let prepared else { return }
        for warning in prepared.warnings { Console.writeError("warning: \(warning)\n") }
        let policy = InterruptPolicy(onInterrupt ?? .leave)
        let remote = RemoteStages()
        let task = Task {
            try await InterruptPolicy.$current.withValue(policy) {
                try await service.train(prepared, resuming: resuming) { event in
                    remote.observe(event)
                    reporter.handle(event)
                }
            }
        }
        let ask = onInterrupt == nil && !reporter.isJSON && Console.isTerminal && isatty(STDIN_FILENO) == 1
        let interrupt = InterruptHandler(note: nil) {
            let running = remote.running
            guard ask, !running.isEmpty else {
                Console.printNote(running.isEmpty ? "interrupting: stopping running stages (Ctrl-C again to quit at once)"
                                  : "interrupting: \(policy.choice == .cancel ? "cancelling" : "leaving running") the remote work of \(running.joined(separator: ", ")) (Ctrl-C again to quit at once)")
                task.cancel()
                return
            }
            Task {
                reporter.pause()
                policy.choice = await Self.askOnInterrupt(running: running, runID: remote.runID)
                reporter.resume()
                task.cancel()
            }
        }
        defer { interrupt.stop() }
        do {
            let summary = try await task.value
            reporter.finish(summary.render)
            if summary.render.status == .interrupted, !remote.interrupted.isEmpty {
                let stages = remote.interrupted.joined(separator: ", ")
                Console.printNote(policy.choice == .leave
                    ? "left the remote work of \(stages) running on Replicate: farm runs resume \(summary.render.runID) re-attaches to it and pays nothing twice"
                    : "cancelled the remote work of \(stages) on Replicate")
            }
            if summary.render.exitCode != ExitStatus.success { throw ArgumentParser.ExitCode(summary.render.exitCode) }
            if let subject = summary.subject {
                var note = "trained subject \(subject.name) (trigger word \(subject.trigger))"
                if let expires = subject.voiceModelExpires {
                    note += "\nthe voice model's URL is temporary (until \(expires)): publish it with farm subjects publish \(subject.name), or host \(subject.slug ?? subject.name).zip yourself and record it with farm subjects add \(subject.name) --force --voice URL …"
                }
                Console.printNote(note)
                if !reporter.isJSON {
                    Console.writeOutput("render with: farm render --profile \(summary.renderProfile ?? "vivid") --subject \(subject.name) --song FILE\n")
                }
            }
        } catch let error as ArgumentParser.ExitCode {
            throw error
        } catch {
            let farmError = error as? any FarmError
            let code = Task.isCancelled ? ExitStatus.interrupted : farmError?.exitCode ?? ExitStatus.stageFailed
            reporter.fail(message: farmError?.message ?? "\(error)", hint: farmError?.hint, exitCode: code)
            throw ArgumentParser.ExitCode(code)
        }
    }

    /// Asks whether to cancel the remote work of the `running` stages or leave it; an empty answer
    /// (or none) leaves it.
    static func askOnInterrupt(running: [String], runID: String?) async -> InterruptChoice {
        let resume = runID.map { "farm runs resume \($0)" } ?? "farm runs resume"
        Console.writeError("""
            \ninterrupted while \(running.joined(separator: ", ")) \(running.count == 1 ? "runs" : "run") on Replicate (Ctrl-C again quits at once, leaving it running).
            [c] cancel it there (what it used so far is still paid for)
            [L] leave it running and collect it later with \(resume)
            cancel or leave? [c/L] 
            """)
        let answer = (try? await BlockingIO.run { readLine() }) ?? nil
        let text = (answer ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        return ["c", "cancel"].contains(text) ? .cancel : .leave
    }

    /// Asks a yes/no question on the terminal; anything but y/yes is no.
    static func confirm(_ question: String) async throws -> Bool {
        Console.writeError(question)
        guard let answer = try await BlockingIO.run({ readLine() }) else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }
}

/// `--on-interrupt`: what Ctrl-C does with trainings running on Replicate.
enum InterruptOption: String, ExpressibleByArgument, CaseIterable {
    case cancel, leave

    var choice: InterruptChoice { self == .cancel ? .cancel : .leave }
}

/// Which stages of a training run remote work right now, from its events: the stages of the
/// `replicate` provider between their `running` and final events.
final class RemoteStages: Sendable {
    private struct State {
        var runID: String?
        var remote: Set<String> = []
        var running: [String] = []
        /// Remote stages interrupted while running.
        var interrupted: [String] = []
    }

    private let state = Mutex(State())

    func observe(_ event: RenderEvent) {
        state.withLock { state in
            switch event {
            case .started(let runID, _, _, let stages):
                state.runID = runID
                state.remote = Set(stages.filter { $0.provider == "replicate" }.map(\.name))
            case .stage(let name, let status, _, _) where state.remote.contains(name):
                // Only a stage that ran has remote work to leave or cancel (not one still waiting).
                let wasRunning = state.running.contains(name)
                state.running.removeAll { $0 == name }
                if status == .running { state.running.append(name) }
                if status == .interrupted, wasRunning { state.interrupted.append(name) }
            default: break
            }
        }
    }

    var runID: String? { state.withLock { $0.runID } }
    var running: [String] { state.withLock { $0.running } }
    var interrupted: [String] { state.withLock { $0.interrupted } }
}
