import FarmKit
import Foundation

/// `replicate.train-rvc`: a voice dataset → an RVC v2 voice model, by `replicate/train-rvc-model`
/// run as a prediction (as Replicate's own guide does). The output zip is downloaded into the
/// store at once (Replicate deletes it after an hour) and must hold a `.pth`; its temporary URL is
/// recorded with its expiry until the zip is published somewhere stable.
struct RVCTrainingStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.train-rvc", version: 1)
    let summary = "train an RVC v2 voice model from a dataset zip (replicate/train-rvc-model)"
    let inputs = [FarmKit.Port("dataset", .archive, "zip of dataset/<slug>/split_<i>.wav")]
    let outputs = [FarmKit.Port("voice_model", .archive, "<slug>.zip with <slug>.pth and an .index")]

    /// The version whose inputs these parameters match (models.md §2).
    static let pinnedVersion = "replicate/train-rvc-model:cf360587a27f67500c30fc31de1e0f0f9aa26dcd7b866e6ac937a07bd104bad9"
    /// How long Replicate keeps an API prediction's output files.
    static let outputRetention: TimeInterval = 3600

    let parameters = [
        ParamSpec("model", .string, default: .string(pinnedVersion), "the train-rvc-model version"),
        ParamSpec("sample_rate", .string, default: "48k", choices: ["40k", "48k"], "the model's sample rate"),
        ParamSpec("version", .string, default: "v2", choices: ["v1", "v2"], "RVC version"),
        ParamSpec("f0method", .string, default: "rmvpe_gpu", choices: ["pm", "dio", "harvest", "rmvpe", "rmvpe_gpu"], "pitch extraction"),
        ParamSpec("epoch", .integer, default: 80, range: 1...1000, "training epochs (the model's default of 10 is too few)"),
        ParamSpec("batch_size", .string, default: "7", "batch size (a string, as the model takes it)"),
    ]

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        pick(["sample_rate", "version", "f0method", "epoch", "batch_size"], from: parameters)
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        var input = input(request.parameters)
        input["dataset_zip"] = .string(try await InputFiles(client: client).url(for: try request.input("dataset"), in: context))
        let model = try model(request.parameters)
        let result = try await RemotePrediction(client: client, pricing: pricing).run(model, input: input, in: context)
        guard let zip = result.files.first else {
            throw StageFailure("\(result.prediction.model) returned no voice model (prediction \(result.prediction.id))")
        }
        let names = try await BlockingIO.run { try? ZipArchive.entries(of: zip).map(\.name) } ?? []
        guard names.contains(where: { $0.hasSuffix(".pth") }) else {
            throw StageFailure("the trained voice model has no .pth file (zip entries: \(names.isEmpty ? "none, or not a zip" : names.joined(separator: ", ")))",
                               hint: "check the dataset (one folder under dataset/, enough clips); run the same command again to retry")
        }
        var training = JSONObject()
        training["trainer"] = .string(model.description)
        training["prediction"] = .string(result.prediction.id)
        for name in ["sample_rate", "version", "f0method", "epoch", "batch_size"] { training[name] = request.parameters[name] }
        var subject = JSONObject()
        if let url = result.prediction.outputURLs.first {
            subject["voice_model"] = .string(url.absoluteString)
            subject["voice_model_expires"] = .string(Date().addingTimeInterval(Self.outputRetention - 60).formatted(.iso8601))
        }
        var metadata = result.metadata(pricing: pricing)
        if let pth = names.first(where: { $0.hasSuffix(".pth") }) { metadata["slug"] = .string(String((pth as NSString).lastPathComponent.dropLast(4))) }
        metadata["subject"] = .object(subject)
        metadata["training"] = .object(training)
        return StageResult(outputs: ["voice_model": zip], metadata: metadata)
    }
}
