import Foundation

/// Renders: loads the profile and subject, checks everything, runs the graph, writes the result.
/// The CLI (and later the web studio) are thin layers over this service.
public struct RenderService: Sendable {
    public let registry: ProviderRegistry
    public let profiles: ProfileLibrary
    /// FARM_HOME: the store and the subjects.
    public let home: URL
    public let ffmpeg: FFmpeg
    /// Where relative output paths are resolved.
    public let workingDirectory: URL

    public init(registry: ProviderRegistry, profiles: ProfileLibrary, home: URL, ffmpeg: FFmpeg = FFmpeg(),
                workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)) {
        self.registry = registry
        self.profiles = profiles
        self.home = home
        self.ffmpeg = ffmpeg
        self.workingDirectory = workingDirectory
    }

    /// Loads and checks everything a render needs without running anything (also `--dry-run`).
    /// `allowingMissingInputs` resolves a profile without its inputs (`farm profiles show`).
    public func plan(_ request: RenderRequest, allowingMissingInputs: Bool = false) throws -> RenderPlan {
        let profile = try profiles.load(request.profile)
        guard let subjectName = request.subject ?? profile.defaultSubject else {
            throw UsageError("profile \(profile.name) needs a subject", hint: "give --subject NAME (see farm subjects list)")
        }
        let subject = try SubjectCatalog(home: home).subject(named: subjectName)
        var inputs: [String: String] = [:]
        inputs["song"] = request.song
        let overrides = ProfileResolver.Overrides(
            parameters: try request.settings.map(ParameterOverride.init(parsing:)), inputs: inputs,
            allowsMissingParameters: allowingMissingInputs)
        return try ProfileResolver(registry: registry).resolve(profile, subject: subject, overrides: overrides)
    }

    /// Runs a render to the end (or to Ctrl-C: cancel the calling task). Problems found before any
    /// work starts (profile, subject, song, output folder) are thrown before anything is written;
    /// what happens after is in the summary.
    /// `limits` fixes the concurrency of some providers (`--limit`), over the profile's.
    public func render(
        _ request: RenderRequest, limits: [String: Int] = [:], events: @escaping @Sendable (RenderEvent) -> Void
    ) async throws -> RenderSummary {
        let start = ContinuousClock.now
        let plan = try plan(request)
        let destination = try outputPath(for: request, plan: plan)
        var store = try existingStore()
        try await preflight(plan, store: store)
        if store == nil { store = try Store(home: home) }
        let summary = try await run(request, plan: plan, destination: destination, store: store!, limits: ProviderLimits(limits),
                                    start: start, events: events)
        // Plugin processes live for one render.
        await registry.shutdown()
        return summary
    }

    /// Renders several requests at once in this process, sharing the store, uploads, the work in
    /// flight and the providers' limits (`limits` fixes some of them, e.g. `replicate`: the most
    /// predictions running at once across the batch). One job's failure does not stop the others.
    /// `events` gets each job's events with the job's index.
    public func renderBatch(
        _ requests: [RenderRequest], limits: [String: Int], events: @escaping @Sendable (Int, RenderEvent) -> Void
    ) async -> [Result<RenderSummary, any Error>] {
        let start = ContinuousClock.now
        var results = [Result<RenderSummary, any Error>](repeating: .failure(CancellationError()), count: requests.count)
        var prepared: [(index: Int, plan: RenderPlan, destination: URL)] = []
        var destinations: [String: Int] = [:]
        for (index, request) in requests.enumerated() {
            do {
                let plan = try plan(request)
                let destination = try outputPath(for: request, plan: plan)
                if let other = destinations[destination.path] {
                    throw UsageError("jobs \(other + 1) and \(index + 1) of the batch both write \(destination.path)",
                                     hint: "give one of them another --out")
                }
                destinations[destination.path] = index
                prepared.append((index, plan, destination))
            } catch {
                results[index] = .failure(error)
            }
        }
        let store: Store
        do {
            store = try Store(home: home)
        } catch {
            return results.map { _ in .failure(error) }
        }
        let shared = ProviderLimits(limits)
        await withTaskGroup(of: (Int, Result<RenderSummary, any Error>).self) { group in
            for job in prepared {
                group.addTask {
                    do {
                        try await preflight(job.plan, store: store)
                        return (job.index, .success(try await run(
                            requests[job.index], plan: job.plan, destination: job.destination, store: store, limits: shared,
                            start: start, events: { events(job.index, $0) })))
                    } catch {
                        return (job.index, .failure(error))
                    }
                }
            }
            for await (index, result) in group { results[index] = result }
        }
        await registry.shutdown()
        return results
    }

    /// Checks the inputs of every stage that can be checked before anything runs, except stages
    /// `store` already holds results of (their inputs were checked when they ran).
    private func preflight(_ plan: RenderPlan, store: Store?) async throws {
        var cached: Set<String> = []
        if let store { cached = await GraphRunner(store: store, ffmpeg: ffmpeg, runID: "", events: { _ in }).cachedStages(plan) }
        let nodes = plan.nodes.filter { $0.canPreflight && !cached.contains($0.name) }
        // All at once; the first problem in plan order is the one reported.
        let problems = await withTaskGroup(of: (Int, (any Error)?).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask { [ffmpeg] in
                    do {
                        try await node.implementation.preflight(node.parameters.dictionary, tools: ffmpeg)
                        return (index, nil)
                    } catch {
                        return (index, error)
                    }
                }
            }
            var problems: [Int: any Error] = [:]
            for await (index, error) in group { problems[index] = error }
            return problems
        }
        if let first = problems.keys.min() { throw problems[first]! }
    }

    /// The store, when FARM_HOME already holds one (a render with bad input writes nothing).
    private func existingStore() throws -> Store? {
        FileManager.default.fileExists(atPath: home.appendingPathComponent("farm.sqlite").path) ? try Store(home: home) : nil
    }

    /// Runs a planned and checked render and publishes its result; its time counts from `start`.
    private func run(
        _ request: RenderRequest, plan: RenderPlan, destination: URL, store: Store, limits: ProviderLimits,
        start: ContinuousClock.Instant, events: @escaping @Sendable (RenderEvent) -> Void
    ) async throws -> RenderSummary {
        let run = try await store.createRun(NewRun(profile: plan.profile.name, subject: plan.subject.name, song: request.song ?? "", request: request.json))
        events(.started(runID: run.id, profile: plan.profile.name, subject: plan.subject.name, stages: plan.nodes.map {
            .init(name: $0.name, implementation: $0.implementation.id.description, provider: $0.provider)
        }))

        let outcomes = await GraphRunner(store: store, ffmpeg: ffmpeg, runID: run.id, limits: limits, events: events).run(plan)
        var status: RenderSummary.Status =
            outcomes.values.contains { $0.status == .interrupted } ? .interrupted
            : outcomes.values.allSatisfy { $0.status.hasOutputs } ? .succeeded : .failed
        var output: String?
        var writeError: (any Error)?
        if status == .succeeded, let artifact = outcomes[plan.output.stage]?.outputs[plan.output.port] {
            do {
                try await Self.publish(artifact, to: destination)
                output = destination.path
            } catch {
                status = Task.isCancelled ? .interrupted : .failed
                writeError = error
            }
        }

        let summary = RenderSummary(
            runID: run.id, status: status, output: output,
            stages: plan.nodes.map { node in
                let outcome = outcomes[node.name]!
                let farmError = outcome.error as? any FarmError
                return .init(name: node.name, implementation: node.implementation.id.description, provider: node.provider,
                             status: outcome.status, cached: outcome.status == .cached, seconds: outcome.seconds,
                             error: farmError?.message ?? outcome.error.map { "\($0)" }, hint: farmError?.hint,
                             isBadInput: farmError?.exitCode == ExitStatus.badInput, logTail: outcome.logTail,
                             metadata: outcome.metadata)
            },
            seconds: (ContinuousClock.now - start).seconds)
        let failure = writeError.map { "cannot write \(destination.path): \($0)" }
            ?? summary.stages.first { $0.status == .failed }.map { "stage \($0.name) failed: \($0.error ?? "unknown error")" }
        try? await store.finishRun(id: run.id, status: RunStatus(rawValue: status.rawValue)!, output: output,
                                   outputDigest: output == nil ? nil : outcomes[plan.output.stage]?.outputs[plan.output.port]?.digest,
                                   error: failure)
        events(.finished(summary))
        if let writeError, status == .failed { throw OutputError("cannot write the result to \(destination.path): \(writeError)", hint: "check the folder's free space and permissions") }
        return summary
    }

    /// The output file path, checked before any work: its folder must exist and be writable.
    func outputPath(for request: RenderRequest, plan: RenderPlan) throws -> URL {
        let songName = request.song.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? plan.profile.name
        let defaultName = Self.slug("\(plan.subject.name)-\(songName)") + ".mp4"
        var url = request.output.map { URL(fileURLWithPath: $0, relativeTo: workingDirectory).standardizedFileURL }
            ?? workingDirectory.appendingPathComponent(defaultName)
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            url = url.appendingPathComponent(defaultName)
        }
        let folder = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw OutputError("output folder does not exist: \(folder.path)", hint: "create it first, or give --out a path in an existing folder")
        }
        guard FileManager.default.isWritableFile(atPath: folder.path) else {
            throw OutputError("output folder is not writable: \(folder.path)", hint: "give --out a path in a folder you can write")
        }
        return url
    }

    /// Copies the result out of the store: temp file in the destination folder, then rename, so
    /// the destination never holds a partial video.
    static func publish(_ artifact: Artifact, to destination: URL) async throws {
        try await BlockingIO.run {
            let temp = destination.deletingLastPathComponent().appendingPathComponent(".\(destination.lastPathComponent).\(UUID().uuidString.prefix(8)).part")
            do {
                try FileManager.default.copyItem(at: artifact.path, to: temp)
                try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: temp.path)
                guard rename(temp.path, destination.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            } catch {
                try? FileManager.default.removeItem(at: temp)
                throw error
            }
        }
    }

    static func slug(_ text: String) -> String {
        let mapped = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(mapped).split(separator: "-").joined(separator: "-")
    }
}

/// A mistake in how farm was called.
public struct UsageError: FarmError {
    public let message: String
    public let hint: String?
    public var exitCode: Int32 { ExitStatus.badInput }

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}

/// The result cannot be written where the user asked.
public struct OutputError: FarmError {
    public let message: String
    public let hint: String?
    public var exitCode: Int32 { ExitStatus.badInput }

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
