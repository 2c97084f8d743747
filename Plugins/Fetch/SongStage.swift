import FarmKit
import Foundation

/// `fetch.song`: the song to render, from a local file: checked before the render starts, then
/// normalised to `song.wav` (44.1 kHz stereo 16-bit), trimmed and capped.
struct SongStage: RenderStage {
    let id = StageID("fetch.song", version: 1)
    let summary = "a local audio or video file, checked and normalised to WAV"
    let inputs: [FarmKit.Port] = []
    let outputs = [FarmKit.Port("audio", .audio, "WAV, 44.1 kHz stereo s16")]
    let parameters = [
        ParamSpec("source", .string, required: true, "the song: a local audio or video file (filled from --song)"),
        ParamSpec("max_seconds", .number, default: 600, range: 1...86_400, "refuse songs longer than this"),
        ParamSpec("start", .number, range: 0...86_400, "skip this many seconds at the beginning"),
        ParamSpec("end", .number, range: 0...86_400, "stop at this second of the song"),
    ]

    func preflight(_ parameters: [String: JSON], tools: FFmpeg) async throws {
        let song = try SongRequest(parameters)
        try song.checkFile()
        let path = song.file.path
        let info: MediaInfo
        do {
            info = try await tools.probe(song.file)
        } catch MediaError.failed(_, _, let stderrTail) {
            throw song.bad(
                "song file cannot be read as audio or video (damaged, or not a media file): \(path)\(Self.reason(stderrTail, path: path))",
                hint: "pass an audio file (mp3, wav, m4a, flac, …) or a video with sound")
        }
        guard info.audio != nil else {
            throw song.bad(
                info.video == nil ? "song file has no audio track: \(path)" : "song file is a video with no audio track: \(path)",
                hint: "pass a file with sound")
        }
        if let duration = info.duration { try song.checkRange(duration: duration) }

        let damaged = "download or export the song again"
        let decoded: Double
        do {
            decoded = try await tools.decodedAudioDuration(of: song.file)
        } catch MediaError.failed(_, _, let stderrTail) {
            throw song.bad("song file is damaged, ffmpeg cannot decode it: \(path)\(Self.reason(stderrTail, path: path))", hint: damaged)
        }
        if let duration = info.duration, duration - decoded > max(1, 0.05 * duration) {
            throw song.bad(
                "song file is truncated: its header says \(duration.clock) but only \(decoded.clock) could be decoded: \(path)",
                hint: damaged)
        }
        if info.duration == nil { try song.checkRange(duration: decoded) }
    }

    func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        ["source_sha256": .string(try await digest(try SongRequest(request.parameters).file))]
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let song = try SongRequest(request.parameters)
        let output = context.scratchFile("song.wav")
        context.progress(0, "reading the song")
        let info = try await context.ffmpeg.probe(song.file)
        try await context.ffmpeg.normalizeAudio(
            song.file, to: output, start: song.start, maxSeconds: song.keptSeconds,
            progress: { context.progress($0, "normalizing the song") })
        let duration = try await context.ffmpeg.probe(output).duration
        context.progress(1, "song ready")
        let tagged = info.tags["title"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        let title = tagged.isEmpty ? song.file.deletingPathExtension().lastPathComponent : tagged
        return StageResult(
            outputs: ["audio": output],
            metadata: ["title": .string(title), "duration": duration.map(JSON.double) ?? .null, "source": .string(song.source)])
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
}
