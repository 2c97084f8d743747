import FarmKit

/// Fake, deterministic stand-ins for the remote AI stages, made locally with ffmpeg: a render runs
/// with no network and no token and still ends in a real, watchable video.
public struct OfflineProvider: StageProvider {
    public let name = "offline"
    public let summary = "local stand-ins for the AI stages (image, voice, face), deterministic, no network"
    public let defaultConcurrency = 2

    public init() {}

    public func stages() -> [any RenderStage] {
        [OfflineImageStage(), OfflineVoiceStage(), OfflineFaceStage(), OfflineVoiceTrainerStage(), OfflineImageTrainerStage()]
    }
}
