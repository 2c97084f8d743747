import FarmKit
import Foundation
import OfflineProvider

/// The fake models' media, made by the offline provider's stages (the same code `farm render
/// --profile offline` runs) plus a few ffmpeg conversions.
struct OfflineMedia: Sendable {
    let ffmpeg: FFmpeg
    /// `Configuration.cheapMedia`: voices and faces made with a fraction of the work.
    let cheap: Bool
    private let stages: [String: any RenderStage]

    init(ffmpeg: FFmpeg, cheap: Bool = false) {
        self.ffmpeg = ffmpeg
        self.cheap = cheap
        var stages: [String: any RenderStage] = [:]
        for stage in OfflineProvider().stages() { stages[stage.id.name] = stage }
        self.stages = stages
    }

    /// `offline.image`: a PNG card of a singer.
    func image(prompt: String, seed: Int, width: Int, height: Int, in folder: URL, log: @escaping @Sendable (String) -> Void) async throws -> URL {
        try await run(
            "offline.image", inputs: [:],
            parameters: ["prompt": .string(prompt), "seed": .integer(Int64(seed)), "width": .integer(Int64(width)), "height": .integer(Int64(height))],
            output: "image", in: folder, log: log)
    }

    /// `offline.voice`: the song pitch-shifted, whole (`isolated` false) or as vocals only; WAV.
    func voice(song: URL, isolated: Bool, semitones: Int, in folder: URL, log: @escaping @Sendable (String) -> Void) async throws -> URL {
        if cheap {
            let output = folder.appendingPathComponent("voice-\(UUID().uuidString).wav")
            try await ffmpeg.normalizeAudio(song, to: output)
            return output
        }
        return try await run(
            "offline.voice", inputs: ["song": artifact(song, .audio)],
            parameters: ["mode": .string(isolated ? "isolated" : "mix"), "pitch_semitones": .integer(Int64(max(-12, min(12, semitones))))],
            output: "audio", in: folder, log: log)
    }

    /// `offline.face`: a square mp4 of the image lit by the audio, 25 fps, as long as the audio.
    func face(image: URL, audio: URL, size: Int, in folder: URL, log: @escaping @Sendable (String) -> Void) async throws -> URL {
        if cheap { return try await stillFace(image: image, audio: audio, size: size, in: folder) }
        return try await run(
            "offline.face", inputs: ["image": artifact(image, .image), "audio": artifact(audio, .audio)],
            parameters: ["size": .integer(Int64(size)), "fps": 25], output: "video", in: folder, log: log)
    }

    /// The cheap face: the still's centred square, looped for as long as the audio (same size, frame
    /// rate and length as `offline.face`), encoded with the fastest settings.
    private func stillFace(image: URL, audio: URL, size: Int, in folder: URL) async throws -> URL {
        let seconds = await audioSeconds(audio) ?? 0
        let output = folder.appendingPathComponent("face-\(UUID().uuidString).mp4")
        let side = size / 2 * 2
        try await ffmpeg.run([
            "-i", image.path, "-i", audio.path, "-filter_complex",
            "[0:v]crop=w='min(iw,ih)':h='min(iw,ih)',scale=\(side):\(side),setsar=1,format=yuv420p,loop=loop=-1:size=1,setpts=N/(25*TB)[v]",
            "-map", "[v]", "-frames:v", "\(max(1, Int((seconds * 25).rounded())))", "-r", "25", "-c:v", "libx264", "-preset", "ultrafast",
            "-tune", "stillimage", "-pix_fmt", "yuv420p", "-map", "1:a:0", "-t", String(format: "%.6f", seconds), "-c:a", "aac",
            "-f", "mp4", output.path,
        ], timeout: .seconds(max(600, Int(seconds * 4))))
        return output
    }

    /// The PNG as `format` (webp, jpg or png) at `quality` (0–100).
    func convertImage(_ png: URL, to format: String, quality: Int, output: URL) async throws {
        switch format {
        case "png":
            try FileManager.default.copyItem(at: png, to: output)
        case "jpg":
            let scale = max(2, min(31, 31 - quality * 29 / 100))
            try await ffmpeg.run(["-i", png.path, "-frames:v", "1", "-q:v", "\(scale)", "-pix_fmt", "yuvj444p", "-f", "image2", output.path])
        default:
            try await ffmpeg.run(["-i", png.path, "-frames:v", "1", "-c:v", "libwebp", "-quality", "\(quality)", "-f", "webp", output.path])
        }
    }

    /// The WAV as mp3 (or a copy, for wav).
    func encodeAudio(_ wav: URL, format: String, output: URL) async throws {
        if format == "mp3" {
            try await ffmpeg.run(["-i", wav.path, "-c:a", "libmp3lame", "-b:a", "192k", "-f", "mp3", output.path])
        } else {
            try FileManager.default.copyItem(at: wav, to: output)
        }
    }

    /// A clip of "voice" (a harmonic tone that pauses briefly), 44.1 kHz stereo WAV.
    func voiceClip(seconds: Double, frequency: Int, output: URL) async throws {
        let wave = "0.3*sin(2*PI*\(frequency)*t)+0.15*sin(4*PI*\(frequency)*t)"
        try await ffmpeg.run([
            "-f", "lavfi", "-i", "aevalsrc=(\(wave))*lt(mod(t\\,3)\\,2.5):s=44100:c=stereo:d=\(seconds)",
            "-c:a", "pcm_s16le", output.path,
        ])
    }

    /// The first `seconds` of the audio, as WAV.
    func trimAudio(_ input: URL, seconds: Double, output: URL) async throws {
        try await ffmpeg.normalizeAudio(input, to: output, maxSeconds: seconds)
    }

    /// Seconds of audio in the file, nil when it has none.
    func audioSeconds(_ url: URL) async -> Double? {
        guard let info = try? await ffmpeg.probe(url), let audio = info.audio else { return nil }
        return audio.duration ?? info.duration
    }

    /// Width and height of an image, nil when it is not one.
    func imageSize(_ url: URL) async -> (width: Int, height: Int)? {
        guard let video = try? await ffmpeg.probe(url).video else { return nil }
        return (video.width, video.height)
    }

    /// Whether every pixel of the image is within `tolerance` levels of every other (a uniform
    /// image, in which Sonic finds no face). Looks at a 32×32 grey thumbnail.
    func isUniform(_ image: URL, tolerance: Int, scratch: URL) async throws -> Bool {
        let thumbnail = scratch.appendingPathComponent("thumbnail.gray")
        defer { try? FileManager.default.removeItem(at: thumbnail) }
        try await ffmpeg.run(["-i", image.path, "-frames:v", "1", "-vf", "scale=32:32:flags=area,format=gray", "-f", "rawvideo", thumbnail.path])
        let pixels = try Data(contentsOf: thumbnail)
        guard let low = pixels.min(), let high = pixels.max() else { return true }
        return Int(high) - Int(low) <= tolerance
    }

    private func artifact(_ url: URL, _ kind: MediaKind) -> Artifact {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
        return Artifact(digest: "", path: url, kind: kind, size: size)
    }

    /// Runs an offline stage in a folder of its own under `folder`; returns its output moved to `folder`.
    private func run(
        _ name: String, inputs: [String: Artifact], parameters: [String: JSON], output: String, in folder: URL,
        log: @escaping @Sendable (String) -> Void
    ) async throws -> URL {
        guard let stage = stages[name] else { throw StageFailure("the offline provider has no stage \(name)") }
        let scratch = folder.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let context = StageContext(
            stageName: name, scratchDirectory: scratch, subject: .demo, ffmpeg: ffmpeg, journal: NoJournal(),
            reporter: { report in
                if case .log(let line) = report { log(line) }
            })
        let result = try await stage.run(StageRequest(inputs: inputs, parameters: parameters), in: context)
        guard let made = result.outputs[output] else { throw StageFailure("\(name) made no \(output)") }
        let kept = folder.appendingPathComponent("\(name)-\(UUID().uuidString)-\(made.lastPathComponent)")
        try FileManager.default.moveItem(at: made, to: kept)
        return kept
    }
}

/// The fake's stages never re-attach to earlier work.
private struct NoJournal: StageJournal {
    func remember(_ key: String, _ value: String) async throws {}
    func recall(_ key: String) async throws -> String? { nil }
}
