import Foundation
import Synchronization

/// Runs a `RenderPlan` with structured concurrency.
///
/// A stage starts as soon as the stages it depends on have outputs and its provider has a free
/// slot, so independent stages run at the same time. Each stage is looked up in the cache by key
/// first. When a stage fails, stages already running finish (and are cached), nothing new starts,
/// and the stages left are reported as skipped. Cancelling the calling task interrupts running
/// stages; their scratch folders are removed and nothing partial reaches the store.
public struct GraphRunner: Sendable {
    public let store: Store
    public let ffmpeg: FFmpeg
    public let runID: String
    /// Per-provider concurrency limits; shared by the renders of a batch.
    public let limits: ProviderLimits
    private let emit: @Sendable (RenderEvent) -> Void

    /// `limits` defaults to limits of this render alone, taken from the plan.
    public init(
        store: Store, ffmpeg: FFmpeg, runID: String, limits: ProviderLimits = ProviderLimits(),
        events: @escaping @Sendable (RenderEvent) -> Void
    ) {
        self.store = store
        self.ffmpeg = ffmpeg
        self.runID = runID
        self.limits = limits
        self.emit = events
    }

    /// The journal key under which every stage shares durable values (`StageContext.shared`).
    static let sharedJournalKey = "shared"

    /// The result of one stage.
    public struct Outcome: Sendable {
        public var status: StageRunStatus
        public var seconds: Double = 0
        public var outputs: [String: Artifact] = [:]
        public var metadata: [String: JSON] = [:]
        public var cacheKey: String?
        public var error: (any Error)?
        public var logTail: [String] = []
    }

    /// Runs every stage that can run; returns each stage's outcome by name. `prepared` holds what
    /// stages' preflights prepared, by stage name.
    public func run(_ plan: RenderPlan, prepared: [String: Preparation] = [:]) async -> [String: Outcome] {
        limits.adopt(plan.limits)
        var outcomes: [String: Outcome] = [:]
        var started = Set<String>()
        var stopLaunching = false

        await withTaskGroup(of: (String, Outcome).self) { group in
            while true {
                if !stopLaunching && !Task.isCancelled {
                    for node in plan.nodes where !started.contains(node.name) {
                        guard node.dependencies.allSatisfy({ outcomes[$0]?.status.hasOutputs == true }) else { continue }
                        started.insert(node.name)
                        let inputs = node.inputs.mapValues { outcomes[$0.stage]!.outputs[$0.port]! }
                        let upstream = node.dependencies.reduce(into: [String: [String: JSON]]()) { $0[$1] = outcomes[$1]!.metadata }
                        let preparation = prepared[node.name] ?? .none
                        group.addTask {
                            (node.name, await runStage(node, subject: plan.subject, inputs: inputs, prepared: preparation, upstream: upstream))
                        }
                    }
                }
                guard let (name, outcome) = await group.next() else { break }
                outcomes[name] = outcome
                if !outcome.status.hasOutputs { stopLaunching = true }
            }
        }

        let cancelled = Task.isCancelled || outcomes.values.contains { $0.status == .interrupted }
        for node in plan.nodes where outcomes[node.name] == nil {
            let status: StageRunStatus = cancelled ? .interrupted : .skipped
            outcomes[node.name] = Outcome(status: status)
            emit(.stage(name: node.name, status: status, seconds: nil, error: nil))
            await record(node, outcomes[node.name]!, startedAt: nil)
        }
        return outcomes
    }

    private func runStage(
        _ node: RenderPlan.Node, subject: Subject, inputs: [String: Artifact], prepared: Preparation, upstream: [String: [String: JSON]]
    ) async -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()
        let logs = LogTail()
        var outcome = Outcome(status: .failed)
        do {
            let parameters = try resolveParameters(node, upstream: upstream)
            let request = StageRequest(inputs: inputs, parameters: parameters.dictionary, prepared: prepared)
            let key = try await cacheKey(node.implementation, request)
            outcome.cacheKey = key
            let name = node.name
            let emit = self.emit
            let made = try await produce(
                node.implementation, request, key: key, stageName: name, subject: subject,
                reporter: { progress in
                    switch progress {
                    case .progress(let fraction, let message): emit(.progress(stage: name, fraction: fraction, message: message))
                    case .chunks(let done, let total, let cached): emit(.chunks(stage: name, done: done, total: total, cached: cached))
                    case .log(let line):
                        logs.append(line)
                        emit(.log(stage: name, line: line))
                    }
                },
                starting: {
                    emit(.stage(name: name, status: .running, seconds: nil, error: nil))
                    await record(node, Outcome(status: .running, cacheKey: key), startedAt: startedAt)
                })
            outcome.status = made.cached ? .cached : .succeeded
            outcome.outputs = made.outputs
            outcome.metadata = made.metadata
        } catch {
            outcome.status = Task.isCancelled ? .interrupted : .failed
            outcome.error = Task.isCancelled ? nil : error
        }
        outcome.seconds = (clock.now - start).seconds
        outcome.logTail = await logs.lines
        emit(.stage(name: node.name, status: outcome.status, seconds: outcome.seconds, error: outcome.error.map { "\($0)" }))
        await record(node, outcome, startedAt: startedAt)
        return outcome
    }

    /// The stages whose results the cache already holds, found without running or changing
    /// anything: a stage counts when every stage it depends on counts (so its inputs and
    /// placeholders are known). Their inputs were checked when they ran; a render need not check
    /// them again.
    public func cachedStages(_ plan: RenderPlan, prepared: [String: Preparation] = [:]) async -> Set<String> {
        var found: [String: CachedResult] = [:]
        for node in plan.nodes where node.dependencies.allSatisfy({ found[$0] != nil }) {
            let inputs = node.inputs.compactMapValues { found[$0.stage]?.outputs[$0.port] }
            let upstream = node.dependencies.reduce(into: [String: [String: JSON]]()) { $0[$1] = found[$1]!.metadata }
            guard inputs.count == node.inputs.count,
                  let parameters = try? resolveParameters(node, upstream: upstream),
                  let key = try? await cacheKey(
                      node.implementation, StageRequest(inputs: inputs, parameters: parameters.dictionary, prepared: prepared[node.name] ?? .none)),
                  let cached = try? await store.peekCachedResult(forKey: key)
            else { continue }
            found[node.name] = cached
        }
        return Set(found.keys)
    }

    /// The cache key of `stage` run on `request`.
    func cacheKey(_ stage: any RenderStage, _ request: StageRequest) async throws -> String {
        let store = self.store
        let identity = try await stage.cacheIdentity(request) { try await store.digestOfFile(at: $0) }
        return CacheKey.compute(stage: stage.id, parameters: JSONObject(request.parameters.sorted { $0.key < $1.key }),
                                inputs: request.inputs, prepared: request.prepared, identity: identity)
    }

    /// The outputs of `stage` on `request`: from the cache under `key`, or made now (once, however
    /// many renders of this process or of other farm processes on the same FARM_HOME ask at the
    /// same time). Making them takes a slot of the stage's
    /// provider (unless the stage runs units, which take their own), calls `starting`, runs the
    /// stage in a fresh scratch folder (removed afterwards), moves its outputs into the store and
    /// caches them.
    func produce(
        _ stage: any RenderStage, _ request: StageRequest, key: String, stageName: String, subject: Subject,
        reporter: @escaping @Sendable (StageProgress) -> Void, starting: () async -> Void
    ) async throws -> UnitResult {
        while true {
            if let cached = try await store.cachedResult(forKey: key) {
                return UnitResult(outputs: cached.outputs, metadata: cached.metadata, cached: true)
            }
            guard await limits.inFlight.enter(key) else { continue }
            do {
                // Another farm process on this FARM_HOME may be making the same result: wait for
                // it and take its result rather than making it a second time.
                let hold = try await store.lockStage(key) {
                    reporter(.progress(fraction: nil, message: "waiting for another farm process running this stage"))
                }
                defer { hold.release() }
                let made: UnitResult
                if let cached = try await store.cachedResult(forKey: key) {
                    made = UnitResult(outputs: cached.outputs, metadata: cached.metadata, cached: true)
                } else {
                    made = try await make(stage, request, key: key, stageName: stageName, subject: subject, reporter: reporter, starting: starting)
                }
                await limits.inFlight.leave(key)
                return made
            } catch {
                await limits.inFlight.leave(key)
                throw error
            }
        }
    }

    private func make(
        _ stage: any RenderStage, _ request: StageRequest, key: String, stageName: String, subject: Subject,
        reporter: @escaping @Sendable (StageProgress) -> Void, starting: () async -> Void
    ) async throws -> UnitResult {
        let limiter = stage.runsUnits ? nil : limits.limiter(for: stage.id.provider)
        await limiter?.acquire()
        var scratch: URL?
        defer {
            if let scratch { try? FileManager.default.removeItem(at: scratch) }
        }
        do {
            try Task.checkCancellation()
            await starting()
            let folder = try store.makeScratchDirectory(label: stageName)
            scratch = folder
            let context = StageContext(
                stageName: stageName, scratchDirectory: folder, subject: subject, ffmpeg: ffmpeg,
                journal: store.journal(forKey: key), shared: store.journal(forKey: GraphRunner.sharedJournalKey),
                units: Units(runner: self, subject: subject), reporter: reporter)
            let result = try await stage.run(request, in: context)
            try Task.checkCancellation()
            let outputs = try await importOutputs(of: stage, named: stageName, result: result, scratch: folder)
            try await store.storeResult(forKey: key, stage: stage.id, outputs: outputs, metadata: result.metadata)
            await limiter?.release()
            return UnitResult(outputs: outputs, metadata: result.metadata, cached: false)
        } catch {
            await limiter?.release()
            throw error
        }
    }

    /// Fills `{{STAGE.FIELD}}` placeholders from upstream metadata and checks the result's types.
    private func resolveParameters(_ node: RenderPlan.Node, upstream: [String: [String: JSON]]) throws -> JSONObject {
        var resolved = JSONObject()
        for (name, value) in node.parameters {
            let rendered: JSON
            do {
                rendered = try value.renderingTemplates { upstream[$0.namespace]?[$0.field] }
            } catch {
                throw StageFailure("parameter \"\(name)\": \(error.message)",
                                   hint: "fields of upstream stages: " + upstream.flatMap { stage, fields in fields.keys.map { "\(stage).\($0)" } }.sorted().joined(separator: ", "),
                                   isBadInput: true)
            }
            if let spec = node.implementation.parameter(named: name), let problem = spec.problem(with: rendered) {
                throw StageFailure("parameter \"\(name)\": \(problem)", isBadInput: true)
            }
            resolved[name] = rendered
        }
        return resolved
    }

    /// Moves every declared output into the store; a missing output or a path outside the scratch
    /// folder is the stage's fault.
    private func importOutputs(of stage: any RenderStage, named stageName: String, result: StageResult, scratch: URL) async throws -> [String: Artifact] {
        var artifacts: [String: Artifact] = [:]
        let root = scratch.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        for port in stage.outputs {
            guard let url = result.outputs[port.name] else {
                throw StageFailure("\(stage.id.name) finished without its output \"\(port.name)\"")
            }
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            guard path.hasPrefix(root) else {
                throw StageFailure("\(stage.id.name) wrote its output \"\(port.name)\" outside its scratch folder: \(path)")
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw StageFailure("\(stage.id.name) reported output \"\(port.name)\" at \(path), but there is no such file")
            }
            try await checkMedia(URL(fileURLWithPath: path), is: port, of: stage, named: stageName)
            artifacts[port.name] = try await store.importFile(at: URL(fileURLWithPath: path), kind: port.kind, move: true)
        }
        return artifacts
    }

    /// An output of kind audio, image or video must be one (ffprobe finds the stream), whatever a
    /// remote model or plugin sent: a text error page saved as `output.png` stops here, not later.
    private func checkMedia(_ file: URL, is port: Port, of stage: any RenderStage, named stageName: String) async throws {
        let wanted: String
        switch port.kind {
        case .audio: wanted = "audio"
        case .image: wanted = "an image"
        case .video: wanted = "a video"
        case .archive, .file: return
        }
        let info = try? await ffmpeg.probe(file)
        // Width and height too: ffprobe takes the name's word for it and "finds" a 0×0 picture in
        // any file called .png.
        let isMedia = port.kind == .audio ? info?.audio != nil : (info?.video).map { $0.width > 0 && $0.height > 0 } ?? false
        if isMedia { return }
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
        throw StageFailure(
            "\(stage.id.name) produced output \"\(port.name)\" that is not \(wanted) (\(size) bytes, \(info.map { "read by ffprobe as \($0.formatName)" } ?? "unreadable by ffprobe"))",
            hint: "a re-run tries again; if it keeps happening, the model or plugin behind stage \(stageName) is misbehaving")
    }

    private func record(_ node: RenderPlan.Node, _ outcome: Outcome, startedAt: Date?) async {
        let record = StageRunRecord(
            stage: node.name, implementation: node.implementation.id.description, provider: node.provider,
            cacheKey: outcome.cacheKey, status: outcome.status,
            startedAt: startedAt, finishedAt: outcome.status.isFinal ? Date() : nil,
            seconds: outcome.status.isFinal ? outcome.seconds : nil,
            error: outcome.error.map { "\($0)" }, log: outcome.logTail.isEmpty ? nil : outcome.logTail.joined(separator: "\n"),
            metadata: outcome.metadata.isEmpty ? nil : .object(JSONObject(outcome.metadata.sorted { $0.key < $1.key })))
        try? await store.updateStage(runID: runID, record)
    }
}

extension GraphRunner {
    /// Runs the units of a stage (`StageContext.runUnit`) with the graph's cache, journals and limits.
    struct Units: StageUnits {
        let runner: GraphRunner
        let subject: Subject

        func run(_ stage: any RenderStage, _ request: StageRequest, label: String, parent: StageContext) async throws -> UnitResult {
            let key = try await runner.cacheKey(stage, request)
            return try await runner.produce(
                stage, request, key: key, stageName: "\(parent.stageName)-\(label)", subject: subject,
                reporter: { progress in
                    if case .log(let line) = progress { parent.log("\(label): \(line)") }
                },
                starting: {})
        }

        func keep(_ file: URL, kind: MediaKind) async throws -> Artifact {
            try await runner.store.importFile(at: file, kind: kind, move: true)
        }
    }
}

/// The last lines a stage logged.
final class LogTail: Sendable {
    private let state = Mutex<[String]>([])
    private let limit = 40

    func append(_ line: String) {
        state.withLock {
            $0.append(line)
            if $0.count > limit { $0.removeFirst($0.count - limit) }
        }
    }

    var lines: [String] { get async { state.withLock { $0 } } }
}
