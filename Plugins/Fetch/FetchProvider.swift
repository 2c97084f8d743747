import FarmKit

/// Song sources: for now a local audio or video file, checked and normalised.
public struct FetchProvider: StageProvider {
    public let name = "fetch"
    public let summary = "song sources: a local audio or video file"

    public init() {}

    public func stages() -> [any RenderStage] {
        [SongStage()]
    }
}
