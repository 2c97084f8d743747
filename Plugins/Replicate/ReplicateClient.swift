import FarmKit
import Foundation
import Synchronization

/// The parts of Replicate's HTTP API that farm uses: predictions, files, model versions, account.
///
/// Requests are paced under Replicate's rate limits (`RequestPacer`), shared by every render of
/// the process. Reads retry on network errors, 429 and 5xx; creating a prediction is retried only
/// when the request surely never reached Replicate, or on 429. When a create's fate is unknown (sent, no
/// answer) the client looks for the prediction among the recent ones before creating another,
/// so a lost response never pays twice.
public final class ReplicateClient: Sendable {
    public let configuration: ReplicateConfiguration
    let http: HTTPClient
    private let facts = Mutex<[String: ModelFacts]>([:])
    private let uploadsInFlight = Mutex<[String: Task<String, any Error>]>([:])
    /// Replicate's rate limits, kept on this side so a batch of renders never draws a 429.
    let creates: RequestPacer
    let others: RequestPacer

    public init(configuration: ReplicateConfiguration, http: HTTPClient = HTTPClient()) {
        self.configuration = configuration
        self.http = http
        creates = RequestPacer(perMinute: configuration.createsPerMinute)
        others = RequestPacer(perMinute: configuration.requestsPerMinute)
    }

    // MARK: Account and models

    /// `GET /v1/account`: checks the token.
    public func account() async throws -> JSON {
        try await call("GET", "account", what: "the account")
    }

    /// What Replicate says about a model or version, fetched once per process.
    private struct ModelFacts: Sendable {
        let schema: InputSchema
        /// The version to run: the one named, or the latest for a community model.
        let runnable: ModelReference
    }

    private func facts(_ model: ModelReference) async throws -> ModelFacts {
        if let cached = facts.withLock({ $0[model.description] }) { return cached }
        let versionJSON: JSON?
        var runnable = model
        if let version = model.version {
            versionJSON = try await call("GET", "models/\(model.owner)/\(model.name)/versions/\(version)", what: "model version \(model)")
        } else {
            let modelJSON = try await call("GET", "models/\(model.owner)/\(model.name)", what: "model \(model)")
            versionJSON = modelJSON["latest_version"]
            // Only official models run by name; any other runs by its latest version.
            if modelJSON["is_official"]?.boolValue != true, let latest = versionJSON?["id"]?.stringValue {
                runnable = ModelReference(owner: model.owner, name: model.name, version: latest)
            }
        }
        guard let schema = versionJSON?["openapi_schema"], schema["components"]?["schemas"]?["Input"]?["properties"]?.objectValue != nil else {
            throw ReplicateError("Replicate returned no readable input schema for \(model)",
                                 hint: "check the model reference; if it is right, Replicate (or REPLICATE_BASE_URL) answered oddly: try again later")
        }
        let found = ModelFacts(schema: InputSchema(openAPISchema: schema), runnable: runnable)
        facts.withLock { $0[model.description] = found }
        return found
    }

    /// The input schema of a model version (the latest version when the reference has none).
    func inputSchema(_ model: ModelReference) async throws -> InputSchema {
        try await facts(model).schema
    }

    /// The reference to create predictions with: unchanged for a version or an official model,
    /// the latest version for another model named without one.
    public func runnable(_ model: ModelReference) async throws -> ModelReference {
        try await facts(model).runnable
    }

    /// Checks `input` against the model's schema; throws one error listing every problem.
    public func validate(_ input: JSONObject, for model: ModelReference, partial: Bool = false) async throws {
        let problems = try await inputSchema(model).problems(with: input, partial: partial)
        guard problems.isEmpty else {
            throw ReplicateError("\(model) would refuse this input: " + problems.joined(separator: "; "),
                                 hint: "fix it in the profile or with --set; nothing was paid for", isBadInput: true)
        }
    }

    // MARK: Predictions

    /// Creates a prediction (by version, or by model for official models), asking Replicate to hold
    /// the answer up to `preferWaitSeconds`.
    public func createPrediction(_ model: ModelReference, input: JSONObject) async throws -> Prediction {
        var body = JSONObject()
        let path: String
        if let version = model.version {
            path = "predictions"
            body["version"] = .string(version)
        } else {
            path = "models/\(model.owner)/\(model.name)/predictions"
        }
        body["input"] = .object(input)
        let wait = configuration.preferWaitSeconds
        var request = try makeRequest("POST", path, body: .json(.object(body)), timeout: .seconds(wait + 30))
        request.headers.append((name: "Prefer", value: "wait=\(wait)"))
        request.mayRepeat = false
        let what = "a prediction of \(model)"
        try await creates.pace()
        let sentAt = Date()
        do {
            let response = try await http.send(request, retrying: .create)
            return try Prediction(json: try Self.decode(response, what: what))
        } catch let error as HTTPError where !error.isSurelyNotSent && error.statusCode == nil {
            // Sent but unanswered: it may exist. Adopt it rather than paying twice.
            if let existing = try await recentPrediction(of: model, input: input, createdAfter: sentAt.addingTimeInterval(-configuration.clockSkew)) {
                return existing
            }
            let response = try await http.send(request, retrying: .create)
            return try Prediction(json: try Self.decode(response, what: what))
        }
    }

    /// A prediction created in the last ten minutes (and not before `earliest`) for the same model
    /// and input, if any.
    func recentPrediction(of model: ModelReference, input: JSONObject, createdAfter earliest: Date? = nil) async throws -> Prediction? {
        let page = try await call("GET", "predictions", what: "the recent predictions")
        let cutoff = max(Date().addingTimeInterval(-600), earliest ?? .distantPast)
        let wanted = JSON.object(input).canonicalString
        for item in page["results"]?.arrayValue ?? [] {
            guard let prediction = try? Prediction(json: item) else { continue }
            let sameModel = prediction.model == model.model || (model.version != nil && prediction.version == model.version)
            guard sameModel, (prediction.createdAt ?? .distantPast) > cutoff, prediction.input.canonicalString == wanted else { continue }
            return prediction
        }
        return nil
    }

    public func prediction(id: String) async throws -> Prediction {
        try Prediction(json: try await call("GET", "predictions/\(id)", what: "prediction \(id)"))
    }

    /// Asks Replicate to stop a prediction; a failure to cancel is not an error for the caller.
    public func cancel(id: String) async {
        _ = try? await call("POST", "predictions/\(id)/cancel", what: "cancelling prediction \(id)")
    }

    /// Polls until the prediction ends, with an interval that grows with the time waited
    /// (`ReplicateConfiguration.pollFraction`); `update` sees every state.
    public func wait(for prediction: Prediction, update: @Sendable (Prediction) -> Void) async throws -> Prediction {
        try await poll(prediction, update: update) { try await self.prediction(id: $0) }
    }

    /// Reads `job` again with `read` until it ends, polling at `pollFraction` of its age.
    func poll(_ job: Prediction, update: @Sendable (Prediction) -> Void, read: (String) async throws -> Prediction) async throws -> Prediction {
        var current = job
        let start = ContinuousClock.now
        let age = job.createdAt.map { max(0, Date().timeIntervalSince($0)) } ?? 0
        while !current.status.isTerminal {
            let waited = (ContinuousClock.now - start) + .seconds(age)
            try await Task.sleep(for: min(max(waited * configuration.pollFraction, configuration.minPollInterval), configuration.maxPollInterval))
            current = try await read(current.id)
            update(current)
        }
        return current
    }

    // MARK: Files

    /// Runs `upload` once for `key` however many stages ask at the same time; the others wait for
    /// its result (so two RVC stages reading one song upload it once).
    func uploadOnce(key: String, _ upload: @escaping @Sendable () async throws -> String) async throws -> String {
        let task = uploadsInFlight.withLock { tasks in
            if let running = tasks[key] { return running }
            let task = Task { try await upload() }
            tasks[key] = task
            return task
        }
        defer { uploadsInFlight.withLock { $0[key] = nil } }
        return try await task.value
    }

    /// Uploads a file through the Files API; returns its `urls.get` and expiry.
    public func upload(_ file: URL, contentType: String) async throws -> (url: String, expiresAt: Date?) {
        let part = MultipartPart(name: "content", file: file, filename: file.lastPathComponent, contentType: contentType)
        let request = try makeRequest("POST", "files", body: .multipart([part]), timeout: .seconds(1800))
        try await others.pace()
        let json = try Self.decode(try await http.send(request, retrying: .idempotent), what: "uploading \(file.lastPathComponent)")
        guard let url = json["urls"]?["get"]?.stringValue else {
            throw ReplicateError("the Files API answered without a URL for \(file.lastPathComponent)")
        }
        return (url, json["expires_at"]?.stringValue.flatMap(Prediction.date))
    }

    /// Downloads one output file. Replicate's own hosts get the token; other hosts never do.
    public func download(_ url: URL, to destination: URL, progress: (@Sendable (Int64, Int64?) -> Void)? = nil) async throws {
        var request = HTTPRequest(url: url, timeout: .seconds(3600))
        request.maxRedirects = 5
        if url.host == configuration.baseURL.host {
            request.headers.append((name: "Authorization", value: "Bearer \(try configuration.token())"))
        }
        _ = try await http.download(request, to: destination, maxBytes: configuration.maxOutputBytes, progress: progress)
    }

    /// A ranged GET of the first bytes of a public URL (no token is sent).
    public func firstBytes(of url: URL, count: Int) async throws -> (status: Int, bytes: Data) {
        var request = HTTPRequest(url: url, headers: [(name: "Range", value: "bytes=0-\(count - 1)")], timeout: .seconds(30))
        request.maxRedirects = 5
        request.maxResponseBytes = Int64(count) + (1 << 20)
        let response = try await http.send(request, retrying: .idempotent)
        return (response.status, response.body.prefix(count))
    }

    // MARK: Plumbing

    func call(_ method: String, _ path: String, what: String) async throws -> JSON {
        let request = try makeRequest(method, path, body: .none, timeout: .seconds(60))
        try await others.pace()
        return try Self.decode(try await http.send(request, retrying: .idempotent), what: what)
    }

    func makeRequest(_ method: String, _ path: String, body: HTTPBody, timeout: Duration) throws -> HTTPRequest {
        let url = configuration.baseURL.appendingPathComponent(path)
        return HTTPRequest(
            method: method, url: url,
            headers: [(name: "Authorization", value: "Bearer \(try configuration.token())"), (name: "Accept", value: "application/json")],
            body: body, timeout: timeout)
    }

    /// The JSON of a 2xx answer; otherwise the error Replicate's problem details describe.
    package static func decode(_ response: HTTPResponse, what: String) throws -> JSON {
        let json = try? response.json()
        guard (200..<300).contains(response.status) else { throw ReplicateError.from(status: response.status, body: json, what: what) }
        guard let json else {
            throw ReplicateError("Replicate answered \(what) with something that is not JSON", hint: ReplicateError.oddAnswerHint)
        }
        return json
    }
}
