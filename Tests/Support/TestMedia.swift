import FarmKit
import Foundation

/// Small real media files made with ffmpeg, for tests.
public enum TestMedia {
    static let ffmpeg = FFmpeg()

    /// A 16-bit 44.1 kHz WAV: a sine tone, `channels` channels.
    @discardableResult
    public static func sineWAV(seconds: Double, frequency: Int = 440, channels: Int = 2, to url: URL) async throws -> URL {
        try await ffmpeg.run([
            "-f", "lavfi", "-i", "sine=f=\(frequency):r=44100:d=\(seconds)",
            "-ac", "\(channels)", "-c:a", "pcm_s16le", url.path,
        ])
        return url
    }

    /// A 16-bit 44.1 kHz stereo WAV that "sings" (a tone whose pitch wanders, like phrases of a
    /// voice) except in `pauses`, which are digital silence: the quiet points a chunked stage
    /// should cut at. With `loud` ranges, the voice is 12 dB quieter outside them (verses and a
    /// chorus).
    @discardableResult
    public static func phrases(seconds: Double, pauses: [ClosedRange<Double>], loud: [ClosedRange<Double>] = [], to url: URL) async throws -> URL {
        let silent = pauses.map { "between(t,\($0.lowerBound),\($0.upperBound))" }.joined(separator: "+")
        let gain = loud.isEmpty ? "0.4" : "(0.1+0.3*(" + loud.map { "between(t,\($0.lowerBound),\($0.upperBound))" }.joined(separator: "+") + "))"
        let voice = "\(gain)*sin(2*PI*(220+60*sin(2*PI*0.7*t))*t)"
        let expression = pauses.isEmpty ? voice : "if(\(silent),0,\(voice))"
        try await ffmpeg.run([
            "-f", "lavfi", "-i", "aevalsrc='\(expression)':s=44100:d=\(seconds)",
            "-ac", "2", "-c:a", "pcm_s16le", url.path,
        ])
        return url
    }

    /// A 128 kbit/s stereo MP3 of a sine tone (with a Xing header that states its length), optionally
    /// tagged and with an attached cover picture.
    @discardableResult
    public static func mp3(
        seconds: Double, to url: URL, title: String? = nil, artist: String? = nil, coverArt: Bool = false
    ) async throws -> URL {
        var arguments = ["-f", "lavfi", "-i", "sine=f=330:r=44100:d=\(seconds)"]
        if coverArt {
            arguments += ["-f", "lavfi", "-i", "color=c=red:s=64x64:d=1", "-frames:v", "1", "-map", "0:a", "-map", "1:v",
                          "-c:v", "png", "-disposition:v", "attached_pic", "-id3v2_version", "3"]
        }
        if let title { arguments += ["-metadata", "title=\(title)"] }
        if let artist { arguments += ["-metadata", "artist=\(artist)"] }
        try await ffmpeg.run(arguments + ["-ac", "2", "-c:a", "libmp3lame", "-b:a", "128k", url.path])
        return url
    }

    /// An H.264 (yuv420p) mp4 of a solid colour with a white box moving along the top (so every frame
    /// differs), `rate` fps, a keyframe every second; optionally with a sine tone as AAC audio.
    @discardableResult
    public static func colorVideo(
        seconds: Double, size: String = "320x240", rate: Int = 25, color: String = "navy", to url: URL,
        withAudio: Bool = false
    ) async throws -> URL {
        var arguments = withAudio ? ["-f", "lavfi", "-i", "sine=f=550:r=44100:d=\(seconds)"] : []
        arguments += [
            "-filter_complex",
            "color=c=\(color):s=\(size):r=\(rate):d=\(seconds)[bg];color=c=white:s=40x40:r=\(rate)[box];"
                + "[bg][box]overlay=x='mod(t*80,W-40)':y=20:shortest=1[v]",
            "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "\(rate)",
        ]
        if withAudio { arguments += ["-map", "0:a", "-c:a", "aac", "-ac", "2"] }
        try await ffmpeg.run(arguments + [url.path])
        return url
    }

    /// A copy of the first `bytes` bytes of `source`.
    @discardableResult
    public static func truncated(_ source: URL, keepingBytes bytes: Int, to url: URL) throws -> URL {
        try Data(try Data(contentsOf: source).prefix(bytes)).write(to: url)
        return url
    }
}

extension TestMedia {
    /// The mean colour (red, green, blue, 0…255) of frame `index` (from 0) of `url`'s first video
    /// stream within `crop` (ffmpeg's `w:h:x:y`, expressions allowed).
    public static func frameColor(_ url: URL, frame index: Int, crop: String = "iw:ih:0:0") async throws -> [Int] {
        let pixel = FileManager.default.temporaryDirectory.appendingPathComponent("frame-\(UUID().uuidString).rgb")
        defer { try? FileManager.default.removeItem(at: pixel) }
        try await ffmpeg.run([
            "-i", url.path, "-map", "0:v:0", "-vf", "select=eq(n\\,\(index)),crop=\(crop),scale=1:1:flags=area",
            "-fps_mode", "passthrough", "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", pixel.path,
        ])
        let bytes = try Data(contentsOf: pixel)
        guard bytes.count == 3 else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSFilePathErrorKey: url.path]) }
        return bytes.map(Int.init)
    }

    /// The MD5 of each decoded frame of the first video stream, in order (ffmpeg's `framemd5`). H.264
    /// is lossy, so equal hashes mean the frames were copied, not encoded again.
    public static func videoFrameHashes(_ url: URL) async throws -> [String] {
        let output = try await ffmpeg.run(["-i", url.path, "-map", "0:v:0", "-f", "framemd5", "-"])
        return output.standardOutput.split(separator: "\n")
            .filter { !$0.hasPrefix("#") }
            .compactMap { $0.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) } }
    }
}
