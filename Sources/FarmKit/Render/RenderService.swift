import Foundation
import Synchronization

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
        let overrides = ProfileResolver.Overrides(
            parameters: try request.settings.map(ParameterOverride.init(parsing:)), inputs: request.inputs,
            allowsMissingParameters: allowingMissingInputs)
        return try ProfileResolver(registry: registry).resolve(profile, subject: subject, overrides: overrides)
    }

    /// What `farm render --dry-run` checks, running and writing nothing: the plan, FARM_HOME, the
    /// output folder, and the song as a render's preflight checks it (a local file must exist and hold
    /// audio; a link is checked for its form but not fetched). Throws the error the render would give.
    public func check(_ request: RenderRequest) async throws -> RenderPlan {
        let plan = try plan(request)
        try Store.checkHome(home)
        _ = try outputPath(for: request, plan: plan, songTitle: nil)
        if let stage = plan.profile.inputs["song"]?.split(separator: ".").first,
           let node = plan.nodes.first(where: { $0.name == stage && $0.canPreflight })
        {
            let context = PreflightContext(
                stageName: node.name, stores: StoreOpener(home: home), ffmpeg: ffmpeg, http: HTTPClient(), refresh: false, checkOnly: true
            ) { _ in }
            _ = try await node.implementation.preflight(node.parameters.dictionary, in: context)
        }
        return plan
    }

    /// Runs a render to the end (or to Ctrl-C: cancel the calling task). Problems found before any
    /// work starts (profile, subject, FARM_HOME, output folder, song) are thrown before anything is written;
    /// what happens after is in the summary.
    /// `resuming` names the earlier run this one continues (`farm runs resume`): finished stages
    /// come from the cache and journalled predictions are re-attached, as for any repeated render.
    /// `limits` fixes the concurrency of some providers (`--limit`), over the profile's.
    public func render(
        _ request: RenderRequest, resuming: String? = nil, limits: [String: Int] = [:],
        events: @escaping @Sendable (RenderEvent) -> Void
    ) async throws -> RenderSummary {
        let start = ContinuousClock.now
        let plan = try plan(request)
        // FARM_HOME and the output folder are checked before anything is fetched; the name needs the song's title.
        try Store.checkHome(home)
        _ = try outputPath(for: request, plan: plan, songTitle: nil)
        let stores = StoreOpener(home: home)
        let storeExisted = (try? stores.existing()) != nil
        let prepared = try await Self.preflight(plan, refresh: request.refresh, stores: stores, ffmpeg: ffmpeg, events: events)
        let destination = try outputPath(for: request, plan: plan, songTitle: songTitle(plan: plan, prepared: prepared))
        let store = try stores.open()
        await store.removeAbandonedTemporaryFiles()
        // The preflights of a first render had no store to remember their findings in.
        if !storeExisted { await Self.rememberPreflights(plan, prepared: prepared, store: store) }
        let summary = try await run(
            request, plan: plan, prepared: prepared, destination: destination, store: store, limits: ProviderLimits(limits),
            resuming: resuming, start: start, events: events)
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
        var planned: [(index: Int, plan: RenderPlan)] = []
        for (index, request) in requests.enumerated() {
            do {
                let plan = try plan(request)
                _ = try outputPath(for: request, plan: plan, songTitle: nil)
                planned.append((index, plan))
            } catch {
                results[index] = .failure(error)
            }
        }
        let stores = StoreOpener(home: home)
        let store: Store
        do {
            store = try stores.open()
        } catch {
            return results.map { _ in .failure(error) }
        }
        await store.removeAbandonedTemporaryFiles()
        let shared = ProviderLimits(limits)
        let destinations = DestinationClaims()
        await withTaskGroup(of: (Int, Result<RenderSummary, any Error>).self) { group in
            for job in planned {
                let request = requests[job.index]
                group.addTask {
                    do {
                        let jobEvents: @Sendable (RenderEvent) -> Void = { events(job.index, $0) }
                        let prepared = try await Self.preflight(job.plan, refresh: request.refresh, stores: stores, ffmpeg: ffmpeg, events: jobEvents)
                        let destination = try outputPath(for: request, plan: job.plan, songTitle: songTitle(plan: job.plan, prepared: prepared))
                        try destinations.claim(destination, job: job.index)
                        return (job.index, .success(try await run(
                            request, plan: job.plan, prepared: prepared, destination: destination, store: store, limits: shared,
                            resuming: nil, start: start, events: jobEvents)))
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

    /// Runs a planned and checked render and publishes its result; its time counts from `start`.
    private func run(
        _ request: RenderRequest, plan: RenderPlan, prepared: [String: Preparation], destination: URL, store: Store,
        limits: ProviderLimits, resuming: String?, start: ContinuousClock.Instant, events: @escaping @Sendable (RenderEvent) -> Void
    ) async throws -> RenderSummary {
        var recorded = request.json.objectValue ?? JSONObject()
        recorded["directory"] = .string(workingDirectory.path)
        let stages = RenderEvent.PlannedStage.list(plan)
        let run = try await store.createRun(NewRun(
            profile: plan.profile.name, subject: plan.subject.name, song: request.song ?? "", request: .object(recorded),
            resumedFrom: resuming, graph: .array(stages.map(\.json))))
        events(.started(runID: run.id, profile: plan.profile.name, subject: plan.subject.name, stages: stages))

        let outcomes = await GraphRunner(store: store, ffmpeg: ffmpeg, runID: run.id, limits: limits, events: events).run(plan, prepared: prepared)
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
        let failure = writeError.map { PublishError(destination: destination, underlying: $0).message }
            ?? summary.stages.first { $0.status == .failed }.map { "stage \($0.name) failed: \($0.error ?? "unknown error")" }
        try? await store.finishRun(id: run.id, status: RunStatus(rawValue: status.rawValue)!, output: output,
                                   outputDigest: output == nil ? nil : outcomes[plan.output.stage]?.outputs[plan.output.port]?.digest,
                                   error: failure)
        events(.finished(summary))
        if let writeError, status == .failed { throw PublishError(destination: destination, underlying: writeError) }
        return summary
    }

    /// Runs the preflights of a plan's stages; the first failure stops the others and is thrown.
    /// Returns what they prepared, by stage name.
    ///
    /// A stage the store already holds the result of is not checked again (its inputs were checked
    /// when it ran), so a repeated render makes almost no requests and starts almost no tools.
    /// Which results are held can depend on what preflights prepare (the song a link names), so
    /// stages that prepare go first (always), together with every stage that does not depend on
    /// them; the stages downstream of them are looked up and checked once those are done.
    static func preflight(
        _ plan: RenderPlan, refresh: Bool, stores: StoreOpener, ffmpeg: FFmpeg, events: @escaping @Sendable (RenderEvent) -> Void
    ) async throws -> [String: Preparation] {
        let http = HTTPClient()
        let runner = try stores.existing().map { GraphRunner(store: $0, ffmpeg: ffmpeg, runID: "", events: { _ in }) }
        var downstream = Set(plan.nodes.filter(\.implementation.preflightPrepares).map(\.name))
        for node in plan.nodes where node.dependencies.contains(where: downstream.contains) { downstream.insert(node.name) }

        let cachedEarly = await runner?.cachedStages(plan) ?? []
        let first = plan.nodes.filter {
            $0.canPreflight && ($0.implementation.preflightPrepares || (!downstream.contains($0.name) && !cachedEarly.contains($0.name)))
        }
        var prepared = try await preflight(first, refresh: refresh, stores: stores, ffmpeg: ffmpeg, http: http, events: events)
        let rest = plan.nodes.filter { $0.canPreflight && downstream.contains($0.name) && !$0.implementation.preflightPrepares }
        guard !rest.isEmpty else { return prepared }
        let cached = await runner?.cachedStages(plan, prepared: prepared) ?? []
        let second = rest.filter { !cached.contains($0.name) }
        prepared.merge(try await preflight(second, refresh: refresh, stores: stores, ffmpeg: ffmpeg, http: http, events: events)) { $1 }
        return prepared
    }

    /// Runs the preflights of `nodes` at once; the first failure stops the others and is thrown.
    private static func preflight(
        _ nodes: [RenderPlan.Node], refresh: Bool, stores: StoreOpener, ffmpeg: FFmpeg, http: HTTPClient,
        events: @escaping @Sendable (RenderEvent) -> Void
    ) async throws -> [String: Preparation] {
        try await withThrowingTaskGroup(of: (String, Preparation).self) { group in
            for node in nodes {
                let name = node.name
                let context = PreflightContext(stageName: name, stores: stores, ffmpeg: ffmpeg, http: http, refresh: refresh) { report in
                    switch report {
                    case .download(let received, let total): events(.download(stage: name, received: received, total: total))
                    case .note(let message): events(.note(stage: name, message: message))
                    }
                }
                group.addTask {
                    let store = try? stores.existing()
                    let memo = if let store { await preflightMemoKey(node, store: store) } else { String?.none }
                    if let store, let memo, !refresh, let facts = try? await store.checkedPreparation(memo) {
                        return (name, Preparation(facts: facts))
                    }
                    let preparation = try await node.implementation.preflight(node.parameters.dictionary, in: context)
                    if let store, let memo, preparation.artifacts.isEmpty {
                        try? await store.keepCheckedPreparation(memo, facts: preparation.facts)
                    }
                    return (name, preparation)
                }
            }
            var prepared: [String: Preparation] = [:]
            for try await (name, preparation) in group where !preparation.isEmpty { prepared[name] = preparation }
            return prepared
        }
    }

    /// The key under which what `node`'s preflight finds is remembered, when the stage names its
    /// outside input by content (a local song by its digest, through `cacheIdentity`): the same
    /// bytes under the same parameters pass the same checks, so a repeated render does not probe
    /// and decode the song again. Nil for stages that depend on others or have no such identity (links).
    static func preflightMemoKey(_ node: RenderPlan.Node, store: Store) async -> String? {
        let parameters = node.parameters.dictionary
        guard node.dependencies.isEmpty,
              let identity = try? await node.implementation.cacheIdentity(
                  StageRequest(inputs: [:], parameters: parameters), digest: { try await store.digestOfFile(at: $0) })
        else { return nil }
        return "preflight " + CacheKey.compute(
            stage: node.implementation.id, parameters: JSONObject(parameters.sorted { $0.key < $1.key }),
            inputs: [:], prepared: .none, identity: identity)
    }

    /// Remembers what the preflights of `plan` found, for the stages `preflightMemoKey` covers.
    static func rememberPreflights(_ plan: RenderPlan, prepared: [String: Preparation], store: Store) async {
        for node in plan.nodes {
            guard let preparation = prepared[node.name], preparation.artifacts.isEmpty,
                  let memo = await preflightMemoKey(node, store: store) else { continue }
            try? await store.keepCheckedPreparation(memo, facts: preparation.facts)
        }
    }

    /// The `title` fact the preflight of the stage fed by the `song` input found, if any.
    private func songTitle(plan: RenderPlan, prepared: [String: Preparation]) -> String? {
        guard let stage = plan.profile.inputs["song"]?.split(separator: ".").first else { return nil }
        return prepared[String(stage)]?.facts["title"]?.stringValue
    }

    /// The output file path, checked before any work: its folder must exist and be writable. The
    /// default name is `<subject>-<song title>.mp4`, else the song's file name, else the profile's.
    func outputPath(for request: RenderRequest, plan: RenderPlan, songTitle: String?) throws -> URL {
        let songName = songTitle
            ?? request.song.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? plan.profile.name
        let defaultName = Self.slug(String("\(plan.subject.name)-\(songName)".prefix(120))) + ".mp4"
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
    /// the destination never holds a partial video. The temp file is flocked while it is written;
    /// one a killed process left (no longer locked) is removed by the next publish to that path.
    static func publish(_ artifact: Artifact, to destination: URL) async throws {
        try await BlockingIO.run {
            let prefix = ".\(destination.lastPathComponent)."
            removeAbandonedParts(in: destination.deletingLastPathComponent(), prefix: prefix)
            let temp = destination.deletingLastPathComponent().appendingPathComponent("\(prefix)\(UUID().uuidString.prefix(8)).part")
            let fd = open(temp.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            defer { close(fd) }
            do {
                guard flock(fd, LOCK_EX) == 0, fchmod(fd, 0o644) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
                try copy(artifact.path, to: fd)
                guard fsync(fd) == 0, rename(temp.path, destination.path) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            } catch {
                unlink(temp.path)
                throw error
            }
        }
    }

    /// Removes the temp files named `prefix…part` in `folder` that no process holds a lock on.
    private static func removeAbandonedParts(in folder: URL, prefix: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".part") {
            let path = folder.appendingPathComponent(name).path
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { unlink(path) }
            close(fd)
        }
    }

    /// Writes the bytes of `source` to `fd`; errors carry the operating system's reason.
    private static func copy(_ source: URL, to fd: Int32) throws {
        let input = open(source.path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(input) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(input, buffer.baseAddress, buffer.count)
            if count == 0 { return }
            if count < 0 {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            var offset = 0
            while offset < count {
                let written = write(fd, buffer.baseAddress! + offset, count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
                }
                offset += written
            }
        }
    }

    static func slug(_ text: String) -> String {
        let mapped = text.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        return String(mapped).split(separator: "-").joined(separator: "-")
    }
}

/// The output paths of a batch's jobs, so two jobs never write the same file.
private final class DestinationClaims: Sendable {
    private let claimed = Mutex<[String: Int]>([:])

    func claim(_ destination: URL, job: Int) throws {
        let other = claimed.withLock { claimed -> Int? in
            if let other = claimed[destination.path] { return other }
            claimed[destination.path] = job
            return nil
        }
        if let other {
            throw UsageError("jobs \(other + 1) and \(job + 1) of the batch both write \(destination.path)", hint: "give one of them another --out")
        }
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

/// The finished video could not be written where the user asked (a full disk, say). The video
/// is in the store, so a re-run writes it without rendering anything again.
public struct PublishError: FarmError {
    public let destination: URL
    public let underlying: any Error

    public var message: String { "cannot write the result to \(destination.path): \(Self.reason(underlying))" }
    public var hint: String? {
        "make room in \(destination.deletingLastPathComponent().path) (or choose another place with --out) and run the same command again: the video is kept and nothing is rendered again"
    }
    public var exitCode: Int32 { ExitStatus.stageFailed }

    /// The operating system's reason (`No space left on device`), not Foundation's wrapper around it.
    static func reason(_ error: any Error) -> String {
        var current = error as NSError
        while let underlying = current.userInfo[NSUnderlyingErrorKey] as? any Error { current = underlying as NSError }
        if current.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(current.code))) }
        return current.localizedDescription
    }
}

/// A problem with the output path, found before any work.
public struct OutputError: FarmError {
    public let message: String
    public let hint: String?
    public var exitCode: Int32 { ExitStatus.badInput }

    public init(_ message: String, hint: String? = nil) {
        self.message = message
        self.hint = hint
    }
}
