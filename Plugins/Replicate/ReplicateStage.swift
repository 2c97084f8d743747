import FarmKit
import Foundation

/// What every Replicate stage shares: the client, the price list, and turning its parameters into
/// a model input that is checked against the live schema before anything is paid for.
protocol ReplicateStage: RenderStage {
    var client: ReplicateClient { get }
    var pricing: Pricing { get }
    /// The model this stage runs with these parameters.
    func model(_ parameters: [String: JSON]) throws -> ModelReference
    /// The model input made from parameters only (file inputs are added when the stage runs).
    func input(_ parameters: [String: JSON]) -> JSONObject
}

extension ReplicateStage {
    var isDeterministic: Bool { false }

    /// Checks the token, the model reference and the parameters against the model's schema.
    func preflight(_ parameters: [String: JSON], in context: PreflightContext) async throws -> Preparation {
        try client.configuration.check()
        try await client.validate(input(parameters), for: try model(parameters), partial: true)
        return .none
    }

    /// Runs the prediction with `files` added to the input and returns the first output file as `port`.
    func predict(_ request: StageRequest, files: [String: Artifact], output port: String, in context: StageContext) async throws -> StageResult {
        var input = input(request.parameters)
        let uploads = InputFiles(client: client)
        for (name, artifact) in files.sorted(by: { $0.key < $1.key }) {
            input[name] = .string(try await uploads.url(for: artifact, in: context))
        }
        let result = try await RemotePrediction(client: client, pricing: pricing).run(try model(request.parameters), input: input, in: context)
        guard let file = result.files.first else {
            throw StageFailure("\(result.prediction.model) returned no output file (prediction \(result.prediction.id))")
        }
        return StageResult(outputs: [port: file], metadata: result.metadata(pricing: pricing))
    }

    /// The parameters named in `names` that are set, as model inputs.
    func pick(_ names: [String], from parameters: [String: JSON]) -> JSONObject {
        var input = JSONObject()
        for name in names { if let value = parameters[name], !value.isNull { input[name] = value } }
        return input
    }

    /// Parses the `model` parameter.
    func reference(_ parameters: [String: JSON], parameter: String = "model") throws -> ModelReference {
        let text = parameters[parameter]?.stringValue ?? ""
        guard let model = ModelReference(text) else {
            throw StageFailure(ModelReference.problem(text, parameter: parameter),
                               hint: "record the subject's model with farm subjects add, or set it with --set STAGE.\(parameter)=owner/name:VERSION",
                               isBadInput: true)
        }
        return model
    }
}
