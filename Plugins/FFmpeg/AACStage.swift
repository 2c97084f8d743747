import FarmKit

/// `ffmpeg.aac`: audio encoded to AAC in an `.m4a`, so a later mux copies it instead of encoding it
/// (vivid encodes the cover while Sonic is still rendering, off the critical path).
struct AACStage: RenderStage {
    let id = StageID("ffmpeg.aac", version: 1)
    let summary = "encode audio to AAC (m4a): a mux then copies it instead of encoding"
    let inputs = [Port("audio", .audio, "any audio file, or a video with sound")]
    let outputs = [Port("audio", .audio, "m4a, AAC")]
    let parameters = [
        ParamSpec("bitrate", .string, default: "192k", "AAC bitrate, ffmpeg notation (128k, 192k, …)"),
        StageTimeout.parameter,
    ]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let output = context.scratchFile("audio.m4a")
        context.progress(nil, "encoding AAC")
        try await context.ffmpeg.encodeAAC(
            try request.input("audio").path, to: output, bitrate: request.string("bitrate") ?? "192k", timeout: StageTimeout.duration(request))
        let duration = try await context.ffmpeg.probe(output).duration
        context.progress(1, "encoded")
        return StageResult(outputs: ["audio": output], metadata: ["duration": duration.map(JSON.double) ?? .null])
    }
}
