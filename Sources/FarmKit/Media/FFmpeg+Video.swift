import Foundation

extension FFmpeg {
    /// How an operation treated the video stream.
    public enum VideoHandling: String, Sendable, CustomStringConvertible {
        /// Packets copied as they were.
        case copied
        /// Decoded and encoded again with H.264.
        case reencoded
        /// Encoded again with H.264, the last frame held until the audio ends.
        case lastFrameHeld = "last_frame_held"

        public var description: String {
            switch self {
            case .copied: "copied"
            case .reencoded: "re-encoded"
            case .lastFrameHeld: "re-encoded, last frame held"
            }
        }
    }

    /// Puts `audio` under the first video stream of `video`: an H.264 + AAC mp4 as long as the audio.
    ///
    /// An H.264 video at least as long as the audio is copied and cut at the audio's length (`-t`,
    /// since `-shortest` overruns with stream copy). A shorter video is re-encoded with its last frame
    /// held (`tpad`); another codec is re-encoded. AAC audio is copied, other audio encoded to AAC at
    /// `audioBitrate`. `progress` gets the fraction done, 0…1.
    @discardableResult
    public func muxVideo(
        _ video: URL, audio: URL, to output: URL, audioBitrate: String = "192k", timeout: Duration = .seconds(600),
        progress: (@Sendable (Double) -> Void)? = nil
    ) async throws -> VideoHandling {
        async let probedVideo = probe(video)
        async let probedAudio = probe(audio)
        let (videoInfo, audioInfo) = try await (probedVideo, probedAudio)
        guard let videoStream = videoInfo.video else {
            throw MediaError.unusableInput(path: video.path, problem: "has no video stream")
        }
        guard let audioStream = audioInfo.audio else {
            throw MediaError.unusableInput(path: audio.path, problem: "has no audio stream")
        }
        guard let audioSeconds = audioStream.duration ?? audioInfo.duration else {
            throw MediaError.unusableInput(path: audio.path, problem: "has no known length")
        }
        let videoSeconds = videoStream.duration ?? videoInfo.duration ?? 0
        let handling: VideoHandling =
            videoSeconds + 0.05 < audioSeconds ? .lastFrameHeld : videoStream.codec == "h264" ? .copied : .reencoded

        var arguments = ["-i", video.path, "-i", audio.path]
        switch handling {
        case .copied:
            arguments += ["-map", "0:v:0", "-c:v", "copy"]
        case .reencoded:
            arguments += ["-map", "0:v:0"] + Self.h264Encoding
        case .lastFrameHeld:
            let hold = Self.argument(audioSeconds - videoSeconds + 1)
            arguments += ["-filter_complex", "[0:v:0]tpad=stop_mode=clone:stop_duration=\(hold)[v]", "-map", "[v]"]
            arguments += Self.h264Encoding
        }
        arguments += ["-map", "1:a:0"] + (audioStream.codec == "aac" ? ["-c:a", "copy"] : ["-c:a", "aac", "-b:a", audioBitrate])
        arguments += ["-t", Self.argument(audioSeconds)]
        arguments += ["-movflags", "+faststart"] + Self.reproducibleOutput + ["-f", "mp4", output.path]
        try await run(arguments, timeout: timeout, onTime: Self.fractions(of: audioSeconds, progress))
        return handling
    }

    /// Joins `inputs` one after the other into an H.264 + AAC mp4.
    ///
    /// Clips with the same H.264 parameters (and the same AAC audio, or none) are joined by the concat
    /// demuxer without re-encoding. Otherwise every clip is scaled and padded to the first one's size
    /// and frame rate and encoded again; a clip without sound gets silence when another has some.
    /// `progress` gets the fraction done, 0…1.
    @discardableResult
    public func concatVideos(
        _ inputs: [URL], to output: URL, timeout: Duration = .seconds(600),
        progress: (@Sendable (Double) -> Void)? = nil
    ) async throws -> VideoHandling {
        var clips: [(url: URL, info: MediaInfo, video: VideoStreamInfo)] = []
        for url in inputs {
            let info = try await probe(url)
            guard let video = info.video else {
                throw MediaError.unusableInput(path: url.path, problem: "has no video stream")
            }
            clips.append((url, info, video))
        }
        guard let first = clips.first else {
            throw MediaError.unusableInput(path: output.path, problem: "cannot be made from no clips")
        }
        let sameVideo = clips.allSatisfy {
            $0.video.codec == "h264" && $0.video.width == first.video.width && $0.video.height == first.video.height
                && $0.video.pixelFormat == first.video.pixelFormat && abs($0.video.frameRate - first.video.frameRate) < 0.001
        }
        let sameAudio = clips.allSatisfy {
            $0.info.audio?.codec == first.info.audio?.codec && $0.info.audio?.sampleRate == first.info.audio?.sampleRate
                && $0.info.audio?.channels == first.info.audio?.channels
        }
        let anyAudio = clips.contains { $0.info.audio != nil }
        let total = clips.reduce(0) { $0 + ($1.video.duration ?? $1.info.duration ?? 0) }
        let onTime = Self.fractions(of: total, progress)
        if sameVideo, sameAudio, first.info.audio.map({ $0.codec == "aac" }) ?? true {
            try await concatByCopying(clips.map(\.url), audio: anyAudio, to: output, timeout: timeout, onTime: onTime)
            return .copied
        }

        var arguments: [String] = []
        for clip in clips { arguments += ["-i", clip.url.path] }
        let width = first.video.width + first.video.width % 2, height = first.video.height + first.video.height % 2
        let frameRate = first.video.frameRate > 0 ? first.video.frameRate : 25
        var filters: [String] = []
        var segments = ""
        var silenceInput = clips.count
        for (index, clip) in clips.enumerated() {
            filters.append(
                "[\(index):v:0]scale=\(width):\(height):force_original_aspect_ratio=decrease,"
                    + "pad=\(width):\(height):(ow-iw)/2:(oh-ih)/2,setsar=1,fps=\(Self.argument(frameRate)),format=yuv420p[v\(index)]")
            segments += "[v\(index)]"
            guard anyAudio else { continue }
            if clip.info.audio != nil {
                filters.append("[\(index):a:0]aresample=44100,aformat=sample_fmts=fltp:channel_layouts=stereo[a\(index)]")
            } else {
                guard let seconds = clip.video.duration ?? clip.info.duration else {
                    throw MediaError.unusableInput(path: clip.url.path, problem: "has no known length")
                }
                arguments += ["-f", "lavfi", "-t", Self.argument(seconds), "-i", "anullsrc=r=44100:cl=stereo"]
                filters.append("[\(silenceInput):a:0]aformat=sample_fmts=fltp:channel_layouts=stereo[a\(index)]")
                silenceInput += 1
            }
            segments += "[a\(index)]"
        }
        filters.append("\(segments)concat=n=\(clips.count):v=1:a=\(anyAudio ? 1 : 0)[v]\(anyAudio ? "[a]" : "")")
        arguments += ["-filter_complex", filters.joined(separator: ";"), "-map", "[v]"] + Self.h264Encoding
        if anyAudio { arguments += ["-map", "[a]", "-c:a", "aac", "-b:a", "192k"] }
        arguments += ["-movflags", "+faststart"] + Self.reproducibleOutput + ["-f", "mp4", output.path]
        try await run(arguments, timeout: timeout, onTime: onTime)
        return .reencoded
    }

    /// The concat demuxer with stream copy; the list file lives next to the output while ffmpeg runs.
    private func concatByCopying(
        _ inputs: [URL], audio: Bool, to output: URL, timeout: Duration, onTime: (@Sendable (_ seconds: Double) -> Void)?
    ) async throws {
        let list = output.deletingLastPathComponent().appendingPathComponent(".concat-\(UUID().uuidString).txt")
        let entries = inputs.map { "file '" + $0.path.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        try (["ffconcat version 1.0"] + entries).joined(separator: "\n").appending("\n")
            .write(to: list, atomically: false, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: list) }
        var arguments = ["-f", "concat", "-safe", "0", "-i", list.path, "-map", "0:v:0"]
        if audio { arguments += ["-map", "0:a:0"] }
        arguments += ["-c", "copy", "-movflags", "+faststart"] + Self.reproducibleOutput + ["-f", "mp4", output.path]
        try await run(arguments, timeout: timeout, onTime: onTime)
    }
}
