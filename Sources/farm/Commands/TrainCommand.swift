import ArgumentParser
import FarmKit
import Foundation

struct TrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a subject's voice model and image model, and record the subject.",
        discussion: """
            Give a few minutes of the person singing or speaking alone (--voice, files or folders; the \
            more the better, RVC does best with about 10 minutes) and 10–20 photos of them (--photos, a \
            folder or a zip; jpg, png or webp; a photo.txt next to photo.jpg is kept as its caption). \
            farm slices the recordings at their pauses into a dataset, checks the photos, trains both \
            models and writes the subject file; then render with the command it prints.

            Like renders, trainings are cached and resumable: running the same command again, or \
            farm runs resume ID, continues an interrupted training without paying twice.

            Exit codes: 0 done · 1 a stage failed · 2 bad usage, config or input · 130 interrupted.

            Examples:
              farm train --profile train-offline --subject alice --voice alice-voice/ --photos alice-photos/
              farm train --subject alice --voice talk.m4a --voice singing.wav --photos alice.zip --trigger ALICETOK
            """)

    @Option(help: "The training profile: train-vivid (Replicate) or train-offline (local fakes), or a .json path.")
    var profile = "train-vivid"

    @Option(help: "The new subject's name (letters, digits, - and _).")
    var subject: String

    @Option(help: ArgumentHelp("A recording of the person's voice: a file or a folder of them (repeatable).", valueName: "path"))
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
        try await Self.perform(request, with: service, reporter: reporter)
    }

    /// Checks, runs and reports a training; throws the exit code when it is not 0.
    static func perform(_ request: TrainRequest, with service: TrainService, reporter: RenderReporter, resuming: String? = nil) async throws {
        var prepared: TrainService.Prepared?
        try await reportingErrors { prepared = try await service.prepare(request) }
        guard let prepared else { return }
        for warning in prepared.warnings { Console.writeError("warning: \(warning)\n") }
        let task = Task { try await service.train(prepared, resuming: resuming) { reporter.handle($0) } }
        let interrupt = InterruptHandler { task.cancel() }
        defer { interrupt.stop() }
        do {
            let summary = try await task.value
            reporter.finish(summary.render)
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

    /// Asks a yes/no question on the terminal; anything but y/yes is no.
    static func confirm(_ question: String) async throws -> Bool {
        Console.writeError(question)
        guard let answer = try await BlockingIO.run({ readLine() }) else { return false }
        return ["y", "yes"].contains(answer.trimmingCharacters(in: .whitespaces).lowercased())
    }
}
