import FarmKit
import Foundation

/// `replicate.create-rvc-dataset`: a YouTube video → an RVC dataset zip built on Replicate by
/// `zsxkib/create-rvc-dataset` (yt-dlp download, Demucs vocal separation, silence slicing into
/// `dataset/<slug>/split_<i>.wav`), models.md §1.
///
/// It takes the same `sources` and `slug` as `ffmpeg.voice-dataset`, so a profile swaps one for the
/// other (`train-vivid-youtube`). Building the dataset locally stays the default: it is free, it
/// works with files and any link, and YouTube often blocks the datacenter machines Replicate runs
/// on. This stage helps when the video's voice has music under it (Demucs separates it) or when
/// yt-dlp is not installed here.
struct CreateDatasetStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.create-rvc-dataset", version: 1)
    let summary = "build an RVC dataset zip from a YouTube video on Replicate (zsxkib/create-rvc-dataset)"
    let inputs: [FarmKit.Port] = []
    let outputs = [FarmKit.Port("dataset", .archive, "zip of dataset/<slug>/split_<i>.wav")]

    /// The version of the example prediction in models.md §1.
    static let pinnedVersion = "zsxkib/create-rvc-dataset:f6593d27ca2570319dc9cbdfda6b81011819e541e9ee1333eda63edc5884445d"

    let parameters = [
        ParamSpec("model", .string, default: .string(pinnedVersion), "the create-rvc-dataset version"),
        ParamSpec("sources", .array, required: true, "exactly one YouTube link (filled from --voice)"),
        ParamSpec("slug", .string, required: true, "the dataset's folder name, unique per training: [A-Za-z0-9_-]"),
    ]

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        var input = JSONObject()
        if let link = parameters["sources"]?.arrayValue?.first?.stringValue { input["youtube_url"] = .string(link) }
        input["audio_name"] = parameters["slug"]
        return input
    }

    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        let sources = parameters["sources"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let hint = "this profile builds the dataset on Replicate from one YouTube video: give exactly one --voice https://www.youtube.com/watch?v=…, or train from files and other links with --profile train-vivid"
        guard sources.count == 1, let link = sources.first else {
            throw StageFailure("\(sources.count) voice sources given; zsxkib/create-rvc-dataset takes one YouTube link", hint: hint, isBadInput: true)
        }
        guard let url = URL(string: link), url.scheme == "https" || url.scheme == "http",
              let host = url.host?.lowercased(), ["youtube.com", "youtu.be"].contains(where: { host == $0 || host.hasSuffix("." + $0) })
        else {
            throw StageFailure("not a YouTube link: \(URLRedaction.redact(link))", hint: hint, isBadInput: true)
        }
        let slug = parameters["slug"]?.stringValue ?? ""
        guard !slug.isEmpty, slug.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw StageFailure("dataset slug \"\(slug)\" may use only A-Z, a-z, 0-9, _ and -", isBadInput: true)
        }
        try client.configuration.check()
        try await client.validate(input(parameters), for: try model(parameters), partial: true)
        return .none
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let slug = request.string("slug") ?? ""
        let result = try await RemotePrediction(client: client, pricing: pricing).run(
            try model(request.parameters), input: input(request.parameters), in: context)
        guard let zip = result.files.first else {
            throw StageFailure("\(result.prediction.model) returned no dataset (prediction \(result.prediction.id))")
        }
        let names = try await BlockingIO.run { try? ZipArchive.entries(of: zip).map(\.name) } ?? []
        let clips = names.filter { $0.hasPrefix("dataset/\(slug)/") && $0.lowercased().hasSuffix(".wav") }
        guard !clips.isEmpty else {
            throw StageFailure(
                "the dataset made from the video has no dataset/\(slug)/*.wav clips (zip entries: \(names.isEmpty ? "none, or not a zip" : names.prefix(5).joined(separator: ", ")))",
                hint: "the video may have no stretch of clear voice; give recordings with --profile train-vivid instead")
        }
        var metadata = result.metadata(pricing: pricing)
        metadata["slug"] = .string(slug)
        metadata["clips"] = .integer(Int64(clips.count))
        return StageResult(outputs: ["dataset": zip], metadata: metadata)
    }
}
