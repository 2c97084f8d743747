import FarmKit
import Foundation

/// `replicate.rvc`: the song re-sung in the subject's voice by `zsxkib/realistic-voice-cloning`
/// (AICoverGen) with their RVC v2 model. Presets in the profile make the full mix or the isolated
/// vocals; keep every voice parameter identical in both so the two outputs line up.
struct RVCStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.rvc", version: 1)
    let summary = "the song re-sung in the subject's voice (RVC v2 via AICoverGen)"
    let inputs = [FarmKit.Port("song", .audio, "the song")]
    let outputs = [FarmKit.Port("audio", .audio, "the cover (or the isolated converted vocals)")]

    /// The version whose inputs these parameters match (models.md §3.1).
    static let pinnedVersion = "zsxkib/realistic-voice-cloning:0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"

    let parameters = [
        ParamSpec("model", .string, default: .string(pinnedVersion), "the AICoverGen model version"),
        ParamSpec("voice_model", .string, required: true, "public URL of the subject's RVC v2 model zip"),
        ParamSpec("pitch_change", .string, default: "no-change", choices: ["no-change", "male-to-female", "female-to-male"]),
        ParamSpec("index_rate", .number, default: 0.5, range: 0...1),
        ParamSpec("filter_radius", .integer, default: 3, range: 0...7),
        ParamSpec("rms_mix_rate", .number, default: 0.25, range: 0...1),
        ParamSpec("pitch_detection_algorithm", .string, default: "rmvpe", choices: ["rmvpe", "mangio-crepe"]),
        ParamSpec("crepe_hop_length", .integer, default: 128),
        ParamSpec("protect", .number, default: 0.33, range: 0...0.5),
        ParamSpec("main_vocals_volume_change", .number, default: 0, "dB"),
        ParamSpec("backup_vocals_volume_change", .number, default: 0, "dB; -100 mutes"),
        ParamSpec("instrumental_volume_change", .number, default: 0, "dB; -100 mutes"),
        ParamSpec("pitch_change_all", .number, default: 0, "semitones for vocals and music"),
        ParamSpec("reverb_size", .number, default: 0.15, range: 0...1),
        ParamSpec("reverb_wetness", .number, default: 0.2, range: 0...1),
        ParamSpec("reverb_dryness", .number, default: 0.8, range: 0...1),
        ParamSpec("reverb_damping", .number, default: 0.7, range: 0...1),
        ParamSpec("output_format", .string, default: "mp3", choices: ["mp3", "wav"]),
    ]

    static let voiceInputs = [
        "pitch_change", "index_rate", "filter_radius", "rms_mix_rate", "pitch_detection_algorithm", "crepe_hop_length",
        "protect", "main_vocals_volume_change", "backup_vocals_volume_change", "instrumental_volume_change",
        "pitch_change_all", "reverb_size", "reverb_wetness", "reverb_dryness", "reverb_damping", "output_format",
    ]

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        var input = pick(Self.voiceInputs, from: parameters)
        input["rvc_model"] = "CUSTOM"
        if let url = parameters["voice_model"] { input["custom_rvc_model_download_url"] = url }
        return input
    }

    /// Also checks that the voice model is a reachable zip before anything is paid for.
    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        try client.configuration.check()
        let text = parameters["voice_model"]?.stringValue ?? ""
        guard let url = URL(string: text), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw StageFailure("the voice model \"\(text)\" is not an http(s) URL",
                               hint: "give the subject a public URL of its RVC model zip (farm subjects add NAME --voice URL)", isBadInput: true)
        }
        guard url.path.lowercased().hasSuffix(".zip") else {
            throw StageFailure("the voice model URL \(text) does not name a .zip file; the RVC model takes its name from the zip's file name",
                               hint: "publish the model as NAME.zip and use that URL", isBadInput: true)
        }
        let (status, bytes) = try await client.firstBytes(of: url, count: 4)
        guard (200..<300).contains(status) else {
            throw StageFailure("the voice model URL \(text) answered HTTP \(status)", hint: "check that the URL is public and still exists", isBadInput: true)
        }
        guard bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) else {
            throw StageFailure("the voice model at \(text) is not a zip file", hint: "the URL must serve the RVC model zip itself, not a web page", isBadInput: true)
        }
        try await client.validate(input(parameters), for: try model(parameters), partial: true)
        return .none
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        try await predict(request, files: ["song_input": try request.input("song")], output: "audio", in: context)
    }
}

/// `replicate.sonic`: a singing-face video from a portrait and isolated vocals (`zsxkib/sonic`).
struct SonicStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.sonic", version: 1)
    let summary = "a singing-face video from the portrait and the isolated vocals (Sonic)"
    let inputs = [FarmKit.Port("image", .image, "the portrait"), FarmKit.Port("audio", .audio, "the isolated vocals")]
    let outputs = [FarmKit.Port("video", .video, "the singing face")]

    /// Sonic truncates longer audio.
    static let maxSeconds = 400.0
    var maxAudioSeconds: Double? { Self.maxSeconds }

    let parameters = [
        ParamSpec("model", .string, default: "zsxkib/sonic"),
        ParamSpec("seed", .integer, default: 42, range: 1...2_147_483_647, "non-zero: the model ignores 0 and reuses an earlier seed when blank"),
        ParamSpec("inference_steps", .integer, default: 25, range: 5...50),
        ParamSpec("dynamic_scale", .number, default: 1.0, range: 0.5...2.0, "more or less movement"),
        ParamSpec("min_resolution", .integer, default: 512, range: 256...1024),
        ParamSpec("keep_resolution", .boolean, default: false),
    ]

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        pick(["seed", "inference_steps", "dynamic_scale", "min_resolution", "keep_resolution"], from: parameters)
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let audio = try request.input("audio")
        if let seconds = try await context.ffmpeg.audioDuration(of: audio.path), seconds > Self.maxSeconds + 0.05 {
            throw StageFailure(String(format: "the vocals are %.1f s long; Sonic stops at %.0f s", seconds, Self.maxSeconds),
                               hint: "make the stage chunked (\"chunked\": true in the profile, as vivid does), or render part of the song: --set song.max_seconds=400", isBadInput: true)
        }
        return try await predict(request, files: ["image": try request.input("image"), "audio": audio], output: "video", in: context)
    }
}
