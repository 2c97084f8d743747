import FarmKit
import Foundation

/// `offline.train-image`, the stand-in for FLUX LoRA training: a photo zip → a small JSON "LoRA
/// reference" naming the photos it came from; the subject's image model becomes `offline/<digest>`.
struct OfflineImageTrainerStage: RenderStage {
    let id = StageID("offline.train-image", version: 1)
    let summary = "fake FLUX LoRA training: a LoRA reference file derived from the photos"
    let inputs = [Port("images", .archive, "zip of training photos")]
    let outputs = [Port("weights", .file, "JSON reference of the fake LoRA")]
    let parameters = [
        ParamSpec("trigger_word", .string, required: true, "the word that stands for the subject in prompts"),
        ParamSpec("lora_type", .string, default: "subject", choices: ["subject", "style"], "what the LoRA learns"),
    ]

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        let images = try request.input("images")
        let trigger = request.string("trigger_word") ?? ""
        let photos = try await BlockingIO.run { try ZipArchive.entries(of: images.path).filter { $0.name.hasSuffix(".jpg") }.count }
        let reference: JSON = [
            "kind": "farm offline fake LoRA", "trigger_word": .string(trigger), "lora_type": .string(request.string("lora_type") ?? "subject"),
            "photos": .integer(Int64(photos)), "images_sha256": .string(images.digest),
        ]
        let file = context.scratchFile("lora.json")
        try await BlockingIO.run { try Data((reference.prettyString + "\n").utf8).write(to: file) }
        let model = "offline/" + String(images.digest.prefix(16))
        context.progress(1, "LoRA \(model)")
        return StageResult(outputs: ["weights": file], metadata: [
            "subject": ["image_model": .string(model)],
            "render_profile": "offline",
            "training": ["trainer": "offline.train-image", "trigger_word": .string(trigger), "photos": .integer(Int64(photos))],
        ])
    }
}
