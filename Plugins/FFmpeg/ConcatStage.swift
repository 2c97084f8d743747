import FarmKit

/// `ffmpeg.concat`: two clips one after the other.
struct ConcatStage: RenderStage {
    let id = StageID("ffmpeg.concat", version: 1)
    let summary = "join two videos one after the other (stream copy when they match, else re-encode)"
    let inputs = [Port("first", .video, "plays first"), Port("second", .video, "plays after it")]
    let outputs = [Port("video", .video, "mp4, H.264 (+ AAC when either clip has sound)")]
    let parameters = [StageTimeout.parameter]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let output = context.scratchFile("video.mp4")
        context.progress(0, "joining")
        let handling = try await context.ffmpeg.concatVideos(
            [try request.input("first").path, try request.input("second").path], to: output,
            timeout: StageTimeout.duration(request), progress: { context.progress($0, "joining") })
        context.log("video stream \(handling.description)")
        let duration = try await context.ffmpeg.probe(output).duration
        context.progress(1, "joined")
        return StageResult(
            outputs: ["video": output],
            metadata: ["duration": duration.map(JSON.double) ?? .null, "video_stream": .string(handling.rawValue)])
    }
}
