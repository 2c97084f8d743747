import ArgumentParser
import FarmKit
import Foundation

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List past renders and trainings, show one, resume one.", subcommands: [List.self, Show.self, Resume.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List recent runs, newest first.")

        @Option(help: "How many runs to list.")
        var limit = 20

        @Flag(help: "Print one JSON object per run.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                let runs = try await Store(home: store.homeURL).runs(limit: limit)
                if json {
                    for run in runs { print(RunsCommand.json(run).compactString) }
                    return
                }
                guard !runs.isEmpty else {
                    print("no runs yet: try farm render --profile offline --song FILE")
                    return
                }
                var rows = [["run", "status", "profile", "subject", "song", "started"]]
                for run in runs {
                    rows.append([run.id, run.status.rawValue, run.profile, run.subject, run.song, RunsCommand.timestamp(run.createdAt)])
                }
                print(Console.table(rows), terminator: "")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one run with its stages.", discussion: "Example: farm runs show 20261125-1043")

        @Argument(help: "A run id, or a unique beginning of one.")
        var id: String

        @Flag(help: "Print the run as one JSON object.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            try await reportingErrors {
                guard let (run, stages) = try await Store(home: store.homeURL).run(id: id) else {
                    throw UsageError("no run \"\(id)\"", hint: "farm runs list shows the runs")
                }
                if json {
                    var object = RunsCommand.json(run).objectValue!
                    object["stages"] = .array(stages.map { stage in
                        var entry = JSONObject([("stage", .string(stage.stage)), ("implementation", .string(stage.implementation)),
                                                ("provider", .string(stage.provider)), ("status", .string(stage.status.rawValue)),
                                                ("cached", .bool(stage.cached))])
                        entry["seconds"] = stage.seconds.map(JSON.double)
                        entry["cache_key"] = stage.cacheKey.map(JSON.string)
                        entry["error"] = stage.error.map(JSON.string)
                        entry["metadata"] = stage.metadata
                        return .object(entry)
                    })
                    print(JSON.object(object).compactString)
                    return
                }
                var text = "run \(run.id): \(run.status.rawValue)\n"
                text += "  profile \(run.profile) · subject \(run.subject) · song \(run.song)\n"
                text += "  started \(RunsCommand.timestamp(run.createdAt))"
                if let finished = run.finishedAt { text += " · took \(Console.duration(finished.timeIntervalSince(run.createdAt)))" }
                text += "\n"
                if let output = run.output { text += "  output \(output)\n" }
                if let error = run.error { text += "  error: \(error)\n" }
                var rows = [["stage", "implementation", "status", "time", "cache key"]]
                for stage in stages {
                    rows.append([stage.stage, stage.implementation, stage.status.rawValue,
                                 stage.seconds.map(Console.duration) ?? "-", stage.cacheKey.map { String($0.prefix(12)) } ?? "-"])
                }
                text += "\n" + Console.table(rows)
                for stage in stages where stage.status == .failed {
                    text += "\n\(stage.stage) failed: \(stage.error ?? "unknown error")\n"
                    if let log = stage.log { text += log.split(separator: "\n").suffix(10).map { "  \($0)\n" }.joined() }
                }
                print(text, terminator: "")
            }
        }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Continue an interrupted or failed run.",
            discussion: """
                Repeats the run's render from the folder it was started in. Stages that finished come \
                from the cache; predictions still running on Replicate are re-attached rather than made \
                again; only what is missing runs. Running the same farm render command again does the same.

                Examples:
                  farm runs resume 20261125-104311-3fa2
                  farm runs resume 20261125 --json
                """)

        @Argument(help: "A run id, or a unique beginning of one.")
        var id: String

        @Flag(help: "Print one JSON object per line (events); the last line is the run's summary.")
        var json = false

        @Option(name: .customLong("on-interrupt"),
                help: ArgumentHelp("A training only: on Ctrl-C, cancel its remote trainings or leave them running (default: ask on a terminal, else leave).", valueName: "cancel|leave"))
        var onInterrupt: InterruptOption?

        @OptionGroup var store: StoreOptions

        func run() async throws {
            var found: (run: RunRecord, directory: URL)?
            try await reportingErrors {
                guard let (run, _) = try await Store(home: store.homeURL).run(id: id) else {
                    throw UsageError("no run \"\(id)\"", hint: "farm runs list shows the runs")
                }
                if run.status == .running, let pid = run.pid {
                    throw UsageError("run \(run.id) is still running (process \(pid))",
                                     hint: "wait for it, or stop it with Ctrl-C (or kill \(pid)) and resume it then")
                }
                let directory = URL(fileURLWithPath: run.request["directory"]?.stringValue ?? FileManager.default.currentDirectoryPath,
                                    isDirectory: true)
                guard FileManager.default.changeCurrentDirectoryPath(directory.path) else {
                    throw UsageError("the folder run \(run.id) was started in is gone: \(directory.path)",
                                     hint: "start the render again with farm render")
                }
                found = (run, directory)
            }
            guard let (run, directory) = found else { return }
            let mode: RenderReporter.Mode = json ? .json : Console.isTerminal ? .live : .plain
            if !json { Console.printNote("resuming run \(run.id) (\(run.status.rawValue))") }
            if TrainRequest.isTraining(run.request) {
                var request: TrainRequest?
                try await reportingErrors { request = try TrainRequest(json: run.request) }
                guard let request else { return }
                let service = TrainService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL,
                                           workingDirectory: directory)
                try await TrainCommand.perform(request, with: service, reporter: RenderReporter(mode: mode), onInterrupt: onInterrupt?.choice,
                                               resuming: run.id)
                return
            }
            var request: RenderRequest?
            try await reportingErrors { request = try RenderRequest(json: run.request) }
            guard let request else { return }
            let service = RenderService(registry: BuiltInProviders.registry, profiles: .standard(), home: store.homeURL,
                                        workingDirectory: directory)
            try await RenderCommand.perform(request, with: service, reporter: RenderReporter(mode: mode), resuming: run.id)
        }
    }

    static func json(_ run: RunRecord) -> JSON {
        var object = JSONObject([("run", .string(run.id)), ("status", .string(run.status.rawValue)), ("profile", .string(run.profile)),
                                 ("subject", .string(run.subject)), ("song", .string(run.song)),
                                 ("created", .string(timestamp(run.createdAt)))])
        object["finished"] = run.finishedAt.map { .string(timestamp($0)) }
        object["output"] = run.output.map(JSON.string)
        object["error"] = run.error.map(JSON.string)
        object["resumed_from"] = run.resumedFrom.map(JSON.string)
        return .object(object)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
    }
}
