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
    private let emit: @Sendable (RenderEvent) -> Void

    public init(store: Store, ffmpeg: FFmpeg, runID: String, events: @escaping @Sendable (RenderEvent) -> Void) {
        self.store = store
        self.ffmpeg = ffmpeg
        self.runID = runID
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
        var limiters: [String: ProviderLimiter] = [:]
        for (provider, limit) in plan.limits { limiters[provider] = ProviderLimiter(limit: limit) }
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
                        let limiter = limiters[node.provider]!
                        let preparation = prepared[node.name] ?? .none
                        group.addTask {
                            (node.name, await runStage(node, subject: plan.subject, inputs: inputs, prepared: preparation, upstream: upstream, limiter: limiter))
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
        _ node: RenderPlan.Node, subject: Subject, inputs: [String: Artifact], prepared: Preparation, upstream: [String: [String: JSON]],
        limiter: ProviderLimiter
    ) async -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        let startedAt = Date()
        let logs = LogTail()
        var outcome = Outcome(status: .failed)
        var scratch: URL?
        do {
            let parameters = try resolveParameters(node, upstream: upstream)
            let request = StageRequest(inputs: inputs, parameters: parameters.dictionary, prepared: prepared)
            let store = self.store
            let identity = try await node.implementation.cacheIdentity(request) { try await store.digestOfFile(at: $0) }
            let key = CacheKey.compute(stage: node.implementation.id, parameters: parameters, inputs: inputs, prepared: prepared, identity: identity)
            outcome.cacheKey = key

            var cached = try await store.cachedResult(forKey: key)
            var hold: StageLock?
            if cached == nil {
                // Another farm process on this FARM_HOME may be running the same stage: wait for
                // it and take its result rather than running the stage a second time.
                let name = node.name
                hold = try await store.lockStage(key) {
                    emit(.progress(stage: name, fraction: nil, message: "waiting for another farm process running this stage"))
                }
                cached = try await store.cachedResult(forKey: key)
            }
            defer { hold?.release() }
            if let cached {
                outcome.status = .cached
                outcome.outputs = cached.outputs
                outcome.metadata = cached.metadata
            } else {
                await limiter.acquire()
                do {
                    try Task.checkCancellation()
                    emit(.stage(name: node.name, status: .running, seconds: nil, error: nil))
                    await record(node, Outcome(status: .running, cacheKey: key), startedAt: startedAt)
                    let folder = try store.makeScratchDirectory(label: node.name)
                    scratch = folder
                    let result = try await execute(node, subject: subject, request: request, key: key, scratch: folder, logs: logs)
                    try Task.checkCancellation()
                    outcome.outputs = try await importOutputs(of: node, result: result, scratch: folder)
                    outcome.metadata = result.metadata
                    try await store.storeResult(forKey: key, stage: node.implementation.id, outputs: outcome.outputs, metadata: result.metadata)
                    outcome.status = .succeeded
                    await limiter.release()
                } catch {
                    await limiter.release()
                    throw error
                }
            }
        } catch {
            outcome.status = Task.isCancelled ? .interrupted : .failed
            outcome.error = Task.isCancelled ? nil : error
        }
        if let scratch { try? FileManager.default.removeItem(at: scratch) }
        outcome.seconds = (clock.now - start).seconds
        outcome.logTail = await logs.lines
        emit(.stage(name: node.name, status: outcome.status, seconds: outcome.seconds, error: outcome.error.map { "\($0)" }))
        await record(node, outcome, startedAt: startedAt)
        return outcome
    }

    private func execute(_ node: RenderPlan.Node, subject: Subject, request: StageRequest, key: String, scratch: URL, logs: LogTail) async throws -> StageResult {
        let name = node.name
        let emit = self.emit
        let context = StageContext(
            stageName: name, scratchDirectory: scratch, subject: subject, ffmpeg: ffmpeg,
            journal: store.journal(forKey: key), shared: store.journal(forKey: GraphRunner.sharedJournalKey)
        ) { progress in
            switch progress {
            case .progress(let fraction, let message): emit(.progress(stage: name, fraction: fraction, message: message))
            case .log(let line):
                logs.append(line)
                emit(.log(stage: name, line: line))
            }
        }
        return try await node.implementation.run(request, in: context)
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
    private func importOutputs(of node: RenderPlan.Node, result: StageResult, scratch: URL) async throws -> [String: Artifact] {
        var artifacts: [String: Artifact] = [:]
        let root = scratch.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        for port in node.implementation.outputs {
            guard let url = result.outputs[port.name] else {
                throw StageFailure("\(node.implementation.id.name) finished without its output \"\(port.name)\"")
            }
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            guard path.hasPrefix(root) else {
                throw StageFailure("\(node.implementation.id.name) wrote its output \"\(port.name)\" outside its scratch folder: \(path)")
            }
            guard FileManager.default.fileExists(atPath: path) else {
                throw StageFailure("\(node.implementation.id.name) reported output \"\(port.name)\" at \(path), but there is no such file")
            }
            try await checkMedia(URL(fileURLWithPath: path), is: port, of: node)
            artifacts[port.name] = try await store.importFile(at: URL(fileURLWithPath: path), kind: port.kind, move: true)
        }
        return artifacts
    }

    /// An output of kind audio, image or video must be one (ffprobe finds the stream), whatever a
    /// remote model or plugin sent: a text error page saved as `output.png` stops here, not later.
    private func checkMedia(_ file: URL, is port: Port, of node: RenderPlan.Node) async throws {
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
            "\(node.implementation.id.name) produced output \"\(port.name)\" that is not \(wanted) (\(size) bytes, \(info.map { "read by ffprobe as \($0.formatName)" } ?? "unreadable by ffprobe"))",
            hint: "a re-run tries again; if it keeps happening, the model or plugin behind stage \(node.name) is misbehaving")
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
