import FarmKit
import Foundation

/// The checks every song passes before the render starts, whatever it came from: it is audio or
/// video with an audio track, it decodes to the end, and the chosen part lies in it within the cap.
struct SongInspection {
    let song: SongRequest
    /// How messages call the song: `song file` or `song link`.
    let noun: String
    /// The song's path or (redacted) link, for messages.
    let name: String

    /// Checks the song at `file` and returns what ffprobe says about it.
    func inspect(_ file: URL, tools: FFmpeg) async throws -> MediaInfo {
        let info: MediaInfo
        do {
            info = try await tools.probe(file)
        } catch MediaError.failed(_, _, let stderrTail) {
            throw song.bad(
                "\(noun) cannot be read as audio or video (damaged, or not a media file): \(name)\(Self.reason(stderrTail, path: file.path))",
                hint: "pass an audio file (mp3, wav, m4a, flac, …) or a video with sound")
        }
        guard info.audio != nil else {
            if let video = info.video, info.formatName.hasSuffix("_pipe") || ["image2", "gif", "webp"].contains(info.formatName) {
                throw song.bad("\(noun) is an image (\(video.codec)), not audio or video: \(name)", hint: "pass an audio file or a video with sound")
            }
            throw song.bad(
                info.video == nil ? "\(noun) has no audio track: \(name)" : "\(noun) is a video with no audio track: \(name)",
                hint: "pass a file with sound")
        }
        if let duration = info.duration { try song.checkRange(duration: duration, name: name) }

        let damaged = "download or export the song again"
        let decoded: Double
        do {
            decoded = try await tools.decodedAudioDuration(of: file)
        } catch MediaError.failed(_, _, let stderrTail) {
            throw song.bad("\(noun) is damaged, ffmpeg cannot decode it: \(name)\(Self.reason(stderrTail, path: file.path))", hint: damaged)
        }
        if let duration = info.duration, duration - decoded > max(1, 0.05 * duration) {
            throw song.bad(
                "\(noun) is truncated: its header says \(duration.clock) but only \(decoded.clock) could be decoded: \(name)",
                hint: damaged)
        }
        if info.duration == nil { try song.checkRange(duration: decoded, name: name) }
        return info
    }

    /// ffmpeg's most telling error line as ` (reason)`, empty when there is none: the first line a
    /// demuxer or decoder wrote (without its `[mp3 @ 0x…]` prefix), else the last line (without `PATH: `).
    static func reason(_ stderrTail: String, path: String) -> String {
        let lines = stderrTail.split(whereSeparator: \.isNewline).map(String.init)
        let prefix = "^\\[[^\\]]* @ 0x[0-9a-f]+\\] *"
        var line: String
        if let specific = lines.first(where: { $0.range(of: prefix, options: .regularExpression) != nil }) {
            line = specific.replacingOccurrences(of: prefix, with: "", options: .regularExpression)
        } else if let last = lines.last {
            line = last.hasPrefix(path + ": ") ? String(last.dropFirst(path.count + 2)) : last
        } else {
            return ""
        }
        line = line.trimmingCharacters(in: .whitespaces)
        return line.isEmpty ? "" : " (\(line))"
    }

    /// The song's title: its `title` tag, else `fallback` (a file name).
    static func title(_ info: MediaInfo, fallback: String) -> String {
        let tagged = info.tags["title"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return tagged.isEmpty ? fallback : tagged
    }
}
