import FarmKit

/// Song sources: a local audio or video file, or a link (a direct file, a web page with one, a
/// YouTube or other yt-dlp supported video), checked and normalised before any paid stage starts.
public struct FetchProvider: StageProvider {
    public let name = "fetch"
    public let summary = "song sources: a local file, an http(s) link, or a YouTube link via yt-dlp"

    public init() {}

    public func stages() -> [any RenderStage] {
        [SongStage()]
    }
}
