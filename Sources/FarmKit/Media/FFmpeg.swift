import Foundation

/// The ffmpeg and ffprobe command-line tools, run as subprocesses with argv arrays (never a shell).
public struct FFmpeg: Sendable {
    public let ffmpegPath: String
    public let ffprobePath: String

    public init(ffmpegPath: String = "ffmpeg", ffprobePath: String = "ffprobe") {
        self.ffmpegPath = ffmpegPath
        self.ffprobePath = ffprobePath
    }
}
