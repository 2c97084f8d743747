import FarmKit
import FetchProvider
import Foundation

/// `ffmpeg.voice-dataset`: recordings of a person's voice → the zip RVC trainers take,
/// `dataset/<slug>/split_<i>.wav`, clips of roughly 5–15 s cut at the pauses.
///
/// A source is a file, a folder of them, or a link: a direct file, a page with one, or a YouTube
/// video (fetched before the training starts by the song sources' machinery, yt-dlp included, and
/// kept in the fetched-sources cache).
///
/// Checks on the way, each a bad-input error: every source is audio; it is not silence; it is loud
/// enough; it has pauses (speech or a cappella singing has them, music and noise do not); and the
/// voice adds up to at least `min_seconds`.
struct VoiceDatasetStage: RenderStage {
    let id = StageID("ffmpeg.voice-dataset", version: 1)
    let summary = "slice voice recordings (files, folders, links, YouTube) at their pauses into an RVC dataset zip (dataset/<slug>/split_<i>.wav)"
    let inputs: [FarmKit.Port] = []
    let outputs = [Port("dataset", .archive, "zip of dataset/<slug>/split_<i>.wav")]
    let parameters = [
        ParamSpec("sources", .array, required: true, "audio files or folders of them (absolute paths), or http(s) links (pages and YouTube too)"),
        ParamSpec("slug", .string, required: true, "the dataset's folder name, unique per training: [A-Za-z0-9_-]"),
        ParamSpec("sample_rate", .integer, default: 48000, choices: [40000, 48000], "clip sample rate (the trainer's)"),
        ParamSpec("channels", .integer, default: 1, choices: [1, 2], "1 mono, 2 stereo"),
        ParamSpec("min_seconds", .number, default: 60, range: 1...36_000, "least voice in total, pauses not counted"),
        ParamSpec("clip_min_seconds", .number, default: 5, range: 1...60, "clips shorter than this are joined with the next"),
        ParamSpec("clip_max_seconds", .number, default: 15, range: 2...120, "clips longer than this are cut in equal parts"),
        ParamSpec("silence_db", .number, default: -40, range: -90 ... -10, "level below which audio counts as a pause"),
        ParamSpec("quiet_db", .number, default: -35, range: -90 ... -5, "a source whose peak is below this is too quiet"),
        ParamSpec("min_pauses_per_minute", .number, default: 2, range: 0...120, "fewer pauses than this reads as music or noise"),
        ParamSpec("max_seconds", .number, default: 10_800, range: 1...86_400, "refuse a linked recording longer than this"),
        ParamSpec("max_bytes", .integer, default: .integer(1 << 30), range: 1...1e12, "refuse a linked file larger than this"),
        ParamSpec("fresh_hours", .number, default: 24, range: 0...87_600, "reuse a link fetched within this many hours instead of fetching it again"),
    ]
    /// Links are fetched into the store by the preflight.
    let preflightPrepares = true

    /// Audio file extensions picked up from folders.
    static let audioExtensions: Set<String> = ["wav", "mp3", "m4a", "flac", "ogg", "opus", "aac", "webm", "mp4", "mkv", "mov", "aiff", "aif"]

    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        let slug = parameters["slug"]?.stringValue ?? ""
        guard !slug.isEmpty, slug.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw StageFailure("dataset slug \"\(slug)\" may use only A-Z, a-z, 0-9, _ and -", isBadInput: true)
        }
        var prepared = Preparation()
        for (index, source) in Self.sources(parameters).enumerated() where RecordingLink.isLink(source) {
            prepared.artifacts[Self.linkKey(index)] = try await RecordingLink.fetch(
                source, maxSeconds: parameters["max_seconds"]?.doubleValue ?? 10_800,
                maxBytes: parameters["max_bytes"]?.intValue.map(Int64.init) ?? 1 << 30,
                freshHours: parameters["fresh_hours"]?.doubleValue ?? 24, in: context)
        }
        for (file, _) in try Self.files(parameters, prepared: prepared) {
            let info: MediaInfo
            do {
                info = try await context.ffmpeg.probe(file)
            } catch {
                throw StageFailure("voice recording cannot be read as audio: \(file.path)",
                                   hint: "give audio files (wav, mp3, m4a, flac, …) or videos with sound", isBadInput: true)
            }
            guard info.audio != nil else {
                throw StageFailure("voice recording has no audio track: \(file.path)", hint: "give files with sound", isBadInput: true)
            }
        }
        return prepared
    }

    func cacheIdentity(_ request: StageRequest, digest: @Sendable (URL) async throws -> String) async throws -> JSON? {
        var digests: [JSON] = []
        for (file, _) in try Self.files(request.parameters, prepared: request.prepared) { digests.append(.string(try await digest(file))) }
        return ["sources_sha256": .array(digests)]
    }

    static func sources(_ parameters: [String: JSON]) -> [String] {
        parameters["sources"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    /// Where the preflight keeps the download of the `index`th source, a link.
    static func linkKey(_ index: Int) -> String { "source-\(index)" }

    /// The source files, folders expanded (sorted), links as the downloads `prepared` holds, in
    /// the order given; each with the name messages call it by.
    static func files(_ parameters: [String: JSON], prepared: Preparation) throws -> [(file: URL, name: String)] {
        let sources = sources(parameters)
        guard !sources.isEmpty else {
            throw StageFailure("no voice recordings given", hint: "give --voice FILE or LINK (repeatable) or a folder of recordings", isBadInput: true)
        }
        var files: [(file: URL, name: String)] = []
        for (index, source) in sources.enumerated() {
            if RecordingLink.isLink(source) {
                guard let fetched = prepared.artifacts[linkKey(index)] else {
                    throw StageFailure("the voice link \(RecordingLink.shown(source)) was not fetched before the stage ran",
                                       hint: "train with farm train, which fetches links first")
                }
                files.append((fetched.path, RecordingLink.shown(source)))
                continue
            }
            let url = URL(fileURLWithPath: source)
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                throw StageFailure("voice recording not found: \(source)", hint: "check the path given to --voice", isBadInput: true)
            }
            guard isFolder.boolValue else {
                files.append((url, url.lastPathComponent))
                continue
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
            let audio = names.filter { audioExtensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
            guard !audio.isEmpty else {
                throw StageFailure("no audio files in folder \(source)", hint: "put recordings (wav, mp3, m4a, flac, …) in it", isBadInput: true)
            }
            files += audio.map { (url.appendingPathComponent($0), $0) }
        }
        return files
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let files = try Self.files(request.parameters, prepared: request.prepared)
        let slug = request.string("slug")!
        let sampleRate = request.int("sample_rate") ?? 48000
        let channels = request.int("channels") ?? 1
        let settings = VoiceSlicer.Settings(
            silenceDB: request.double("silence_db") ?? -40, clipMin: request.double("clip_min_seconds") ?? 5,
            clipMax: request.double("clip_max_seconds") ?? 15)

        var clips: [(source: URL, range: ClosedRange<Double>)] = []
        var voiced = 0.0
        for (index, (file, name)) in files.enumerated() {
            context.progress(Double(index) / Double(files.count) * 0.5, "listening to \(name)")
            let decoded = context.scratchFile("source-\(index).wav")
            try await context.ffmpeg.run(
                ["-i", file.path, "-vn", "-ac", "\(channels)", "-ar", "\(sampleRate)", "-c:a", "pcm_s16le", decoded.path],
                timeout: .seconds(1800))
            let analysis = try await VoiceSlicer.analyse(decoded, ffmpeg: context.ffmpeg, silenceDB: settings.silenceDB)
            context.log("\(name): \(String(format: "%.1f", analysis.duration)) s, peak \(String(format: "%.1f", analysis.peakDB)) dB, mean \(String(format: "%.1f", analysis.meanDB)) dB, \(analysis.pauses) pauses, \(String(format: "%.1f", analysis.voicedSeconds)) s of voice")
            try check(analysis, name: name, request: request)
            voiced += analysis.voicedSeconds
            clips += VoiceSlicer.clips(analysis, settings).map { (decoded, $0) }
        }
        let minimum = request.double("min_seconds") ?? 60
        guard voiced >= minimum else {
            throw StageFailure(
                "too little voice: \(String(format: "%.0f", voiced)) s found in \(files.count) recording(s), the training needs at least \(String(format: "%.0f", minimum)) s",
                hint: "add more recordings of the person singing or speaking (RVC does best with about 10 minutes), or lower it with --set dataset.min_seconds=SECONDS",
                isBadInput: true)
        }

        var entries: [(name: String, file: URL)] = []
        for (index, clip) in clips.enumerated() {
            context.progress(0.5 + 0.45 * Double(index) / Double(clips.count), "cutting clip \(index + 1) of \(clips.count)")
            let file = context.scratchFile("split_\(index).wav")
            try await context.ffmpeg.run(
                ["-ss", FFmpegNumber.text(clip.range.lowerBound), "-t", FFmpegNumber.text(clip.range.upperBound - clip.range.lowerBound),
                 "-i", clip.source.path, "-c:a", "pcm_s16le", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact", file.path])
            entries.append(("dataset/\(slug)/split_\(index).wav", file))
        }
        let zip = context.scratchFile("dataset_\(slug).zip")
        try await BlockingIO.run { [entries] in try ZipArchive.write(entries, to: zip) }
        context.progress(1, "\(clips.count) clips, \(String(format: "%.0f", voiced)) s of voice")
        return StageResult(outputs: ["dataset": zip], metadata: [
            "slug": .string(slug), "clips": .integer(Int64(clips.count)), "voice_seconds": .double((voiced * 10).rounded() / 10),
            "recordings": .integer(Int64(files.count)),
        ])
    }

    /// The per-recording checks: silence, too quiet, no pauses.
    private func check(_ analysis: VoiceSlicer.Analysis, name: String, request: StageRequest) throws {
        guard analysis.voicedSeconds > 0.5 else {
            throw StageFailure("no voice detected in \(name): it is silence", hint: "check the recording, or leave it out", isBadInput: true)
        }
        let quiet = request.double("quiet_db") ?? -35
        guard analysis.peakDB >= quiet else {
            throw StageFailure(
                "\(name) is too quiet to train on (peak \(String(format: "%.1f", analysis.peakDB)) dB, needs \(String(format: "%.0f", quiet)) dB or louder)",
                hint: "raise its volume, or record closer to the microphone", isBadInput: true)
        }
        let perMinute = Double(analysis.pauses) / max(analysis.duration, 1) * 60
        if analysis.duration >= 20, perMinute < (request.double("min_pauses_per_minute") ?? 2) {
            throw StageFailure(
                "no voice detected in \(name): it has no pauses (\(analysis.pauses) in \(String(format: "%.0f", analysis.duration)) s), so it sounds like music or noise, not a voice",
                hint: "give recordings of the voice alone (speech, or singing without accompaniment)", isBadInput: true)
        }
    }
}

/// Numbers for ffmpeg arguments: plain decimal, millisecond precision.
enum FFmpegNumber {
    static func text(_ value: Double) -> String { String(format: "%.3f", value) }
}
