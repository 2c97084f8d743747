import FarmKit
import Foundation

/// `fetch.song`: the song to render, from a local file or a link (a direct file, a web page with
/// one, or a video site through yt-dlp). Checked — and a link fetched into the store — before the
/// render starts, then normalised to `song.wav` (44.1 kHz stereo 16-bit), trimmed and capped.
struct SongStage: RenderStage {
    let id = StageID("fetch.song", version: 1)
    let summary = "a local file or a link (file, web page, YouTube via yt-dlp), checked and normalised to WAV"
    let inputs: [FarmKit.Port] = []
    let outputs = [FarmKit.Port("audio", .audio, "WAV, 44.1 kHz stereo s16")]
    let parameters = [
        ParamSpec("source", .string, required: true, "the song: a local audio or video file, or an http(s) link (filled from --song)"),
        ParamSpec("max_seconds", .number, default: 600, range: 1...86_400, "refuse songs longer than this"),
        ParamSpec("start", .number, range: 0...86_400, "skip this many seconds at the beginning (--start)"),
        ParamSpec("end", .number, range: 0...86_400, "stop at this second of the song (--end)"),
        ParamSpec("max_bytes", .integer, default: .integer(SongRequest.defaultMaxBytes), range: 1...1e12, "refuse links to files larger than this"),
        ParamSpec("fresh_hours", .number, default: .double(SongRequest.defaultFreshHours), range: 0...87_600,
                  "reuse a link fetched within this many hours instead of fetching it again"),
    ]
    /// The title, and a link's download, are prepared.
    let preflightPrepares = true

    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        let song = try SongRequest(parameters)
        switch song.origin {
        case .file(let file):
            try await Self.checkFile(file)
            let info = try await SongInspection(song: song, noun: "song file", name: file.path).inspect(file, tools: context.ffmpeg)
            return Preparation(facts: ["title": .string(SongInspection.title(info, fallback: Self.fileName(file)))])
        case .link(let link):
            if context.checkOnly { return .none }
            return try await SongLinkFetch(song: song, link: link, context: context).prepare()
        }
    }

    /// A local file is known by the digest of its bytes; a link's download is in `request.prepared`.
    func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        guard case .file(let file) = try SongRequest(request.parameters).origin else { return nil }
        return ["source_sha256": .string(try await digest(file))]
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let song = try SongRequest(request.parameters)
        let input: URL
        switch song.origin {
        case .file(let file): input = file
        case .link:
            guard let fetched = request.prepared.artifacts["song"] else {
                throw StageFailure("the song link was not fetched before the stage ran", hint: "render with farm render, which fetches it first")
            }
            input = fetched.path
        }
        let output = context.scratchFile("song.wav")
        context.progress(0, "reading the song")
        let info = try await context.ffmpeg.probe(input)
        try await context.ffmpeg.normalizeAudio(
            input, to: output, start: song.start, maxSeconds: song.keptSeconds,
            progress: { context.progress($0, "normalizing the song") })
        let duration = try await context.ffmpeg.probe(output).duration
        context.progress(1, "song ready")
        let title = request.prepared.facts["title"]?.stringValue ?? SongInspection.title(info, fallback: Self.fileName(input))
        return StageResult(
            outputs: ["audio": output],
            metadata: ["title": .string(title), "duration": duration.map(JSON.double) ?? .null, "source": .string(song.source)])
    }

    private static func fileName(_ file: URL) -> String {
        file.deletingPathExtension().lastPathComponent
    }

    /// Checks that `file` is a non-empty regular file.
    private static func checkFile(_ file: URL) async throws {
        let problem = try await BlockingIO.run { () -> (String, String)? in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory) else {
                return ("song file not found: \(file.path)", "check the path given to --song")
            }
            guard !isDirectory.boolValue else {
                return ("song path is a folder, not a file: \(file.path)", "pass one audio or video file with --song")
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int) ?? 0
            return size > 0 ? nil : ("song file is empty: \(file.path)", "download or export the song again")
        }
        if let (message, hint) = problem { throw StageFailure(message, hint: hint, isBadInput: true) }
    }
}
