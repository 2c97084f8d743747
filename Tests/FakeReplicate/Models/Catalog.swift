import FarmKit
import Foundation

/// What runs a version's predictions and trainings.
enum Runner: Sendable {
    /// FLUX with a LoRA: `black-forest-labs/flux-dev-lora` (`devLora`) or a trained destination
    /// model running the cog-flux hotswap predictor.
    case flux(hotswap: Bool)
    case fluxProFinetuned
    /// realistic-voice-cloning; a destination version made by train-rvc-model carries its voice.
    case rvc(voice: BoundVoice?)
    case sonic
    case trainRVC
    /// zsxkib/create-rvc-dataset: a YouTube link → `dataset/<name>/split_<i>.wav` in a zip.
    case createDataset
    case fastFluxTrainer
    case fluxProTrainer
}

/// A voice model zip kept by the fake (the output of a train-rvc-model training).
struct BoundVoice: Sendable {
    let slug: String
    let zip: URL
}

struct VersionRecord: Sendable {
    let id: String
    /// `owner/name`.
    let model: String
    let createdAt: Date
    let cogVersion: String
    let input: InputSchema
    let output: JSON
    let trainingInput: InputSchema?
    let trainingOutput: JSON?
    let runner: Runner

    /// The version object of the API, with its OpenAPI schema.
    var json: JSON {
        .object(JSONObject([
            ("id", .string(id)), ("created_at", .string(Timestamp.format(createdAt))), ("cog_version", .string(cogVersion)),
            ("openapi_schema", openAPISchema),
        ]))
    }

    var openAPISchema: JSON {
        var enums: [(String, JSON)] = []
        var schemas = JSONObject()
        schemas["Input"] = input.jsonSchema(title: "Input", enums: &enums)
        schemas["Output"] = output
        if let trainingInput, let trainingOutput {
            schemas["TrainingInput"] = trainingInput.jsonSchema(title: "TrainingInput", enums: &enums)
            schemas["TrainingOutput"] = trainingOutput
        }
        schemas["Status"] = .object(JSONObject([
            ("enum", ["starting", "processing", "succeeded", "canceled", "failed"]), ("type", "string"), ("title", "Status"),
            ("description", "An enumeration."),
        ]))
        for (name, schema) in enums where schemas[name] == nil { schemas[name] = schema }
        var paths = JSONObject()
        paths["/predictions"] = Self.operation("Predict", input: "Input")
        if trainingInput != nil { paths["/trainings"] = Self.operation("Train", input: "TrainingInput") }
        return .object(JSONObject([
            ("openapi", "3.0.2"),
            ("info", .object(JSONObject([("title", "Cog"), ("version", "0.1.0")]))),
            ("paths", .object(paths)),
            ("components", .object(JSONObject([("schemas", .object(schemas))]))),
        ]))
    }

    private static func operation(_ summary: String, input: String) -> JSON {
        let reference: (String) -> JSON = { .object(JSONObject([("$ref", .string("#/components/schemas/\($0)"))])) }
        let requestSchema = JSONObject([
            ("type", "object"), ("properties", .object(JSONObject([("input", reference(input))]))),
        ])
        return .object(JSONObject([("post", .object(JSONObject([
            ("summary", .string(summary)),
            ("requestBody", .object(JSONObject([("content", .object(JSONObject([("application/json", .object(JSONObject([("schema", .object(requestSchema))])))])))]))),
        ])))]))
    }
}

struct ModelRecord: Sendable {
    let owner: String
    let name: String
    var description: String?
    var visibility: String
    var isOfficial: Bool
    var hardware: String
    var githubURL: String?
    var paperURL: String?
    var licenseURL: String?
    var coverImageURL: String?
    let createdAt: Date
    /// Version ids, oldest first.
    var versions: [String]

    var key: String { "\(owner)/\(name)" }
}

/// The seeded models: the pipeline's models and trainers, with inputs from models.md.
enum Catalog {
    static let rvcVersion = "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550"
    static let fastFluxTrainerVersion = "8b10794665aed907bb98a1a5324cd1d3a8bea0e9b31e65210967fb9c9e2e08ed"
    static let trainRVCVersion = "cf360587a27f67500c30fc31de1e0f0f9aa26dcd7b866e6ac937a07bd104bad9"
    static let createDatasetVersion = "f6593d27ca2570319dc9cbdfda6b81011819e541e9ee1333eda63edc5884445d"
    static let hardware = [("cpu", "CPU"), ("gpu-t4", "Nvidia T4 GPU"), ("gpu-l40s", "Nvidia L40S GPU"), ("gpu-a100-large", "Nvidia A100 (80GB) GPU"), ("gpu-h100", "Nvidia H100 GPU")]

    /// The example destination model of a trained FLUX LoRA, owned by `account`.
    static func loraExample(account: String) -> String { "\(account)/alice-flux" }

    static func seed(account: String, now: Date) -> (models: [ModelRecord], versions: [VersionRecord]) {
        var models: [ModelRecord] = []
        var versions: [VersionRecord] = []
        func add(
            _ key: String, official: Bool, description: String, hardware: String = "gpu-h100", version: String? = nil,
            input: [InputField], output: JSON, trainingInput: [InputField]? = nil, trainingOutput: JSON? = nil,
            runner: Runner, github: String? = nil
        ) {
            let parts = key.split(separator: "/").map(String.init)
            let id = version ?? Identifier.seededVersion(key)
            versions.append(VersionRecord(
                id: id, model: key, createdAt: now.addingTimeInterval(-86400 * 30), cogVersion: "0.9.11",
                input: InputSchema(input), output: output, trainingInput: trainingInput.map(InputSchema.init),
                trainingOutput: trainingOutput, runner: runner))
            models.append(ModelRecord(
                owner: parts[0], name: parts[1], description: description, visibility: "public", isOfficial: official,
                hardware: hardware, githubURL: github, paperURL: nil, licenseURL: nil, coverImageURL: nil,
                createdAt: now.addingTimeInterval(-86400 * 60), versions: [id]))
        }

        add(
            "black-forest-labs/flux-dev-lora", official: true,
            description: "A version of flux-dev, a text to image model, that supports fast fine-tuned lora inference",
            input: fluxDevLoraInputs, output: uriList, runner: .flux(hotswap: false), github: "https://github.com/replicate/cog-flux")
        add(
            loraExample(account: account), official: false, description: "A FLUX LoRA of Alice (trigger word TOK)",
            input: hotswapInputs, output: uriList, runner: .flux(hotswap: true))
        add(
            "black-forest-labs/flux-pro-finetuned", official: true,
            description: "Inference for FLUX.1 [pro] fine-tunes made with black-forest-labs/flux-pro-trainer",
            input: fluxProFinetunedInputs, output: uri, runner: .fluxProFinetuned)
        add(
            "zsxkib/realistic-voice-cloning", official: false,
            description: "Create song covers with any RVC v2 trained AI voice from audio files.", hardware: "gpu-t4",
            version: rvcVersion, input: rvcInputs, output: uri, runner: .rvc(voice: nil),
            github: "https://github.com/SociallyIneptWeeb/AICoverGen")
        add(
            "zsxkib/sonic", official: false,
            description: "Generates realistic talking face animations from a portrait image and audio using the CVPR 2025 Sonic model",
            hardware: "gpu-l40s", input: sonicInputs, output: uri, runner: .sonic, github: "https://github.com/zsxkib/cog-sonic")
        add(
            "replicate/fast-flux-trainer", official: true, description: "Fine-tunes flux, fast!", hardware: "gpu-h100",
            version: fastFluxTrainerVersion,
            input: [InputField("txt", .string, "Input text (this model only trains: use the trainings API)")],
            output: .object(JSONObject([("type", "string"), ("title", "Output")])),
            trainingInput: fastFluxTrainerInputs, trainingOutput: weightsOutput, runner: .fastFluxTrainer)
        add(
            "replicate/train-rvc-model", official: false, description: "Train your own custom RVC model", hardware: "gpu-a100-large",
            version: trainRVCVersion, input: trainRVCInputs, output: uri, trainingInput: trainRVCInputs,
            trainingOutput: weightsOutput, runner: .trainRVC, github: "https://github.com/zsxkib/voice-cloning-training")
        add(
            "zsxkib/create-rvc-dataset", official: false, description: "Create your own RVC v2 dataset from a youtube video",
            hardware: "gpu-t4", version: createDatasetVersion, input: createDatasetInputs, output: uri, runner: .createDataset,
            github: "https://github.com/zsxkib/voice-cloning-create-dataset")
        add(
            "black-forest-labs/flux-pro-trainer", official: true, description: "Fine-tune FLUX.1 [pro] (returns a finetune_id)",
            input: [InputField("txt", .string, "Input text (this model only trains: use the trainings API)")],
            output: .object(JSONObject([("type", "string"), ("title", "Output")])),
            trainingInput: fluxProTrainerInputs, trainingOutput: .object(JSONObject([("type", "string"), ("title", "Output")])),
            runner: .fluxProTrainer)
        return (models, versions)
    }

    static let uri: JSON = .object(JSONObject([("type", "string"), ("title", "Output"), ("format", "uri")]))
    static let uriList: JSON = .object(JSONObject([
        ("type", "array"), ("items", .object(JSONObject([("type", "string"), ("format", "uri")]))), ("title", "Output"),
    ]))
    static let weightsOutput: JSON = .object(JSONObject([
        ("type", "object"), ("title", "TrainingOutput"), ("required", ["weights"]),
        ("properties", .object(JSONObject([("weights", .object(JSONObject([("type", "string"), ("title", "Weights"), ("format", "uri")])))]))),
    ]))

    static let aspectRatios = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]

    /// black-forest-labs/flux-dev-lora (cog-flux DevLoraPredictor), models.md §5.3 option B.
    static let fluxDevLoraInputs: [InputField] = [
        InputField("prompt", .string, required: true, "Prompt for generated image"),
        InputField("aspect_ratio", .stringChoice(aspectRatios), default: "1:1", "Aspect ratio for the generated image"),
        InputField("image", .uri, "Input image for image to image mode. The aspect ratio of your output will match this image"),
        InputField("prompt_strength", .number, default: 0.8, min: 0, max: 1, "Prompt strength when using img2img. 1.0 corresponds to full destruction of information in image"),
        InputField("num_outputs", .integer, default: 1, min: 1, max: 4, "Number of outputs to generate"),
        InputField("num_inference_steps", .integer, default: 28, min: 1, max: 50, "Number of denoising steps. Recommended range is 28-50"),
        InputField("guidance", .number, default: 3, min: 0, max: 10, "Guidance for generated image"),
        InputField("seed", .integer, "Random seed. Set for reproducible generation"),
        InputField("output_format", .stringChoice(["webp", "jpg", "png"]), default: "webp", "Format of the output images"),
        InputField("output_quality", .integer, default: 80, min: 0, max: 100, "Quality when saving the output images, from 0 to 100. 100 is best quality, 0 is lowest quality. Not relevant for .png outputs"),
        InputField("disable_safety_checker", .boolean, default: false, "Disable safety checker for generated images."),
        InputField("go_fast", .boolean, default: true, "Run faster predictions with model optimized for speed (currently fp8 quantized); disable to run in original bf16"),
        InputField("lora_weights", .string, "Load LoRA weights. Supports Replicate models in the format <owner>/<username> or <owner>/<username>/<version>, HuggingFace URLs in the format huggingface.co/<owner>/<model-name>, CivitAI URLs in the format civitai.com/models/<id>[/<model-name>], or arbitrary .safetensors URLs from the Internet."),
        InputField("lora_scale", .number, default: 1, min: -1, max: 3, "Determines how strongly the main LoRA should be applied. Sane results between 0 and 1 for base inference. For go_fast we apply a 1.5x multiplier to this value."),
        InputField("extra_lora", .string, "Load an additional LoRA (same formats as lora_weights)"),
        InputField("extra_lora_scale", .number, default: 1, min: -1, max: 3, "Determines how strongly the extra LoRA should be applied."),
        InputField("megapixels", .stringChoice(["1", "0.25"]), default: "1", "Approximate number of megapixels for generated image"),
        InputField("hf_api_token", .string, "HuggingFace API token. If you're using a hf lora that needs authentication, you'll need to provide an API token."),
        InputField("civitai_api_token", .string, "Civitai API token. If you're using a civitai lora that needs authentication, you'll need to provide an API token."),
    ]

    /// A trained FLUX LoRA destination model (cog-flux HotswapPredictor), models.md §5.3 option A.
    static let hotswapInputs: [InputField] = [
        InputField("prompt", .string, required: true, "Prompt for generated image. If you include the `trigger_word` used in the training process you are more likely to activate the trained object, style, or concept in the resulting image."),
        InputField("image", .uri, "Input image for image to image or inpainting mode. If provided, aspect_ratio, width, and height inputs are ignored."),
        InputField("mask", .uri, "Image mask for image inpainting mode. If provided, aspect_ratio, width, and height inputs are ignored."),
        InputField("aspect_ratio", .stringChoice(aspectRatios + ["custom"]), default: "1:1", "Aspect ratio for the generated image. If custom is selected, uses height and width below & will run in bf16 mode"),
        InputField("height", .integer, min: 256, max: 1440, "Height of generated image. Only works if `aspect_ratio` is set to custom. Will be rounded to nearest multiple of 16. Incompatible with fast generation"),
        InputField("width", .integer, min: 256, max: 1440, "Width of generated image. Only works if `aspect_ratio` is set to custom. Will be rounded to nearest multiple of 16. Incompatible with fast generation"),
        InputField("prompt_strength", .number, default: 0.8, min: 0, max: 1, "Prompt strength when using img2img. 1.0 corresponds to full destruction of information in image"),
        InputField("model", .stringChoice(["dev", "schnell"]), default: "dev", "Which model to run inference with. The dev model performs best with around 28 inference steps but the schnell model only needs 4 steps."),
        InputField("num_outputs", .integer, default: 1, min: 1, max: 4, "Number of outputs to generate"),
        InputField("num_inference_steps", .integer, default: 28, min: 1, max: 50, "Number of denoising steps. More steps can give more detailed images, but take longer."),
        InputField("guidance_scale", .number, default: 3, min: 0, max: 10, "Guidance scale for the diffusion process. Lower values can give more realistic images. Good values to try are 2, 2.5, 3 and 3.5"),
        InputField("seed", .integer, "Random seed. Set for reproducible generation"),
        InputField("output_format", .stringChoice(["webp", "jpg", "png"]), default: "webp", "Format of the output images"),
        InputField("output_quality", .integer, default: 80, min: 0, max: 100, "Quality when saving the output images, from 0 to 100. 100 is best quality, 0 is lowest quality. Not relevant for .png outputs"),
        InputField("disable_safety_checker", .boolean, default: false, "Disable safety checker for generated images."),
        InputField("go_fast", .boolean, default: false, "Run faster predictions with model optimized for speed (currently fp8 quantized); disable to run in original bf16"),
        InputField("megapixels", .stringChoice(["1", "0.25"]), default: "1", "Approximate number of megapixels for generated image"),
        InputField("replicate_weights", .string, "Load LoRA weights. Supports Replicate models in the format <owner>/<username> or <owner>/<username>/<version>, HuggingFace URLs in the format huggingface.co/<owner>/<model-name>, CivitAI URLs in the format civitai.com/models/<id>[/<model-name>], or arbitrary .safetensors URLs from the Internet."),
        InputField("lora_scale", .number, default: 1, min: -1, max: 3, "Determines how strongly the main LoRA should be applied. Sane results between 0 and 1 for base inference. For go_fast we apply a 1.5x multiplier to this value."),
        InputField("extra_lora", .string, "Load LoRA weights (same formats as replicate_weights)"),
        InputField("extra_lora_scale", .number, default: 1, min: -1, max: 3, "Determines how strongly the extra LoRA should be applied."),
    ]

    /// black-forest-labs/flux-pro-finetuned, models.md §6.
    static let fluxProFinetunedInputs: [InputField] = [
        InputField("prompt", .string, required: true, "Text prompt for image generation"),
        InputField("finetune_id", .string, required: true, "Finetune ID for making images using a previously trained fine-tune. Only IDs from trainings made using Replicate's Flux Pro fine-tuning model are supported."),
        InputField("finetune_strength", .number, default: 1, min: 0, max: 2, "Controls finetune influence"),
        InputField("image_prompt", .uri, "Image to use with Flux Redux. This is used together with the text prompt to guide the generation towards the composition of the image_prompt. Must be jpeg, png, gif, or webp."),
        InputField("aspect_ratio", .stringChoice(["custom"] + aspectRatios), default: "1:1", "Aspect ratio for the generated image"),
        InputField("width", .integer, min: 256, max: 1440, "Width of the generated image in text-to-image mode. Only used when aspect_ratio=custom. Must be a multiple of 32 (if it's not, it will be rounded to nearest multiple of 32)."),
        InputField("height", .integer, min: 256, max: 1440, "Height of the generated image in text-to-image mode. Only used when aspect_ratio=custom. Must be a multiple of 32 (if it's not, it will be rounded to nearest multiple of 32)."),
        InputField("prompt_upsampling", .boolean, default: false, "Automatically modify the prompt for more creative generation"),
        InputField("steps", .integer, default: 40, min: 1, max: 50, "Number of diffusion steps. Higher values yield finer details but increase processing time."),
        InputField("guidance", .number, default: 3, min: 2, max: 5, "Controls the balance between adherence to the text as well as image prompt and image quality/diversity. Higher values make the output more closely match the prompt but may reduce overall image quality. Lower values allow for more creative freedom but might produce results less relevant to the prompt."),
        InputField("safety_tolerance", .integer, default: 2, min: 1, max: 6, "Safety tolerance, 1 is most strict and 6 is most permissive"),
        InputField("seed", .integer, "Random seed. Set for reproducible generation"),
        InputField("output_format", .stringChoice(["webp", "jpg", "png"]), default: "webp", "Format of the output images."),
    ]

    /// zsxkib/realistic-voice-cloning version 0a9c7c55, exactly models.md §3.1.
    static let rvcInputs: [InputField] = [
        InputField("song_input", .uri, "Upload your audio file here."),
        InputField("rvc_model", .stringChoice(["Squidward", "MrKrabs", "Plankton", "Drake", "Vader", "Trump", "Biden", "Obama", "Guitar", "Voilin", "CUSTOM", "SamA"]), default: "Squidward", "RVC model for a specific voice. If using a custom model, this should match the name of the downloaded model. If a 'custom_rvc_model_download_url' is provided, this will be automatically set to the name of the downloaded model."),
        InputField("custom_rvc_model_download_url", .string, "URL to download a custom RVC model. If provided, the model will be downloaded (if it doesn't already exist) and used for prediction, regardless of the 'rvc_model' value."),
        InputField("pitch_change", .stringChoice(["no-change", "male-to-female", "female-to-male"]), default: "no-change", "Adjust pitch of AI vocals. Options: `no-change`, `male-to-female`, `female-to-male`."),
        InputField("index_rate", .number, default: 0.5, min: 0, max: 1, "Control how much of the AI's accent to leave in the vocals."),
        InputField("filter_radius", .integer, default: 3, min: 0, max: 7, "If >=3: apply median filtering median filtering to the harvested pitch results."),
        InputField("rms_mix_rate", .number, default: 0.25, min: 0, max: 1, "Control how much to use the original vocal's loudness (0) or a fixed loudness (1)."),
        InputField("pitch_detection_algorithm", .stringChoice(["rmvpe", "mangio-crepe"]), default: "rmvpe", "Best option is rmvpe (clarity in vocals), then mangio-crepe (smoother vocals)."),
        InputField("crepe_hop_length", .integer, default: 128, "When `pitch_detection_algo` is set to `mangio-crepe`, this controls how often it checks for pitch changes in milliseconds. Lower values lead to longer conversions and higher risk of voice cracks, but better pitch accuracy."),
        InputField("protect", .number, default: 0.33, min: 0, max: 0.5, "Control how much of the original vocals' breath and voiceless consonants to leave in the AI vocals. Set 0.5 to disable."),
        InputField("main_vocals_volume_change", .number, default: 0, "Control volume of main AI vocals. Use -3 to decrease the volume by 3 decibels, or 3 to increase the volume by 3 decibels."),
        InputField("backup_vocals_volume_change", .number, default: 0, "Control volume of backup AI vocals."),
        InputField("instrumental_volume_change", .number, default: 0, "Control volume of the background music/instrumentals."),
        InputField("pitch_change_all", .number, default: 0, "Change pitch/key of background music, backup vocals and AI vocals in semitones. Reduces sound quality slightly."),
        InputField("reverb_size", .number, default: 0.15, min: 0, max: 1, "The larger the room, the longer the reverb time."),
        InputField("reverb_wetness", .number, default: 0.2, min: 0, max: 1, "Level of AI vocals with reverb."),
        InputField("reverb_dryness", .number, default: 0.8, min: 0, max: 1, "Level of AI vocals without reverb."),
        InputField("reverb_damping", .number, default: 0.7, min: 0, max: 1, "Absorption of high frequencies in the reverb."),
        InputField("output_format", .stringChoice(["mp3", "wav"]), default: "mp3", "wav for best quality and large file size, mp3 for decent quality and small file size."),
    ]

    /// zsxkib/sonic (cog-sonic predict.py), models.md §4.1.
    static let sonicInputs: [InputField] = [
        InputField("image", .uri, required: true, "Input portrait image (will be cropped if face is detected)."),
        InputField("audio", .uri, required: true, "Input audio file (WAV, MP3, etc.) for the voice."),
        InputField("dynamic_scale", .number, default: 1, min: 0.5, max: 2, "Controls movement intensity. Increase/decrease for more/less movement."),
        InputField("min_resolution", .integer, default: 512, min: 256, max: 1024, "Minimum image resolution for processing. Lower values use less memory but may reduce quality."),
        InputField("inference_steps", .integer, default: 25, min: 5, max: 50, "Number of diffusion steps. Higher values may improve quality but take longer."),
        InputField("keep_resolution", .boolean, default: false, "If true, output video matches the original image resolution. Otherwise uses the min_resolution after cropping."),
        InputField("seed", .integer, "Random seed for reproducible results. Leave blank for a random seed."),
    ]

    /// replicate/train-rvc-model (zsxkib/voice-cloning-training), models.md §2.
    static let trainRVCInputs: [InputField] = [
        InputField("dataset_zip", .uri, required: true, "Upload dataset zip, zip should contain `dataset/<rvc_name>/split_<i>.wav`"),
        InputField("sample_rate", .stringChoice(["40k", "48k"]), default: "48k", "Sample rate"),
        InputField("version", .stringChoice(["v1", "v2"]), default: "v2", "Version"),
        InputField("f0method", .stringChoice(["pm", "dio", "harvest", "rmvpe", "rmvpe_gpu"]), default: "rmvpe_gpu", "F0 method, `rmvpe_gpu` recommended."),
        InputField("epoch", .integer, default: 10, "Epoch"),
        InputField("batch_size", .string, default: "7", "Batch size"),
    ]

    /// zsxkib/create-rvc-dataset (voice-cloning-create-dataset predict.py), models.md §1.
    static let createDatasetInputs: [InputField] = [
        InputField("youtube_url", .string, required: true, "URL to YouTube video you'd like to create your RVC v2 dataset from"),
        InputField("audio_name", .string, default: "rvc_v2_voices", "Name of the dataset. The output will be a zip file containing a folder named `dataset/<audio_name>/`. This folder will contain multiple `.mp3` files named as `split_<i>.mp3`. Each `split_<i>.mp3` file is a short audio clip extracted from the provided YouTube video, where voice has been isolated from the background noise."),
    ]

    /// replicate/fast-flux-trainer's training input, models.md §5.1 (the step input's name is uncertain there).
    static let fastFluxTrainerInputs: [InputField] = [
        InputField("input_images", .uri, required: true, "A zip file containing the images that will be used for training. We recommend a minimum of 10 images. If you include captions, include them as one .txt file per image, e.g. my-photo.jpg should have a caption file named my-photo.txt."),
        InputField("trigger_word", .string, default: "TOK", "The trigger word refers to the object, style or concept you are training on. Pick a string that isn't a real word, like TOK or something related to what's being trained, like CYBRPNK."),
        InputField("lora_type", .stringChoice(["subject", "style"]), default: "subject", "Whether the LoRA is of a subject (a person, an object) or a style"),
        InputField("training_steps", .integer, default: 1000, min: 500, max: 4000, "Number of training steps."),
    ]

    /// black-forest-labs/flux-pro-trainer's training input, models.md §6.
    static let fluxProTrainerInputs: [InputField] = [
        InputField("input_images", .uri, required: true, "A zip file containing the images that will be used for training. File names must be their captions: a_photo_of_TOK.png, etc. Min 2 images required."),
        InputField("trigger_word", .string, default: "TOK", "The trigger word refers to the object, style or concept you are training on."),
        InputField("mode", .stringChoice(["general", "character", "style", "product"]), default: "general", "Mode of the finetune"),
        InputField("priority", .stringChoice(["speed", "quality", "high_res_only"]), default: "quality", "Priority of the finetune"),
        InputField("lora_rank", .integerChoice([16, 32]), default: 32, "Rank of the LoRA"),
        InputField("captioning", .stringChoice(["automatic", "captioning-enabled", "captioning-disabled"]), default: "automatic", "Captioning"),
        InputField("finetune_type", .stringChoice(["lora", "full"]), default: "full", "Type of the finetune"),
        InputField("learning_rate", .number, "Learning rate (defaults: 1e-5 for full, 1e-4 for lora)"),
        InputField("training_steps", .integer, default: 300, min: 100, max: 1000, "Number of training steps"),
    ]
}
