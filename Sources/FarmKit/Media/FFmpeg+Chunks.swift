import Foundation

extension FFmpeg {
    /// One rendered chunk of a video, and how many frames of the joined video it must fill
    /// (its own span plus any overlap a cross-fade blends).
    public struct ChunkClip: Sendable {
        public let url: URL
        public let frames: Int
        /// What ffprobe says about the clip's video, when already known (else it is probed).
        public let video: VideoStreamInfo?

        public init(url: URL, frames: Int, video: VideoStreamInfo? = nil) {
            self.url = url
            self.frames = frames
            self.video = video
        }
    }

    /// Joins chunk videos, in order, into one H.264 mp4 of exactly `Σ frames − overlaps` frames at
    /// `frameRate`, with `audio` (an m4a: the whole sound of the chunks) as its sound track.
    ///
    /// With `overlapFrames` 0 the chunks are cut one after the other. Clips with the same H.264
    /// parameters are joined by stream copy, each placed at the start of its span (a clip a few
    /// frames short holds its last frame, a longer one is cut); when the copy misses the exact
    /// length by more than a frame, or the clips differ, every clip is padded or cut to its frames
    /// and encoded again. With `overlapFrames` > 0 each pair of neighbours shares that many frames,
    /// blended by a cross-fade (always encoded again). `progress` gets the fraction done, 0…1.
    @discardableResult
    public func joinChunks(
        _ clips: [ChunkClip], overlapFrames: Int, frameRate: Int, audio: URL, to output: URL,
        timeout: Duration = .seconds(600), progress: (@Sendable (Double) -> Void)? = nil
    ) async throws -> VideoHandling {
        var videos: [VideoStreamInfo] = []
        for clip in clips {
            var video = clip.video
            if video == nil { video = try await probe(clip.url).video }
            guard let video else {
                throw MediaError.unusableInput(path: clip.url.path, problem: "has no video stream")
            }
            videos.append(video)
        }
        guard let first = videos.first else {
            throw MediaError.unusableInput(path: output.path, problem: "cannot be made from no clips")
        }
        let totalFrames = clips.reduce(0) { $0 + $1.frames } - overlapFrames * (clips.count - 1)
        let seconds = Double(totalFrames) / Double(frameRate)
        let sameVideo = videos.allSatisfy {
            $0.codec == "h264" && $0.width == first.width && $0.height == first.height && $0.pixelFormat == first.pixelFormat
                && abs($0.frameRate - Double(frameRate)) < 0.01
        }
        if overlapFrames == 0, sameVideo {
            try await joinByCopying(clips, videos: videos, frameRate: frameRate, seconds: seconds, audio: audio, to: output,
                                    timeout: timeout, progress: progress)
            let joined = try await probe(output)
            if let length = joined.video?.duration ?? joined.duration, abs(length - seconds) <= 1 / Double(frameRate) + 1e-6 {
                return .copied
            }
        }
        try await joinByEncoding(clips, width: first.width, height: first.height, overlapFrames: overlapFrames,
                                 frameRate: frameRate, totalFrames: totalFrames, audio: audio, to: output,
                                 timeout: timeout, progress: progress)
        return .reencoded
    }

    /// The concat demuxer with stream copy: each clip's `duration` is its span, so the next starts
    /// on time whatever the clip's own length; a clip longer than its span also gets an `outpoint`.
    private func joinByCopying(
        _ clips: [ChunkClip], videos: [VideoStreamInfo], frameRate: Int, seconds: Double, audio: URL, to output: URL,
        timeout: Duration, progress: (@Sendable (Double) -> Void)?
    ) async throws {
        var lines = ["ffconcat version 1.0"]
        for (clip, video) in zip(clips, videos) {
            let span = Double(clip.frames) / Double(frameRate)
            lines.append("file '" + clip.url.path.replacingOccurrences(of: "'", with: "'\\''") + "'")
            lines.append("duration " + Self.argument(span))
            if (video.duration ?? 0) > span + 0.5 / Double(frameRate) { lines.append("outpoint " + Self.argument(span)) }
        }
        let list = output.deletingLastPathComponent().appendingPathComponent(".join-\(UUID().uuidString).txt")
        try (lines.joined(separator: "\n") + "\n").write(to: list, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: list) }
        let arguments = ["-f", "concat", "-safe", "0", "-i", list.path, "-i", audio.path, "-map", "0:v:0", "-map", "1:a:0",
                         "-c", "copy", "-t", Self.argument(seconds), "-movflags", "+faststart"]
            + Self.reproducibleOutput + ["-f", "mp4", output.path]
        try await run(arguments, timeout: timeout, onTime: Self.fractions(of: seconds, progress))
    }

    /// Every clip made exactly its frames long (last frame held, or cut) at the first clip's size,
    /// then concatenated, or chained through cross-fades of `overlapFrames`.
    private func joinByEncoding(
        _ clips: [ChunkClip], width: Int, height: Int, overlapFrames: Int, frameRate: Int, totalFrames: Int,
        audio: URL, to output: URL, timeout: Duration, progress: (@Sendable (Double) -> Void)?
    ) async throws {
        let width = width + width % 2, height = height + height % 2
        var arguments: [String] = []
        var filters: [String] = []
        for (index, clip) in clips.enumerated() {
            arguments += ["-i", clip.url.path]
            filters.append(
                "[\(index):v:0]fps=\(frameRate),scale=\(width):\(height):force_original_aspect_ratio=decrease,"
                    + "pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2,setsar=1,format=yuv420p,"
                    + "tpad=stop_mode=clone:stop=\(clip.frames),trim=end_frame=\(clip.frames),setpts=PTS-STARTPTS[c\(index)]")
        }
        if overlapFrames == 0 {
            filters.append((0..<clips.count).map { "[c\($0)]" }.joined() + "concat=n=\(clips.count):v=1:a=0[v]")
        } else {
            let fade = Self.argument(Double(overlapFrames) / Double(frameRate))
            var length = clips[0].frames
            var previous = "c0"
            for index in 1..<max(1, clips.count) {
                let label = index == clips.count - 1 ? "v" : "x\(index)"
                let offset = Self.argument(Double(length - overlapFrames) / Double(frameRate))
                filters.append("[\(previous)][c\(index)]xfade=transition=fade:duration=\(fade):offset=\(offset)[\(label)]")
                length += clips[index].frames - overlapFrames
                previous = label
            }
            if clips.count == 1 { filters.append("[c0]null[v]") }
        }
        let seconds = Double(totalFrames) / Double(frameRate)
        arguments += ["-i", audio.path, "-filter_complex", filters.joined(separator: ";"), "-map", "[v]", "-map", "\(clips.count):a:0"]
        arguments += Self.h264Encoding + ["-r", "\(frameRate)", "-frames:v", "\(totalFrames)", "-c:a", "copy"]
        arguments += ["-t", Self.argument(seconds), "-movflags", "+faststart"] + Self.reproducibleOutput + ["-f", "mp4", output.path]
        try await run(arguments, timeout: timeout, onTime: Self.fractions(of: seconds, progress))
    }

    /// Encodes the first audio stream of `input` as AAC in an `.m4a`.
    public func encodeAAC(_ input: URL, to output: URL, bitrate: String = "192k", timeout: Duration = .seconds(600)) async throws {
        try await run(["-i", input.path, "-map", "0:a:0", "-c:a", "aac", "-b:a", bitrate] + Self.reproducibleOutput
                      + ["-f", "ipod", output.path], timeout: timeout)
    }

    /// Encodes the first audio stream of `input` losslessly (Apple Lossless) in an `.m4a`: exact and
    /// about ten times cheaper than AAC, for sound that a later mux replaces anyway.
    public func encodeLossless(_ input: URL, to output: URL, timeout: Duration = .seconds(600)) async throws {
        try await run(["-i", input.path, "-map", "0:a:0", "-c:a", "alac"] + Self.reproducibleOutput + ["-f", "ipod", output.path],
                      timeout: timeout)
    }
}
