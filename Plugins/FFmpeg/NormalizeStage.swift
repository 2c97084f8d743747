import FarmKit

/// `ffmpeg.normalize`: any audio (or the sound of a video) → 16-bit 44.1 kHz stereo WAV, optionally
/// loudness-normalised and capped in length.
struct NormalizeStage: RenderStage {
    let id = StageID("ffmpeg.normalize", version: 1)
    let summary = "re-encode audio to 44.1 kHz stereo 16-bit WAV, optionally loudness-normalised"
    let inputs = [Port("audio", .audio, "any audio file, or a video with sound")]
    let outputs = [Port("audio", .audio, "WAV, 44.1 kHz stereo s16")]
    let parameters = [
        ParamSpec("loudness", .number, range: -70 ... -5, "integrated loudness target in LUFS (single-pass loudnorm)"),
        ParamSpec("max_seconds", .number, range: 0.1...86_400, "keep at most this many seconds"),
        StageTimeout.parameter,
    ]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let input = try request.input("audio").path
        let output = context.scratchFile("audio.wav")
        context.progress(0, "normalizing audio")
        try await context.ffmpeg.normalizeAudio(
            input, to: output, maxSeconds: request.double("max_seconds"), loudness: request.double("loudness"),
            timeout: StageTimeout.duration(request), progress: { context.progress($0, "normalizing audio") })
        let duration = try await context.ffmpeg.probe(output).duration
        context.progress(1, "normalized")
        return StageResult(outputs: ["audio": output], metadata: ["duration": duration.map(JSON.double) ?? .null])
    }
}
