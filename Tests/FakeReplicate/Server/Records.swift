import FarmKit
import Foundation

enum PredictionStatus: String, Sendable {
    case starting, processing, succeeded, failed, canceled, aborted

    var isTerminal: Bool {
        switch self {
        case .starting, .processing: false
        case .succeeded, .failed, .canceled, .aborted: true
        }
    }
}

/// A prediction or a training, as the fake keeps it.
struct PredictionRecord: Sendable {
    let id: String
    let kind: FakeReplicate.Ledger.Prediction.Kind
    /// `owner/name`.
    let model: String
    /// The version that runs.
    let versionID: String
    /// What the API shows as `version`: the id, or `hidden` for an official model run by name.
    let versionShown: String
    /// The input as sent.
    let input: JSONObject
    let sequence: Int
    let createdAt: Date
    var status = PredictionStatus.starting
    var logs = ""
    var error: String?
    var output: JSON = .null
    var startedAt: Date?
    var completedAt: Date?
    /// From `Cancel-After`.
    var deadline: Date?
    var dataRemoved = false
    var webhook: String?
    var webhookEventsFilter: [String]?
    /// Trainings: `owner/name` of the destination model.
    var destination: String?
    /// Delivery tokens of the outputs.
    var deliveries: [String] = []
    var responseLost = false

    var ledgerEntry: FakeReplicate.Ledger.Prediction {
        FakeReplicate.Ledger.Prediction(
            id: id, kind: kind, model: model, version: versionID, input: .object(input), status: status.rawValue, error: error,
            createdAt: createdAt, startedAt: startedAt, completedAt: completedAt, destination: destination, responseLost: responseLost)
    }

    /// The API object. `createResponse`: a training's create response, whose URLs point at
    /// `/v1/predictions` as the real API's do.
    func json(origin: String, createResponse: Bool = false) -> JSON {
        var object = JSONObject()
        object["id"] = .string(id)
        object["model"] = .string(model)
        object["version"] = .string(versionShown)
        if let destination { object["destination"] = .string(destination) }
        object["input"] = .object(input)
        object["logs"] = .string(logs)
        object["output"] = output
        object["data_removed"] = .bool(dataRemoved)
        object["error"] = error.map(JSON.string) ?? .null
        object["status"] = .string(status.rawValue)
        object["source"] = "api"
        object["created_at"] = .string(Timestamp.format(createdAt))
        object["started_at"] = startedAt.map { .string(Timestamp.format($0)) } ?? .null
        object["completed_at"] = completedAt.map { .string(Timestamp.format($0)) } ?? .null
        if let deadline { object["deadline"] = .string(Timestamp.format(deadline)) }
        if let webhook {
            object["webhook"] = .string(webhook)
            object["webhook_events_filter"] = .array((webhookEventsFilter ?? ["start", "output", "logs", "completed"]).map(JSON.string))
        }
        var metrics = JSONObject()
        if status.isTerminal, let completedAt {
            if let startedAt { metrics["predict_time"] = .double(rounded(completedAt.timeIntervalSince(startedAt))) }
            metrics["total_time"] = .double(rounded(completedAt.timeIntervalSince(createdAt)))
        }
        object["metrics"] = .object(metrics)
        let collection = kind == .training && !createResponse ? "trainings" : "predictions"
        object["urls"] = .object(JSONObject([
            ("cancel", .string("\(origin)/v1/\(collection)/\(id)/cancel")),
            ("get", .string("\(origin)/v1/\(collection)/\(id)")),
            ("web", .string("\(origin)/p/\(id)")),
        ]))
        return .object(object)
    }

    private func rounded(_ seconds: TimeInterval) -> Double {
        (seconds * 1_000_000).rounded() / 1_000_000
    }
}

/// An upload of the Files API.
struct FileRecord: Sendable {
    let id: String
    let name: String
    let contentType: String
    let size: Int
    let sha256: String
    let md5: String
    let metadata: JSON
    let createdAt: Date
    let expiresAt: Date
    let sequence: Int
    let path: URL
    var deleted = false

    func json(origin: String) -> JSON {
        .object(JSONObject([
            ("id", .string(id)), ("name", .string(name)), ("content_type", .string(contentType)), ("size", .integer(Int64(size))),
            ("etag", .string(md5)),
            ("checksums", .object(JSONObject([("sha256", .string(sha256)), ("md5", .string(md5))]))),
            ("metadata", metadata),
            ("created_at", .string(Timestamp.format(createdAt))), ("expires_at", .string(Timestamp.format(expiresAt))),
            ("urls", .object(JSONObject([("get", .string("\(origin)/v1/files/\(id)"))]))),
        ]))
    }

    var ledgerEntry: FakeReplicate.Ledger.File {
        FakeReplicate.Ledger.File(id: id, name: name, contentType: contentType, size: size, sha256: sha256, createdAt: createdAt, deleted: deleted)
    }
}

/// An output file served at `/delivery/TOKEN/NAME` until it expires.
struct DeliveryRecord: Sendable {
    let token: String
    let name: String
    let path: URL
    let predictionID: String

    func url(origin: String) -> String {
        "\(origin)/delivery/\(token)/\(name.percentEncodedSegment)"
    }
}

/// A token bucket: `capacity` requests, refilled at `capacity` per minute.
struct TokenBucket: Sendable {
    let capacity: Double
    var tokens: Double
    var updated: ContinuousClock.Instant

    init(capacity: Double, now: ContinuousClock.Instant) {
        self.capacity = capacity
        tokens = capacity
        updated = now
    }

    /// Takes one token; on success the tokens left, else the seconds until one is there.
    mutating func take(now: ContinuousClock.Instant) -> Result<Int, RetryAfter> {
        let elapsed = now - updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(capacity, tokens + seconds * capacity / 60)
        updated = now
        guard tokens >= 1 else {
            return .failure(RetryAfter(seconds: max(1, Int(((1 - tokens) * 60 / capacity).rounded(.up)))))
        }
        tokens -= 1
        return .success(Int(tokens.rounded(.down)))
    }

    struct RetryAfter: Error {
        let seconds: Int
    }
}
