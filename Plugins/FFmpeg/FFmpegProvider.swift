import FarmKit

/// Local media stages done with ffmpeg: normalise audio, put audio under a video, join videos, encode AAC.
public struct FFmpegProvider: StageProvider {
    public let name = "ffmpeg"
    public let summary = "local media work with ffmpeg: normalize, mux, concat, aac"
    public let defaultConcurrency = 2

    public init() {}

    public func stages() -> [any RenderStage] {
        [NormalizeStage(), MuxStage(), ConcatStage(), AACStage(), VoiceDatasetStage(), PhotoSetStage()]
    }
}
