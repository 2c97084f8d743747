import Foundation

/// A stage that turns audio into video (Sonic, `offline.face`), run chunk by chunk: the audio is
/// cut at quiet points into chunks (`ChunkPlan`), every chunk is rendered by the wrapped stage as
/// a unit of its own (`StageContext.runUnit`: cached, journalled and limited like a stage, so
/// chunks run at once up to the provider's limit, a failed chunk is retried alone and a
/// re-render reuses every chunk whose audio and parameters did not change), and the chunk videos
/// are joined, cut or cross-faded, into one video exactly as long as the audio (to a frame).
///
/// A profile asks for it with `"chunked": true` on a stage; the wrapped stage's parameters stay
/// as they are and the `chunk_*` parameters below are added.
///
/// Scenes: when the wrapped stage takes one image (Sonic's portrait), the wrapper takes up to
/// three more, `scene_2`…`scene_4`, all optional. With any connected, each chunk is rendered from
/// the still of its scene (`SceneChoice`), so the video cuts between stills at chunk cuts, which
/// fall in pauses.
public struct ChunkedStage: RenderStage {
    /// The version of the chunking itself (cuts, join); part of every cache key of the wrapper.
    static let version = 1

    public let inner: any RenderStage
    private let audioPort: String
    /// The wrapped stage's image input, when it has exactly one: what scene stills replace.
    private let imagePort: String?
    public let id: StageID

    /// Wraps `inner`; throws unless it has exactly one audio input and one video output.
    public init(wrapping inner: any RenderStage) throws {
        let audio = inner.inputs.filter { $0.kind == .audio }
        guard audio.count == 1, inner.outputs.count == 1, inner.outputs[0].kind == .video else {
            throw StageFailure("\(inner.id.name) cannot be chunked: a chunked stage takes one audio input and makes one video",
                               hint: "use \"chunked\" on a stage such as replicate.sonic or offline.face", isBadInput: true)
        }
        if let clash = inner.parameters.first(where: { $0.name.hasPrefix("chunk_") }) {
            throw StageFailure("\(inner.id.name) cannot be chunked: its parameter \(clash.name) clashes with the chunk parameters",
                               isBadInput: true)
        }
        self.inner = inner
        audioPort = audio[0].name
        let images = inner.inputs.filter { $0.kind == .image }
        imagePort = images.count == 1 && !inner.inputs.contains { $0.name.hasPrefix("scene_") } ? images[0].name : nil
        id = StageID(inner.id.name + "+chunked", version: inner.id.version)
    }

    public var summary: String { inner.summary + ", rendered in chunks cut at quiet points" }
    public var inputs: [Port] { inner.inputs + (imagePort == nil ? [] : Self.scenePorts) }
    public var outputs: [Port] { inner.outputs }
    public var isDeterministic: Bool { inner.isDeterministic }
    public var runsUnits: Bool { true }
    public var parameters: [ParamSpec] { inner.parameters + Self.chunkParameters + (imagePort == nil ? [] : Self.sceneParameters) }

    static let scenePorts = (2...4).map {
        Port("scene_\($0)", .image, "the still of scene \($0): the chunks chunk_scenes gives it are rendered from it", optional: true)
    }

    static let sceneParameters = [
        ParamSpec("chunk_scenes", .string, default: "loudness", choices: ["loudness", "times"],
                  "with scene stills connected, which chunks show which still. loudness: chunks clearly louder than the song's median chunk (choruses) show scene 2, the next loud passage scene 3, …, the rest the first still; times: chunk_scene_starts"),
        ParamSpec("chunk_scene_starts", .array,
                  "for chunk_scenes \"times\": seconds where sections start; the k-th section shows the k-th still, cycling through those connected"),
    ]

    static let chunkParameters = [
        ParamSpec("chunk_seconds", .number, default: 24, range: 2...3600,
                  "about how long a chunk may be: the audio is split into ceil(length / this) even chunks"),
        ParamSpec("chunk_search_seconds", .number, default: 3, range: 0...60,
                  "how far a cut may move from its even position to land in a pause"),
        ParamSpec("chunk_join", .string, default: "cut", choices: ["cut", "crossfade"],
                  "cut: chunks end to end, stream copied (fast); crossfade: neighbours overlap and blend (encoded again)"),
        ParamSpec("chunk_crossfade_seconds", .number, default: 0.48, range: 0.08...4,
                  "length of each cross-fade (rounded to an even number of frames)"),
        ParamSpec("chunk_frame_rate", .integer, default: 25, range: 1...120,
                  "frame rate of the wrapped stage's videos; cuts fall on frame boundaries"),
        ParamSpec("chunk_retries", .integer, default: 1, range: 0...5,
                  "a failed chunk is tried again, alone, this many times before the stage fails"),
    ]

    public var preflightPrepares: Bool { inner.preflightPrepares }

    public func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        if parameters["chunk_scenes"]?.stringValue == "times" {
            _ = try Self.sceneStarts(parameters)
        }
        return try await inner.preflight(innerParameters(parameters), in: context)
    }

    /// `chunk_scene_starts`, which `chunk_scenes` "times" needs.
    private static func sceneStarts(_ parameters: [String: JSON]) throws -> [Double] {
        guard let starts = parameters["chunk_scene_starts"]?.arrayValue?.compactMap(\.doubleValue), !starts.isEmpty else {
            throw StageFailure("chunk_scenes is \"times\" but chunk_scene_starts gives no times",
                               hint: "set chunk_scene_starts to the seconds where sections start, e.g. [0, 42.5, 80]", isBadInput: true)
        }
        return starts
    }

    public func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        let identity = try await inner.cacheIdentity(innerRequest(request), digest: digest)
        return ["chunked": .integer(Int64(Self.version)), "inner": identity ?? .null]
    }

    public func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let crossfade = request.string("chunk_join") == "crossfade"
        let frameRate = request.int("chunk_frame_rate") ?? 25
        let fadeSeconds = request.double("chunk_crossfade_seconds") ?? 0.48
        let fadeFrames = crossfade ? max(2, Int((fadeSeconds * Double(frameRate) / 2).rounded()) * 2) : 0

        context.progress(0, "finding quiet points")
        // 16-bit PCM WAV (what RVC and the offline voice make) is read as it is; anything else is decoded first.
        var source = try request.input(audioPort).path
        let wave: PCMWave
        if let pcm = try? await BlockingIO.run({ [source] in try PCMWave(source) }), pcm.frames > 0 {
            wave = pcm
        } else {
            let decoded = context.scratchFile("audio.wav")
            try await context.ffmpeg.normalizeAudio(source, to: decoded)
            source = decoded
            wave = try await BlockingIO.run { try PCMWave(decoded) }
        }
        let hop = max(1, wave.sampleRate / 100)
        let power = try await BlockingIO.run { try wave.power(hop: hop) }
        let settings = ChunkPlan.Settings(
            target: request.double("chunk_seconds") ?? 24, search: request.double("chunk_search_seconds") ?? 3,
            maximum: inner.maxAudioSeconds, frameRate: frameRate, overlapFrames: fadeFrames / 2)
        let plan = try ChunkPlan(power: power, hop: hop, sampleRate: wave.sampleRate, sampleCount: wave.frames, settings: settings)
        let count = plan.chunks.count
        if count == 1 {
            context.log(String(format: "one chunk: the audio (%.1f s) is shorter than chunk_seconds", wave.seconds))
        } else {
            context.log(String(format: "%d chunks of about %.1f s; cuts at ", count, wave.seconds / Double(count))
                        + zip(plan.cutSeconds, plan.cutLevels).map { String(format: "%.2f s (%.0f dB)", $0, $1) }.joined(separator: ", "))
        }

        let stills = try imagePort.map { [try request.input($0)] + Self.scenePorts.compactMap { request.inputs[$0.name] } } ?? []
        var scenes = plan.chunks.map { _ in 0 }
        if stills.count > 1 {
            if request.string("chunk_scenes") == "times" {
                let starts = try Self.sceneStarts(request.parameters)
                scenes = SceneChoice.byTimes(starts: starts, middles: SceneChoice.middles(of: plan), stills: stills.count)
            } else {
                scenes = SceneChoice.byLoudness(levels: SceneChoice.levels(of: plan, power: power, hop: hop), stills: stills.count)
            }
            context.log("scenes: " + scenes.enumerated().map { "chunk \($0.offset + 1) still \($0.element + 1)" }.joined(separator: ", "))
        }

        let sound = context.scratchFile("audio.m4a")
        let audio = source
        async let encoded: Void = context.ffmpeg.encodeLossless(audio, to: sound, timeout: Self.timeout(wave.seconds))
        let results = try await renderChunks(wave, plan: plan, stills: stills, scenes: scenes, request: request, in: context)
        try await encoded

        context.progress(nil, "joining \(count) chunks")
        let output = context.scratchFile("video.mp4")
        let clips = zip(results, plan.chunks).map { FFmpeg.ChunkClip(url: $0.video.path, frames: $1.renderedFrames, video: $0.info) }
        let handling = try await context.ffmpeg.joinChunks(
            clips, overlapFrames: count > 1 ? fadeFrames : 0, frameRate: frameRate, audio: sound, to: output, timeout: Self.timeout(wave.seconds))
        context.log("joined \(count) chunks (\(crossfade ? "cross-faded" : "cut"), video \(handling.description)): \(plan.totalFrames) frames for \(String(format: "%.3f", wave.seconds)) s of audio")
        context.progress(1, "joined")
        var metadata = Self.metadata(results.map(\.unit), plan: plan, seconds: wave.seconds)
        if stills.count > 1 { metadata["scenes"] = .array(scenes.map { .integer(Int64($0 + 1)) }) }
        return StageResult(outputs: [outputs[0].name: output], metadata: metadata)
    }

    /// Renders every chunk as a unit, all at once (the provider's limit decides how many run):
    /// each chunk's audio is copied out of `wave` into the store, then rendered from the still its
    /// scene picks (`stills[scenes[index]]`; the wrapped stage's own image when there are none). A failed chunk is
    /// tried again alone up to `chunk_retries` times. When chunks still fail, the others finish (and
    /// are cached) first, then the stage fails naming them.
    private func renderChunks(
        _ wave: PCMWave, plan: ChunkPlan, stills: [Artifact], scenes: [Int], request: StageRequest, in context: StageContext
    ) async throws -> [Chunk] {
        let retries = request.int("chunk_retries") ?? 1
        let base = innerRequest(request)
        let count = plan.chunks.count
        let inner = self.inner, audioPort = self.audioPort, imagePort = self.imagePort, port = outputs[0].name
        var results = [Chunk?](repeating: nil, count: count)
        var failures: [(index: Int, error: any Error)] = []
        var cached = 0
        context.chunks(done: 0, total: count, cached: 0)
        await withTaskGroup(of: (Int, Result<Chunk, any Error>).self) { group in
            for (index, chunk) in plan.chunks.enumerated() {
                let label = "chunk \(index + 1)/\(count)"
                group.addTask {
                    let unit: StageRequest
                    do {
                        let file = context.scratchFile("chunk-\(index).wav")
                        try await BlockingIO.run { try wave.copyFrames(chunk.samples, to: file) }
                        var inputs = base.inputs
                        inputs[audioPort] = try await context.keep(file, kind: .audio)
                        if let imagePort, !stills.isEmpty { inputs[imagePort] = stills[scenes[index]] }
                        unit = StageRequest(inputs: inputs, parameters: base.parameters)
                    } catch {
                        return (index, .failure(error))
                    }
                    var attempt = 0
                    while true {
                        do {
                            let made = try await context.runUnit(inner, unit, label: label)
                            guard let video = made.outputs[port] else { throw StageFailure("\(label) made no \(port)") }
                            // Probed now, while other chunks still render, so the join need not.
                            return (index, .success(Chunk(unit: made, video: video, info: try await context.ffmpeg.probe(video.path).video)))
                        } catch {
                            let badInput = (error as? any FarmError)?.exitCode == ExitStatus.badInput
                            let declined = (error as? StageFailure)?.mayRetry == false
                            guard attempt < retries, !badInput, !declined, !Task.isCancelled else { return (index, .failure(error)) }
                            attempt += 1
                            context.log("\(label) failed (\(error)); trying it again alone (\(attempt)/\(retries))")
                        }
                    }
                }
            }
            for await (index, result) in group {
                switch result {
                case .success(let chunk):
                    results[index] = chunk
                    if chunk.unit.cached { cached += 1 }
                case .failure(let error): failures.append((index, error))
                }
                let done = results.count(where: { $0 != nil })
                context.progress(Double(done) / Double(count), "\(done)/\(count) chunks done\(cached > 0 ? " (\(cached) cached)" : "")")
                context.chunks(done: done, total: count, cached: cached)
            }
        }
        try Task.checkCancellation()
        guard failures.isEmpty else {
            let fps = Double(plan.frameRate)
            let lines = failures.sorted { $0.index < $1.index }.map { failure in
                let span = plan.chunks[failure.index].frames
                return String(format: "chunk %d/%d (%.2f–%.2f s): ", failure.index + 1, count, Double(span.lowerBound) / fps,
                              Double(span.upperBound) / fps) + "\((failure.error as? any FarmError)?.message ?? PublishError.reason(failure.error))"
            }
            let badInput = failures.allSatisfy { ($0.error as? any FarmError)?.exitCode == ExitStatus.badInput }
            let diskFull = failures.contains { PublishError.reason($0.error) == String(cString: strerror(ENOSPC)) }
            throw StageFailure("\(failures.count) of \(count) chunks failed:\n" + lines.joined(separator: "\n"),
                               hint: badInput ? (failures[0].error as? any FarmError)?.hint
                                   : (diskFull ? "free some space on that disk (df -h shows how full it is), then " : "")
                                   + "run the same command again: the \(count - failures.count) chunks that succeeded are cached, only the failed ones run again",
                               isBadInput: badInput)
        }
        return results.map { $0! }
    }

    /// One rendered chunk: the unit's result, its video and what ffprobe says about it.
    private struct Chunk: Sendable {
        let unit: UnitResult
        let video: Artifact
        let info: VideoStreamInfo?
    }

    /// Chunk counts and cuts; the model time and estimated cost of the chunks rendered now.
    private static func metadata(_ results: [UnitResult], plan: ChunkPlan, seconds: Double) -> [String: JSON] {
        var metadata: [String: JSON] = [
            "duration": .double(seconds),
            "chunks": .integer(Int64(results.count)),
            "chunks_cached": .integer(Int64(results.count(where: \.cached))),
            "cuts": .array(plan.cutSeconds.map(JSON.double)),
        ]
        let fresh = results.filter { !$0.cached }
        let times = fresh.compactMap { $0.metadata["predict_time"]?.doubleValue }
        if !times.isEmpty { metadata["predict_time"] = .double(times.reduce(0, +)) }
        let costs = fresh.compactMap { $0.metadata["estimated_cost_usd"]?.doubleValue }
        if !costs.isEmpty { metadata["estimated_cost_usd"] = .double((costs.reduce(0, +) * 10_000).rounded() / 10_000) }
        return metadata
    }

    private func innerParameters(_ parameters: [String: JSON]) -> [String: JSON] {
        parameters.filter { !$0.key.hasPrefix("chunk_") }
    }

    private func innerRequest(_ request: StageRequest) -> StageRequest {
        StageRequest(inputs: request.inputs.filter { !$0.key.hasPrefix("scene_") || inner.input(named: $0.key) != nil },
                     parameters: innerParameters(request.parameters), prepared: request.prepared)
    }

    /// ffmpeg time for work on `seconds` of media: generous, at least 10 min.
    private static func timeout(_ seconds: Double) -> Duration {
        .seconds(max(600, Int(seconds * 4)))
    }
}
