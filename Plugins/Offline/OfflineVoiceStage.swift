import FarmKit
import Foundation

/// `offline.voice`, the stand-in for RVC: the song pitch-shifted ("mix"), or its band-passed centre
/// pitch-shifted ("isolated" vocals), sample for sample as long as the song.
struct OfflineVoiceStage: RenderStage {
    let id = StageID("offline.voice", version: 1)
    let summary = "fake voice conversion: the song pitch-shifted, whole or as band-passed vocals (stands in for RVC)"
    let inputs = [Port("song", .audio, "the song")]
    let outputs = [Port("audio", .audio, "WAV, 44.1 kHz stereo s16, exactly as long as the song")]
    let parameters = [
        ParamSpec(
            "mode", .string, default: "mix", choices: ["mix", "isolated"],
            "mix: the whole song; isolated: vocals only (the centre, band-passed to 300–3400 Hz)"),
        ParamSpec("pitch_semitones", .integer, default: 3, range: -12...12, "pitch shift; the tempo stays"),
    ]

    static let sampleRate = 44100

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let song = try request.input("song").path
        let isolated = request.string("mode") == "isolated"
        let semitones = request.int("pitch_semitones") ?? 3

        context.progress(0, "decoding the song")
        let decoded = context.scratchFile("song.wav")
        defer { try? FileManager.default.removeItem(at: decoded) }
        let seconds = try await context.decodeAudio(song, to: decoded, name: "the song")
        let samples = Int((seconds * Double(Self.sampleRate)).rounded())

        var filters: [String] = []
        if isolated {
            filters += ["pan=stereo|c0=0.5*c0+0.5*c1|c1=0.5*c0+0.5*c1", "highpass=f=300", "lowpass=f=3400"]
        }
        if semitones != 0 {
            filters.append("rubberband=pitch=\(Reproducible.number(pow(2, Double(semitones) / 12))):pitchq=quality")
        }
        // Pad, then cut: exactly as many samples as the song, whatever the filters did to the length.
        filters += ["apad=whole_len=\(samples)", "atrim=end_sample=\(samples)"]

        let mode = isolated ? "isolated vocals" : "mix"
        context.progress(0.1, "converting the voice (\(mode))")
        let output = context.scratchFile("audio.wav")
        try await Reproducible.step("converting the voice (\(mode))") {
            try await context.ffmpeg.run(
                ["-i", decoded.path, "-af", filters.joined(separator: ","),
                 "-ar", "\(Self.sampleRate)", "-ac", "2", "-c:a", "pcm_s16le"] + Reproducible.outputFlags + ["-f", "wav", output.path],
                timeout: Reproducible.timeout(forMediaSeconds: seconds),
                onTime: { context.progress(0.1 + 0.9 * min(1, $0 / seconds), "converting the voice (\(mode))") })
        }
        context.progress(1, "converted")
        return StageResult(
            outputs: ["audio": output],
            metadata: ["duration": .double(Double(samples) / Double(Self.sampleRate)), "samples": .integer(Int64(samples))])
    }
}
