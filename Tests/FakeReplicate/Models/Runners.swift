import FarmKit
import Foundation

/// The seeded models' behaviour: real media from the offline provider, the real models' log lines
/// and failure messages (models.md), and their output shapes.
extension Runner {
    /// The model whose configured latency applies when the running model has none of its own.
    var referenceModel: String {
        switch self {
        case .flux(let hotswap): hotswap ? "farm-test/alice-flux" : "black-forest-labs/flux-dev-lora"
        case .fluxProFinetuned: "black-forest-labs/flux-pro-finetuned"
        case .rvc: "zsxkib/realistic-voice-cloning"
        case .sonic: "zsxkib/sonic"
        case .trainRVC: "replicate/train-rvc-model"
        case .createDataset: "zsxkib/create-rvc-dataset"
        case .fastFluxTrainer: "replicate/fast-flux-trainer"
        case .fluxProTrainer: "black-forest-labs/flux-pro-trainer"
        }
    }

    func run(_ job: Job) async throws -> Outcome {
        switch self {
        case .flux(let hotswap): try await Flux.run(job, hotswap: hotswap)
        case .fluxProFinetuned: try await Flux.runPro(job)
        case .rvc(let voice): try await VoiceCloning.run(job, boundVoice: voice)
        case .sonic: try await Sonic.run(job)
        case .trainRVC: try await Trainers.trainRVC(job)
        case .createDataset: try await Trainers.createDataset(job)
        case .fastFluxTrainer: try await Trainers.fastFlux(job)
        case .fluxProTrainer: try await Trainers.fluxPro(job)
        }
    }
}

/// black-forest-labs/flux-dev-lora, trained LoRA destinations, flux-pro-finetuned.
enum Flux {
    /// Sizes at 1 megapixel (models.md §5.3); 0.25 MP halves each side.
    static let sizes: [String: (width: Int, height: Int)] = [
        "1:1": (1024, 1024), "16:9": (1344, 768), "21:9": (1536, 640), "3:2": (1216, 832), "2:3": (832, 1216), "4:5": (896, 1088),
        "5:4": (1088, 896), "3:4": (896, 1152), "4:3": (1152, 896), "9:16": (768, 1344), "9:21": (640, 1536),
    ]

    static func run(_ job: Job, hotswap: Bool) async throws -> Outcome {
        let prompt = job.string("prompt") ?? ""
        let seed = job.int("seed") ?? Int.random(in: 0..<(1 << 31))
        let format = job.string("output_format") ?? "webp"
        let quality = job.int("output_quality") ?? 80
        let count = job.int("num_outputs") ?? 1
        let steps = job.int("num_inference_steps") ?? 28
        var (width, height) = size(job, roundTo: 16)
        job.log("Using seed: \(seed)")
        if let image = try job.file("image") {
            _ = try job.file("mask")
            guard let size = await job.engine.media.imageSize(image.path) else {
                throw ModelFailure("cannot identify image file '/tmp/\(image.name)'")
            }
            // img2img: the output follows the input's aspect ratio at about the same area.
            let area = Double(width * height), ratio = Double(size.width) / Double(size.height)
            width = roundUp(Int((area * ratio).squareRoot()), 16)
            height = roundUp(Int((area / ratio).squareRoot()), 16)
            job.log("img2img mode")
        } else {
            job.log("txt2img mode")
        }
        if let lora = job.string(hotswap ? "replicate_weights" : "lora_weights"), !lora.isEmpty {
            job.log("Downloading LoRA weights - \(lora)")
            job.log("Loaded LoRAs in 0.52s")
        } else if hotswap {
            job.log("Loaded LoRAs in 0.48s")
        }
        job.log("Prompt: \(prompt)")
        var files: [(URL, name: String)] = []
        for index in 0..<count {
            let png = try await job.engine.media.image(
                prompt: prompt, seed: seed &+ index, width: clamp(width), height: clamp(height), in: job.folder, log: job.log)
            let output = job.folder.appendingPathComponent("out-\(index).\(format)")
            try await job.engine.media.convertImage(png, to: format, quality: quality, output: output)
            files.append((output, "out-\(index).\(format)"))
        }
        // Diffusion time grows with the steps (28 is the model's default).
        return Outcome(produced: .files(files), steps: steps, work: Double(steps) / 28)
    }

    static func runPro(_ job: Job) async throws -> Outcome {
        let finetune = job.string("finetune_id") ?? ""
        guard job.engine.state.withLock({ $0.finetunes.contains(finetune) }) else {
            throw ModelFailure("Finetune \(finetune) not found. Only fine-tunes trained with black-forest-labs/flux-pro-trainer on this account can be used.")
        }
        let seed = job.int("seed") ?? Int.random(in: 0..<(1 << 31))
        let format = job.string("output_format") ?? "webp"
        if try job.file("image_prompt") != nil { job.log("Using image prompt") }
        let (width, height) = size(job, roundTo: 32)
        job.log("Using seed: \(seed)")
        job.log("Generating image with finetune \(finetune)")
        let png = try await job.engine.media.image(
            prompt: job.string("prompt") ?? "", seed: seed, width: clamp(width), height: clamp(height), in: job.folder, log: job.log)
        let output = job.folder.appendingPathComponent("output.\(format)")
        try await job.engine.media.convertImage(png, to: format, quality: 90, output: output)
        let steps = job.int("steps") ?? 40
        return Outcome(produced: .file(output, name: "output.\(format)"), steps: steps, work: Double(steps) / 40)
    }

    private static func size(_ job: Job, roundTo multiple: Int) -> (Int, Int) {
        let ratio = job.string("aspect_ratio") ?? "1:1"
        if ratio == "custom" {
            return (roundUp(job.int("width") ?? 1024, multiple), roundUp(job.int("height") ?? 1024, multiple))
        }
        let base = sizes[ratio] ?? (1024, 1024)
        if job.string("megapixels") == "0.25" { return (roundUp(base.width / 2, 16), roundUp(base.height / 2, 16)) }
        return base
    }

    private static func roundUp(_ value: Int, _ multiple: Int) -> Int {
        max(multiple, (value + multiple / 2) / multiple * multiple)
    }

    /// The offline card's size limits.
    private static func clamp(_ value: Int) -> Int { max(256, min(2048, value)) }
}

/// zsxkib/realistic-voice-cloning (AICoverGen's predict.py and main.py, models.md §3).
enum VoiceCloning {
    static func run(_ job: Job, boundVoice: BoundVoice?) async throws -> Outcome {
        var voice = job.string("rvc_model") ?? "Squidward"
        if let url = job.string("custom_rvc_model_download_url"), !url.isEmpty {
            let lastSegment = url.split(separator: "/").last.map(String.init) ?? url
            let name = ((lastSegment.removingPercentEncoding ?? lastSegment) as NSString).deletingPathExtension
            job.log("[!] The model will be downloaded as '\(name)'.")
            job.log("[~] Downloading voice model with name \(name)...")
            let zip = try job.download(url)
            job.log("[~] Extracting zip...")
            guard let entries = Zip.entryNames(try Data(contentsOf: zip.path)) else {
                throw ModelFailure("File is not a zip file")
            }
            job.log("[+] \(name) Model successfully downloaded!")
            guard entries.contains(where: { $0.lowercased().hasSuffix(".pth") }) else {
                throw ModelFailure("No model file exists in rvc_models/\(name).")
            }
            voice = name
        } else if let boundVoice {
            voice = boundVoice.slug
        } else {
            job.log("[!] Since URL was provided, we will try to download the model and use it (even if `rvc_model` is not set to 'CUSTOM').")
            if voice == "CUSTOM" { throw ModelFailure("The folder rvc_models/CUSTOM does not exist.") }
        }
        guard let song = try job.file("song_input") else {
            throw ModelFailure("Ensure that the song input field and voice model field is filled.")
        }
        job.log("[~] Starting AI Cover Generation Pipeline...")
        guard let seconds = await job.engine.media.audioSeconds(song.path), seconds > 0 else {
            throw ModelFailure("Decoding failed. ffmpeg returned error code: 1")
        }
        job.log("[~] Separating Vocals from Instrumental...")
        job.log("[~] Separating Main Vocals from Backup Vocals...")
        job.log("[~] Applying DeReverb to Vocals...")
        job.log("[~] Converting voice using RVC...")

        let octaves = switch job.string("pitch_change") {
        case "male-to-female": 1
        case "female-to-male": -1
        default: 0
        }
        let semitones = octaves * 12 + Int((job.double("pitch_change_all") ?? 0).rounded())
        // pydub mixes main − 4 dB, backup − 6 dB and instrumental − 7 dB plus the changes; on 16-bit
        // stems a level below about −90.3 dB truncates every sample to zero (models.md §3.4).
        let silent = 20 * log10(1 / 32767.0)
        let isolated = -7 + (job.double("instrumental_volume_change") ?? 0) <= silent
            && -6 + (job.double("backup_vocals_volume_change") ?? 0) <= silent
        let wav = try await job.engine.media.voice(song: song.path, isolated: isolated, semitones: semitones, in: job.folder, log: job.log)
        job.log("[~] Applying audio effects to Vocals...")
        job.log("[~] Combining AI Vocals and Instrumentals...")
        let format = job.string("output_format") ?? "mp3"
        let name = "\((song.name as NSString).deletingPathExtension) (\(voice) Ver).\(format)"
        let output = job.folder.appendingPathComponent("cover.\(format)")
        try await job.engine.media.encodeAudio(wav, format: format, output: output)
        job.log("[+] Cover generated at song_output/\(String(job.id.prefix(11)))/\(name)")
        return Outcome(produced: .file(output, name: name), audioSeconds: seconds, steps: 10)
    }
}

/// zsxkib/sonic (cog-sonic predict.py, models.md §4).
enum Sonic {
    static let maxSeconds = 400.0
    static let initialWorkerSeed = 72589

    static func run(_ job: Job) async throws -> Outcome {
        guard let image = try job.file("image"), let audio = try job.file("audio") else {
            throw ModelFailure("image and audio are required")
        }
        job.log("Starting prediction...")
        guard let size = await job.engine.media.imageSize(image.path) else {
            throw ModelFailure("cannot identify image file '\(image.path.lastPathComponent)'")
        }
        job.log("Saved input image to: /src/tmp_path/input_image.png")
        guard let seconds = await job.engine.media.audioSeconds(audio.path), seconds > 0 else {
            throw ModelFailure("Decoding failed. ffmpeg returned error code: 1")
        }
        job.log("Converted and saved audio to: /src/tmp_path/input_audio.wav")
        job.log("Preprocessing image...")
        let faceless = try await job.engine.media.isUniform(image.path, tolerance: job.engine.configuration.facelessTolerance, scratch: job.folder)
        job.log("Face detection result: \(faceless ? 0 : 1) face(s) found")
        job.log(faceless ? "Using original image for processing (no face detected)" : "Using cropped face image for processing")
        job.log("Generating talking face animation...")
        // `if seed:` ignores 0, and an omitted seed reuses the worker's last one.
        let seed = job.engine.state.withLock { state -> Int in
            if let given = job.int("seed"), given != 0 { state.sonicSeed = given }
            return state.sonicSeed
        }
        job.log("seed: \(seed)")
        guard !faceless else {
            throw ModelFailure("[Errno 2] No such file or directory: '/src/res_path/output.mp4'")
        }
        var sound = audio.path
        let used = min(seconds, maxSeconds)
        if seconds > maxSeconds {
            sound = job.folder.appendingPathComponent("audio-400s.wav")
            try await job.engine.media.trimAudio(audio.path, seconds: maxSeconds, output: sound)
        }
        let side: Int
        if job.bool("keep_resolution") == true {
            side = max(256, min(1024, min(size.width, size.height) / 2 * 2))
        } else {
            side = max(256, min(1024, Int((Double(job.int("min_resolution") ?? 512) / 64).rounded()) * 64))
        }
        let video = try await job.engine.media.face(image: image.path, audio: sound, size: side, in: job.folder, log: job.log)
        job.log("Video generation complete")
        // Diffusion time grows with the steps and the pixels (25 steps at 512×512 is the default).
        let steps = job.int("inference_steps") ?? 25
        return Outcome(produced: .file(video, name: "output.mp4"), audioSeconds: used, steps: steps,
                       work: Double(steps) / 25 * pow(Double(side) / 512, 2))
    }
}

/// replicate/train-rvc-model, replicate/fast-flux-trainer, black-forest-labs/flux-pro-trainer.
enum Trainers {
    static func trainRVC(_ job: Job) async throws -> Outcome {
        guard let dataset = try job.file("dataset_zip") else { throw ModelFailure("dataset_zip is required") }
        let data = try Data(contentsOf: dataset.path)
        guard let entries = Zip.entryNames(data) else { throw ModelFailure("File is not a zip file") }
        job.log("Unzipping \(dataset.name)...")
        // The model name is the first folder under dataset/.
        let folders = entries.compactMap { entry -> String? in
            let parts = entry.split(separator: "/", omittingEmptySubsequences: true)
            return parts.count >= 2 && parts[0] == "dataset" && (parts.count > 2 || entry.hasSuffix("/")) ? String(parts[1]) : nil
        }
        guard let slug = folders.first else { throw ModelFailure("IndexError: list index out of range") }
        let clips = entries.filter { $0.hasPrefix("dataset/\(slug)/") && $0.lowercased().hasSuffix(".wav") }.count
        let version = job.string("version") ?? "v2"
        let epochs = job.int("epoch") ?? 10
        job.log("Found dataset folder \(slug) with \(clips) clips")
        job.log("Preprocessing dataset (\(job.string("sample_rate") ?? "48k"))...")
        job.log("Extracting f0 with \(job.string("f0method") ?? "rmvpe_gpu")...")
        job.log("Extracting features (hubert_base.pt)...")
        job.log("Training index: added_IVF256_Flat_nprobe_1_\(slug)_\(version).index")
        job.log("Training model for \(epochs) epochs, batch size \(job.string("batch_size") ?? "7")...")

        let seed = SHA256.hex(data) + " \(version) \(epochs)"
        let archive = Zip.make([
            ("added_IVF256_Flat_nprobe_1_\(slug)_\(version).index", Data("fake faiss index \(seed)\n".utf8)),
            ("total_fea.npy", Data("fake features \(seed)\n".utf8)),
            ("\(slug).pth", Data("fake rvc \(version) weights \(seed)\n".utf8)),
        ])
        let output = job.folder.appendingPathComponent("\(slug).zip")
        try archive.write(to: output)
        let steps = max(1, min(50, epochs))
        guard job.kind == .training, let destination = job.destination else {
            return Outcome(produced: .file(output, name: "\(slug).zip"), steps: steps)
        }
        // A training also makes a version of the destination that sings with this voice.
        let kept = job.engine.storage.appendingPathComponent("voices").appendingPathComponent("\(job.id)-\(slug).zip")
        try archive.write(to: kept)
        let versionID = job.engine.addVersion(
            to: destination, input: Catalog.rvcInputs, output: Catalog.uri, runner: .rvc(voice: BoundVoice(slug: slug, zip: kept)))
        return Outcome(produced: .training(version: "\(destination):\(versionID)", weights: (output, name: "\(slug).zip")), steps: steps)
    }

    /// What [DS] does: yt-dlp downloads the video's audio, Demucs keeps the vocals, the slicer cuts
    /// clips of at least 5 s at −40 dB pauses, all zipped as `dataset/<audio_name>/split_<i>.wav`.
    /// The fake never connects out: the "video" is a voice (a tone with pauses) made from the link,
    /// 44.1 kHz stereo as the model keeps the source's rate and channels. A link that is not an
    /// http(s) URL fails with yt-dlp's message.
    static func createDataset(_ job: Job) async throws -> Outcome {
        let link = job.string("youtube_url") ?? ""
        let name = job.string("audio_name") ?? "rvc_v2_voices"
        guard let url = URL(string: link), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
            throw ModelFailure("ERROR: [generic] '\(link)' is not a valid URL. Set --default-search \"ytsearch\" (or run  yt-dlp \"ytsearch:\(link)\" ) to search YouTube")
        }
        job.log("[youtube] Extracting URL: \(link)")
        job.log("[download] Destination: youtubeaudio/\(name)")
        job.log("[ExtractAudio] Destination: youtubeaudio/\(name).wav")
        job.log("Separating vocals with Demucs: separated/htdemucs/\(name)/vocals.wav")
        let digest = Array(SHA256.hex(of: link).utf8)
        let count = 3 + Int(digest[0]) % 3
        var entries: [(name: String, data: Data)] = []
        for index in 0..<count {
            let clip = job.folder.appendingPathComponent("split_\(index).wav")
            try await job.engine.media.voiceClip(seconds: 6 + Double(index), frequency: 180 + 20 * index, output: clip)
            entries.append(("dataset/\(name)/split_\(index).wav", try Data(contentsOf: clip)))
            job.log("Saved dataset/\(name)/split_\(index).wav")
        }
        let output = job.folder.appendingPathComponent("dataset_\(name).zip")
        try Zip.make(entries).write(to: output)
        return Outcome(produced: .file(output, name: "dataset_\(name).zip"), steps: count)
    }

    static func fastFlux(_ job: Job) async throws -> Outcome {
        guard job.kind == .training, let destination = job.destination else {
            job.log("This model only trains: use the trainings API.")
            return Outcome(produced: .none, steps: 1)
        }
        let images = try imageEntries(job)
        let trigger = job.string("trigger_word") ?? "TOK"
        let steps = job.int("training_steps") ?? 1000
        job.log("Extracting \(images.count) images")
        job.log("Captioning images with trigger word \(trigger) (\(job.string("lora_type") ?? "subject"))")
        job.log("Training LoRA for \(steps) steps")
        let weights = job.folder.appendingPathComponent("trained_model.tar")
        try Tar.make([("lora.safetensors", Data("fake FLUX LoRA for \(trigger), \(images.count) images, \(steps) steps\n".utf8))]).write(to: weights)
        let versionID = job.engine.addVersion(to: destination, input: Catalog.hotswapInputs, output: Catalog.uriList, runner: .flux(hotswap: true))
        return Outcome(produced: .training(version: "\(destination):\(versionID)", weights: (weights, name: "trained_model.tar")), steps: max(1, steps / 100))
    }

    static func fluxPro(_ job: Job) async throws -> Outcome {
        guard job.kind == .training else {
            job.log("This model only trains: use the trainings API.")
            return Outcome(produced: .none, steps: 1)
        }
        let images = try imageEntries(job)
        let finetune = UUID().uuidString.lowercased()
        job.log("Uploading \(images.count) images")
        job.log("Fine-tuning FLUX.1 [pro] (\(job.string("finetune_type") ?? "full"), \(job.string("mode") ?? "general"))")
        job.log("Finetune ID: \(finetune)")
        job.engine.state.withLock { _ = $0.finetunes.insert(finetune) }
        return Outcome(produced: .text(finetune), steps: max(1, (job.int("training_steps") ?? 300) / 50))
    }

    /// The images in the `input_images` zip; fails like the trainers do without any.
    private static func imageEntries(_ job: Job) throws -> [String] {
        guard let zip = try job.file("input_images") else { throw ModelFailure("input_images is required") }
        guard let entries = Zip.entryNames(try Data(contentsOf: zip.path)) else { throw ModelFailure("File is not a zip file") }
        let images = entries.filter { ["jpg", "jpeg", "png", "webp"].contains(($0 as NSString).pathExtension.lowercased()) }
        guard !images.isEmpty else { throw ModelFailure("No images found in \(zip.name): the zip must contain .jpg, .jpeg, .png or .webp files") }
        return images
    }
}
