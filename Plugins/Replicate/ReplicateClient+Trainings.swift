import FarmKit
import Foundation

/// Trainings and destination models (`POST /v1/models`).
extension ReplicateClient {
    /// The account's user or organisation name: the owner of destination models.
    public func owner() async throws -> String {
        guard let name = try await account()["username"]?.stringValue, !name.isEmpty else {
            throw ReplicateError("Replicate's account answer has no username", hint: ReplicateError.oddAnswerHint)
        }
        return name
    }

    /// Makes the private destination model `owner/name` unless it exists; true when it was made now.
    public func ensureModel(owner: String, name: String, description: String) async throws -> Bool {
        do {
            _ = try await call("GET", "models/\(owner)/\(name)", what: "model \(owner)/\(name)")
            return false
        } catch let error as ReplicateError where error.status == 404 {}
        var body = JSONObject()
        body["owner"] = .string(owner)
        body["name"] = .string(name)
        body["visibility"] = "private"
        body["hardware"] = "cpu"
        body["description"] = .string(description)
        var request = try makeRequest("POST", "models", body: .json(.object(body)), timeout: .seconds(60))
        request.mayRepeat = false
        try await others.pace()
        let response = try await http.send(request, retrying: .create)
        switch response.status {
        case 201: return true
        case 409: return false
        case 403:
            throw ReplicateError("the destination model name \(owner)/\(name) belongs to another owner",
                                 hint: "choose another name with --set image.destination=NAME", isBadInput: true, status: 403)
        default:
            _ = try Self.decode(response, what: "creating model \(owner)/\(name)")
            return true
        }
    }

    /// `model` pinned to its latest version (trainings are started on a version, official models too).
    public func latestVersion(of model: ModelReference) async throws -> ModelReference {
        guard let id = try await call("GET", "models/\(model.owner)/\(model.name)", what: "model \(model)")["latest_version"]?["id"]?.stringValue else {
            throw ReplicateError("model \(model) has no version to train with", hint: "name a version: owner/name:VERSION", isBadInput: true)
        }
        return ModelReference(owner: model.owner, name: model.name, version: id)
    }

    /// Starts a training of `trainer` (a version) into `destination`.
    public func createTraining(_ trainer: ModelReference, destination: String, input: JSONObject) async throws -> Prediction {
        guard let version = trainer.version else {
            throw ReplicateError("the trainer \(trainer) names no version", hint: "pin it as owner/name:VERSION", isBadInput: true)
        }
        var body = JSONObject()
        body["destination"] = .string(destination)
        body["input"] = .object(input)
        var request = try makeRequest(
            "POST", "models/\(trainer.owner)/\(trainer.name)/versions/\(version)/trainings", body: .json(.object(body)), timeout: .seconds(60))
        request.mayRepeat = false
        let what = "a training of \(trainer)"
        try await creates.pace()
        let sentAt = Date()
        do {
            return try Prediction(json: try Self.decode(try await http.send(request, retrying: .create), what: what))
        } catch let error as HTTPError where !error.isSurelyNotSent && error.statusCode == nil {
            if let existing = try await recentTraining(of: trainer, input: input, createdAfter: sentAt.addingTimeInterval(-configuration.clockSkew)) {
                return existing
            }
            return try Prediction(json: try Self.decode(try await http.send(request, retrying: .create), what: what))
        }
    }

    /// A training made in the last day (and not before `earliest`) for the same trainer and input, if any.
    func recentTraining(of trainer: ModelReference, input: JSONObject, createdAfter earliest: Date? = nil) async throws -> Prediction? {
        let page = try await call("GET", "trainings", what: "the recent trainings")
        let cutoff = max(Date().addingTimeInterval(-86_400), earliest ?? .distantPast)
        let wanted = JSON.object(input).canonicalString
        for item in page["results"]?.arrayValue ?? [] {
            guard let training = try? Prediction(json: item), training.model == trainer.model || training.version == trainer.version,
                  (training.createdAt ?? .distantPast) > cutoff, training.input.canonicalString == wanted else { continue }
            return training
        }
        return nil
    }

    public func training(id: String) async throws -> Prediction {
        try Prediction(json: try await call("GET", "trainings/\(id)", what: "training \(id)"))
    }

    /// Asks Replicate to stop a training; a failure to cancel is not an error for the caller.
    public func cancelTraining(id: String) async {
        _ = try? await call("POST", "trainings/\(id)/cancel", what: "cancelling training \(id)")
    }

    /// Polls a training until it ends, as predictions are polled; `update` sees every state.
    public func wait(forTraining training: Prediction, update: @Sendable (Prediction) -> Void) async throws -> Prediction {
        try await poll(training, update: update) { try await self.training(id: $0) }
    }
}
