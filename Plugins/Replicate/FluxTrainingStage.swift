import FarmKit
import Foundation

/// `replicate.train-flux`: training photos → a FLUX LoRA in a private destination model of the
/// account (made if missing), by `replicate/fast-flux-trainer`; or, with a trainer of
/// `black-forest-labs/flux-pro-trainer`, a FLUX pro finetune (its `finetune_id`).
///
/// Pays once like predictions do: a "pending" mark before creating and the training id right
/// after go into the stage's journal, so a re-run re-attaches (or finds a training whose create
/// answer was lost) instead of starting another. Ctrl-C cancels the remote training, or leaves it running when the
/// command's `InterruptPolicy` says so.
struct FluxTrainingStage: ReplicateStage {
    let client: ReplicateClient
    let pricing: Pricing
    let id = StageID("replicate.train-flux", version: 1)
    let summary = "train a FLUX LoRA (replicate/fast-flux-trainer) or FLUX pro finetune on photos"
    let inputs = [FarmKit.Port("images", .archive, "zip of training photos (optional .txt captions)")]
    let outputs: [FarmKit.Port] = []

    static let fastFlux = "replicate/fast-flux-trainer:8b10794665aed907bb98a1a5324cd1d3a8bea0e9b31e65210967fb9c9e2e08ed"
    static let fluxPro = "black-forest-labs/flux-pro-trainer"

    let parameters = [
        ParamSpec("model", .string, default: .string(fastFlux), "the trainer: fast-flux-trainer (a version) or \(fluxPro)"),
        ParamSpec("destination", .string, required: true, "the model the LoRA goes to: NAME (in the account) or OWNER/NAME"),
        ParamSpec("trigger_word", .string, required: true, "the word that stands for the subject in prompts"),
        ParamSpec("lora_type", .string, default: "subject", choices: ["subject", "style"], "fast-flux-trainer: what the LoRA learns"),
        ParamSpec("training_steps", .integer, range: 1...10_000, "training steps (the trainer's default when unset)"),
        ParamSpec("mode", .string, default: "character", choices: ["general", "character", "style", "product"], "flux-pro-trainer: what it learns"),
    ]

    private static let journalKey = "replicate.training"
    private static let pendingPrefix = "pending:"

    func model(_ parameters: [String: JSON]) throws -> ModelReference { try reference(parameters) }

    func isPro(_ parameters: [String: JSON]) -> Bool { (try? model(parameters).model) == Self.fluxPro }

    func input(_ parameters: [String: JSON]) -> JSONObject {
        isPro(parameters) ? pick(["trigger_word", "mode", "training_steps"], from: parameters)
            : pick(["trigger_word", "lora_type", "training_steps"], from: parameters)
    }

    /// Trainers take their inputs through the trainings API: only the token is checked here.
    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        try client.configuration.check()
        _ = try model(parameters)
        return .none
    }

    func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
        var trainer = try model(request.parameters)
        if trainer.version == nil { trainer = try await client.latestVersion(of: trainer) }
        var input = input(request.parameters)
        input["input_images"] = .string(try await InputFiles(client: client).url(for: try request.input("images"), in: context))

        let owner = try await client.owner()
        let named = request.string("destination") ?? ""
        let parts = named.split(separator: "/").map(String.init)
        let destination = (owner: parts.count == 2 ? parts[0] : owner, name: parts.last ?? "")
        guard !destination.name.isEmpty, parts.count <= 2 else {
            throw StageFailure("destination \"\(named)\" is not NAME or OWNER/NAME", isBadInput: true)
        }
        if try await client.ensureModel(owner: destination.owner, name: destination.name,
                                        description: "FLUX LoRA of \(context.subject.name), trained by farm") {
            context.log("created the private model \(destination.owner)/\(destination.name)")
        }

        let training = try await start(trainer, destination: "\(destination.owner)/\(destination.name)", input: input, in: context)
        let done = try await finish(training, in: context)
        var facts = JSONObject()
        facts["trainer"] = .string(trainer.description)
        facts["training"] = .string(done.id)
        facts["trigger_word"] = input["trigger_word"]
        facts["destination"] = .string("\(destination.owner)/\(destination.name)")
        var subject = JSONObject()
        let renderProfile: String
        if isPro(request.parameters) {
            guard let finetune = done.output.stringValue ?? done.output["finetune_id"]?.stringValue else {
                throw StageFailure("training \(done.id) succeeded without a finetune_id (output: \(done.output.compactString.prefix(200)))")
            }
            subject["image_model"] = .string(finetune)
            renderProfile = "vivid-pro"
        } else {
            guard let version = done.output["version"]?.stringValue else {
                throw StageFailure("training \(done.id) succeeded without a version (output: \(done.output.compactString.prefix(200)))")
            }
            subject["image_model"] = .string(version)
            facts["weights"] = done.output["weights"]
            renderProfile = "vivid"
        }
        var metadata: [String: JSON] = ["training_id": .string(done.id), "subject": .object(subject), "training": .object(facts),
                                        "render_profile": .string(renderProfile)]
        metadata["predict_time"] = done.predictTime.map(JSON.double)
        return StageResult(outputs: [:], metadata: metadata)
    }

    /// The journalled training if it can still be used, else a new one.
    private func start(_ trainer: ModelReference, destination: String, input: JSONObject, in context: StageContext) async throws -> Prediction {
        if var id = try await context.recall(Self.journalKey) {
            if id.hasPrefix(Self.pendingPrefix) {
                // Made after the mark, give or take the clocks' difference: not an older one of the same input.
                let marked = Double(id.dropFirst(Self.pendingPrefix.count)).map { Date(timeIntervalSince1970: $0 - client.configuration.clockSkew) }
                id = try await client.recentTraining(of: trainer, input: input, createdAfter: marked)?.id ?? ""
                if !id.isEmpty { context.log("found training \(id), started by an interrupted run") }
            }
            if !id.isEmpty {
                do {
                    let existing = try await client.training(id: id)
                    if existing.status == .succeeded || !existing.status.isTerminal {
                        context.log("re-attaching to training \(id) (\(existing.status.rawValue))")
                        return existing
                    }
                    context.log("training \(id) ended \(existing.status.rawValue); starting a new one")
                } catch let error as ReplicateError where error.status == 404 {}
                try await context.forget(Self.journalKey)
            }
        }
        context.progress(nil, "starting a training of \(trainer.model)")
        try await context.remember(Self.journalKey, Self.pendingPrefix + String(Int(Date().timeIntervalSince1970)))
        let created: Prediction
        do {
            created = try await client.createTraining(trainer, destination: destination, input: input)
        } catch let error as ReplicateError where error.status == 404 {
            try await context.forget(Self.journalKey)
            throw StageFailure(
                "Replicate refused the destination model \(destination): \(error.message)",
                hint: "a destination must be a model of the token's account or organisation; it may belong to another owner: choose another name with --set image.destination=NAME",
                isBadInput: true)
        }
        try await context.remember(Self.journalKey, created.id)
        context.log("training \(created.id) of \(trainer.model) into \(destination) started")
        return created
    }

    private func finish(_ training: Prediction, in context: StageContext) async throws -> Prediction {
        let done: Prediction
        do {
            done = try await client.wait(forTraining: training) { update in
                guard let line = update.logTail(1).first else { return }
                context.progress(Self.fraction(in: line), String(line.prefix(60)))
            }
            try Task.checkCancellation()
        } catch {
            if Task.isCancelled || error is CancellationError {
                if InterruptPolicy.effective == .leave {
                    // The journal keeps the id: a resumed run re-attaches to it.
                    context.log("left training \(training.id) running on Replicate")
                } else {
                    let client = self.client
                    await Task.detached { await client.cancelTraining(id: training.id) }.value
                    context.log("cancelled training \(training.id)")
                }
            }
            throw error
        }
        for line in done.logTail(3) { context.log(line) }
        switch done.status {
        case .succeeded: return done
        case .failed:
            var message = "\(done.model) failed (training \(done.id)): \(done.error ?? "no error message")"
            let tail = done.logTail(5)
            if !tail.isEmpty { message += "\nlast log lines:\n" + tail.map { "  \($0)" }.joined(separator: "\n") }
            throw StageFailure(message, hint: "check the photos (faces clearly visible, 10–20 of them); run the same command again to retry")
        default:
            throw StageFailure("training \(done.id) of \(done.model) was \(done.status.rawValue) on Replicate", hint: "run the same command again to start a new one")
        }
    }

    /// `NN%` in a progress line, as a fraction.
    static func fraction(in line: String) -> Double? {
        guard let percent = line.firstRange(of: "%") else { return nil }
        let digits = line[..<percent.lowerBound].reversed().prefix { $0.isNumber }
        return Double(String(digits.reversed())).map { min(1, $0 / 100) }
    }
}
