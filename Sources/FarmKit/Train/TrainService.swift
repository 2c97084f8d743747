import Foundation

/// Trains a subject: runs a training profile's graph (voice dataset → voice model, photos → image
/// model) with the same cache, journal and stage locks as a render, then writes the subject file
/// from what the stages report.
///
/// Stages tell the service about the subject through their metadata: `subject` (an object of
/// subject fields such as `image_model`, `voice_model`, `voice_model_expires`), `training` (how
/// the model was trained, kept in the subject file under the stage's name) and `render_profile`
/// (the profile to render the subject with). An output port named `voice_model` is the voice
/// model zip; its digest goes into the subject and the run keeps it from `farm cache gc`.
public struct TrainService: Sendable {
    public let registry: ProviderRegistry
    public let profiles: ProfileLibrary
    public let home: URL
    public let ffmpeg: FFmpeg
    /// Where relative paths are resolved.
    public let workingDirectory: URL

    public init(registry: ProviderRegistry, profiles: ProfileLibrary, home: URL, ffmpeg: FFmpeg = FFmpeg(),
                workingDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)) {
        self.registry = registry
        self.profiles = profiles
        self.home = home
        self.ffmpeg = ffmpeg
        self.workingDirectory = workingDirectory
    }

    /// A checked training, ready to run.
    public struct Prepared: Sendable {
        /// The request with absolute paths and its slug fixed.
        public let request: TrainRequest
        public let plan: RenderPlan
        /// Things worth saying that do not stop the training (a common word as trigger).
        public let warnings: [String]
    }

    /// Checks everything a training needs without running anything: the name, the trigger word,
    /// the profile and the inputs' wiring.
    public func prepare(_ request: TrainRequest) async throws -> Prepared {
        var request = request
        try SubjectCatalog.checkName(request.subject)
        let catalog = SubjectCatalog(home: home)
        if !request.force, catalog.exists(request.subject) {
            throw SubjectError("subject \"\(request.subject)\" already exists", hint: "give --force to replace it once the training is done, or choose another name")
        }
        var warnings: [String] = []
        let trigger = request.triggerWord
        guard !trigger.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw UsageError("the trigger word is empty", hint: "give --trigger WORD: a made-up word such as \(request.subject.uppercased())TOK")
        }
        guard trigger.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw UsageError("the trigger word \"\(trigger)\" must be one word of letters, digits, _ and -", hint: "give --trigger WORD, e.g. TOK")
        }
        if TriggerWords.isCommon(trigger) {
            warnings.append("the trigger word \"\(trigger)\" is a common English word: prompts that use the word itself will also pull in the subject (a made-up word such as \(trigger.uppercased())TOK avoids that)")
        }
        if let pitch = request.pitch, !["no-change", "male-to-female", "female-to-male"].contains(pitch) {
            throw UsageError("--pitch \(pitch) is not one of no-change, male-to-female, female-to-male")
        }
        if let url = request.voiceURL {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil,
                  parsed.lastPathComponent.lowercased().hasSuffix(".zip") else {
                throw UsageError("--voice-url \(url) is not a public http(s) URL of a .zip",
                                 hint: "the RVC model downloads it without credentials and names the voice after its last path segment, e.g. https://huggingface.co/USER/REPO/resolve/main/\(request.subject).zip")
            }
        }
        request.voice = request.voice.map { Self.looksLikeLink($0) ? $0 : absolutePath($0) }
        request.photos = request.photos.map(absolutePath)
        if request.slug == nil { request.slug = try await slug(for: request) }

        let profile = try profiles.load(request.profile)
        var inputs: [String: JSON] = ["slug": .string(request.slug!)]
        inputs["photos"] = request.photos.map(JSON.string)
        if !request.voice.isEmpty { inputs["voice"] = .array(request.voice.map(JSON.string)) }
        let overrides = ProfileResolver.Overrides(parameters: try request.settings.map(ParameterOverride.init(parsing:)), inputs: inputs)
        let subject = Subject(name: request.subject, trigger: trigger, pitch: request.pitch)
        let plan = try ProfileResolver(registry: registry).resolve(profile, subject: subject, overrides: overrides)
        return Prepared(request: request, plan: plan, warnings: warnings)
    }

    /// Runs a prepared training to the end (or to Ctrl-C: cancel the calling task) and writes the
    /// subject file when every stage succeeded; the summary's `output` is that file.
    public func train(_ prepared: Prepared, resuming: String? = nil,
                      events: @escaping @Sendable (RenderEvent) -> Void) async throws -> TrainSummary {
        let clock = ContinuousClock()
        let start = clock.now
        let plan = prepared.plan
        let request = prepared.request
        let stores = StoreOpener(home: home)
        let prepared = try await RenderService.preflight(plan, refresh: false, stores: stores, ffmpeg: ffmpeg, events: events)
        let store = try stores.open()
        await store.removeAbandonedTemporaryFiles()
        var recorded = request.json.objectValue!
        recorded["directory"] = .string(workingDirectory.path)
        let stages = RenderEvent.PlannedStage.list(plan)
        let run = try await store.createRun(NewRun(
            profile: plan.profile.name, subject: request.subject, song: "", request: .object(recorded), resumedFrom: resuming,
            graph: .array(stages.map(\.json))))
        events(.started(runID: run.id, profile: plan.profile.name, subject: request.subject, stages: stages))

        let outcomes = await GraphRunner(store: store, ffmpeg: ffmpeg, runID: run.id, events: events).run(plan, prepared: prepared)
        await registry.shutdown()
        var status: RenderSummary.Status =
            outcomes.values.contains { $0.status == .interrupted } ? .interrupted
            : outcomes.values.allSatisfy { $0.status.hasOutputs } ? .succeeded : .failed
        var subject: Subject?
        var output: String?
        var saveError: (any Error)?
        if status == .succeeded {
            do {
                let made = Self.subject(from: outcomes, plan: plan, request: request, runID: run.id)
                try SubjectCatalog(home: home).save(made, replacing: request.force)
                subject = made
                output = SubjectCatalog(home: home).file(for: made.name).path
            } catch {
                status = .failed
                saveError = error
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
            seconds: (clock.now - start).seconds)
        let failure = (saveError as? any FarmError)?.message
            ?? summary.stages.first { $0.status == .failed }.map { "stage \($0.name) failed: \($0.error ?? "unknown error")" }
        try? await store.finishRun(id: run.id, status: RunStatus(rawValue: status.rawValue)!, output: output,
                                   outputDigest: subject?.voiceZip, error: failure)
        events(.finished(summary))
        if let saveError { throw saveError }
        return TrainSummary(render: summary, subject: subject, renderProfile: Self.renderProfile(outcomes))
    }

    /// The subject the stages describe.
    static func subject(from outcomes: [String: GraphRunner.Outcome], plan: RenderPlan, request: TrainRequest, runID: String) -> Subject {
        var subject = Subject(name: request.subject, trigger: request.triggerWord, pitch: request.pitch ?? "no-change")
        subject.slug = request.slug
        var training = JSONObject()
        training["at"] = .string(Date().formatted(.iso8601))
        training["profile"] = .string(plan.profile.name)
        training["run"] = .string(runID)
        for node in plan.nodes {
            guard let outcome = outcomes[node.name] else { continue }
            if let fields = outcome.metadata["subject"]?.objectValue {
                if let value = fields["image_model"]?.stringValue { subject.imageModel = value }
                if let value = fields["voice_model"]?.stringValue {
                    subject.voiceModel = value
                    subject.voiceModelExpires = fields["voice_model_expires"]?.stringValue
                }
            }
            if let voiceZip = outcome.outputs["voice_model"] { subject.voiceZip = voiceZip.digest }
            if var facts = outcome.metadata["training"]?.objectValue {
                facts["stage"] = .string(node.implementation.id.description)
                training[node.name] = .object(facts)
            }
        }
        if let url = request.voiceURL {
            subject.voiceModel = url
            subject.voiceModelExpires = nil
        }
        subject.training = .object(training)
        return subject
    }

    static func renderProfile(_ outcomes: [String: GraphRunner.Outcome]) -> String? {
        outcomes.keys.sorted().lazy.compactMap { outcomes[$0]?.metadata["render_profile"]?.stringValue }.first
    }

    /// Whether a `--voice` value is a link (`https://…`, or any `scheme:` that is not an existing
    /// file), which the dataset stage fetches or refuses, rather than a path to make absolute.
    static func looksLikeLink(_ source: String) -> Bool {
        source.range(of: "^[A-Za-z][A-Za-z0-9+.-]*:", options: .regularExpression) != nil
            && !FileManager.default.fileExists(atPath: source)
    }

    private func absolutePath(_ path: String) -> String {
        URL(fileURLWithPath: path, relativeTo: workingDirectory).standardizedFileURL.path
    }

    /// `<name>-<8 hex>`: the hash covers the name, the profile, the overrides and the recordings'
    /// contents, so another training gets another name (the voice model's name on Replicate's
    /// workers) while the same command run again reuses the cache.
    func slug(for request: TrainRequest) async throws -> String {
        let store = try Store(home: home)
        var material: [JSON] = [.string(request.subject), .string(request.profile), .array(request.settings.map(JSON.string))]
        for source in request.voice {
            let url = URL(fileURLWithPath: source)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                material.append(.string(source))
                continue
            }
            let files = isFolder.boolValue
                ? ((try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []).sorted().map { url.appendingPathComponent($0) }
                : [url]
            for file in files where FileManager.default.isReadableFile(atPath: file.path) {
                material.append(.string((try? await store.digestOfFile(at: file)) ?? file.path))
            }
        }
        return request.subject + "-" + String(SHA256.hex(of: JSON.array(material).compactString).prefix(8))
    }
}

/// How a training ended: the run's summary and, when it succeeded, the subject written.
public struct TrainSummary: Sendable {
    public let render: RenderSummary
    public let subject: Subject?
    /// The profile to render the subject with, as the image trainer says (`vivid`, `offline`, …).
    public let renderProfile: String?
}
