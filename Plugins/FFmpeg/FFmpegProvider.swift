import FarmKit

public struct FFmpegProvider: StageProvider {
    public let name = "ffmpeg"
    public let summary = ""
    public init() {}
    public func stages() -> [any RenderStage] { [] }
}
