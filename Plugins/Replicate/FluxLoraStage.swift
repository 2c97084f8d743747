import FarmKit

/// `replicate.flux-lora`: a still of the subject from their trained FLUX LoRA — the trained
/// destination model (`owner/name:version`), or `black-forest-labs/flux-dev-lora` with `lora_weights`.
struct FluxLoraStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.flux-lora", version: 1)
    let summary = "a still of the subject from their FLUX LoRA (trained model, or flux-dev-lora + lora_weights)"
    let inputs: [FarmKit.Port] = []
    let outputs = [FarmKit.Port("image", .image, "the generated still")]
    let parameters = [
        ParamSpec("model", .string, required: true, "owner/name[:version] of the trained LoRA model, or black-forest-labs/flux-dev-lora"),
        ParamSpec("prompt", .string, required: true, "include the subject's trigger word; a face-forward close-up suits Sonic"),
        ParamSpec("lora_weights", .string, "LoRA weights (owner/model, URL) when model is flux-dev-lora"),
        ParamSpec("aspect_ratio", .string, default: "1:1", choices: ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]),
        ParamSpec("num_inference_steps", .integer, default: 28, range: 1...50),
        ParamSpec("guidance_scale", .number, default: 3, range: 0...10, "sent as `guidance` to flux-dev-lora"),
        ParamSpec("lora_scale", .number, default: 1, range: -1...3),
        ParamSpec("seed", .integer, "fixed seed for a repeatable still"),
        ParamSpec("output_format", .string, default: "png", choices: ["png", "jpg", "webp"]),
        ParamSpec("output_quality", .integer, default: 95, range: 0...100),
    ]

    static let devLora = "black-forest-labs/flux-dev-lora"

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        var input = pick(["prompt", "aspect_ratio", "num_inference_steps", "lora_scale", "seed", "output_format", "output_quality", "lora_weights"], from: parameters)
        let guidance = parameters["guidance_scale"] ?? 3
        if (try? model(parameters))?.model == Self.devLora {
            input["guidance"] = guidance
        } else {
            input["guidance_scale"] = guidance
        }
        input["num_outputs"] = 1
        return input
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        try await predict(request, files: [:], output: "image", in: context)
    }
}

/// `replicate.flux-pro`: a still from a FLUX pro finetune (`black-forest-labs/flux-pro-finetuned`).
struct FluxProStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.flux-pro", version: 1)
    let summary = "a still of the subject from their FLUX pro finetune"
    let inputs: [FarmKit.Port] = []
    let outputs = [FarmKit.Port("image", .image, "the generated still")]
    let parameters = [
        ParamSpec("model", .string, default: "black-forest-labs/flux-pro-finetuned"),
        ParamSpec("finetune_id", .string, required: true, "the subject's finetune id from the flux-pro trainer"),
        ParamSpec("prompt", .string, required: true, "include the subject's trigger word"),
        ParamSpec("finetune_strength", .number, default: 1, range: 0...2),
        ParamSpec("aspect_ratio", .string, default: "1:1"),
        ParamSpec("steps", .integer, default: 40, range: 1...50),
        ParamSpec("guidance", .number, default: 3, range: 2...5),
        ParamSpec("safety_tolerance", .integer, default: 2, range: 1...6),
        ParamSpec("seed", .integer),
        ParamSpec("output_format", .string, default: "png", choices: ["png", "jpg"]),
    ]

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        pick(["finetune_id", "prompt", "finetune_strength", "aspect_ratio", "steps", "guidance", "safety_tolerance", "seed", "output_format"], from: parameters)
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        try await predict(request, files: [:], output: "image", in: context)
    }
}
