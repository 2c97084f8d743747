import FarmKit

/// `ffmpeg.mux`: a video with a new sound track, as long as the sound (the last frame is held when the
/// video is shorter). AAC sound is copied; other sound is encoded to AAC.
struct MuxStage: RenderStage {
    let id = StageID("ffmpeg.mux", version: 2)
    let summary = "put an audio track under a video: H.264 + AAC mp4 as long as the audio"
    let inputs = [Port("video", .video, "the picture"), Port("audio", .audio, "the sound; sets the length")]
    let outputs = [Port("video", .video, "mp4, H.264 + AAC")]
    let parameters = [
        ParamSpec("audio_bitrate", .string, default: "192k", "AAC bitrate when the sound is not AAC already, ffmpeg notation (128k, 192k, …)"),
        StageTimeout.parameter,
    ]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let output = context.scratchFile("video.mp4")
        context.progress(0, "muxing")
        let handling = try await context.ffmpeg.muxVideo(
            try request.input("video").path, audio: try request.input("audio").path, to: output,
            audioBitrate: request.string("audio_bitrate") ?? "192k", timeout: StageTimeout.duration(request),
            progress: { context.progress($0, "muxing") })
        context.log("video stream \(handling.description)")
        let duration = try await context.ffmpeg.probe(output).duration
        context.progress(1, "muxed")
        return StageResult(
            outputs: ["video": output],
            metadata: ["duration": duration.map(JSON.double) ?? .null, "video_stream": .string(handling.rawValue)])
    }
}
