import FarmKit
import Foundation

/// Predictions and trainings: create (with `Prefer: wait` and `Cancel-After`), get, list, cancel.
extension Engine {
    func createPrediction(_ request: Incoming, model byModel: String?, token: String, responseLost: Bool) async -> Reply {
        let body: JSONObject
        switch jsonObject(request) {
        case .success(let object): body = object
        case .failure(let error): return error.reply
        }
        var allowed: Set = ["input", "webhook", "webhook_events_filter", "webhook_completed", "stream"]
        if byModel == nil { allowed.insert("version") }
        var problems = Self.bodyProblems(body, allowed: allowed, required: byModel == nil ? ["version", "input"] : ["input"])
        if byModel == nil, let version = body["version"], version.stringValue == nil {
            problems.append(InvalidField(type: "invalid_type", field: "version", description: "Invalid type. Expected: string, given: \(version.schemaTypeName)"))
        }
        if !problems.isEmpty { return .validationFailed(problems) }

        // Which version runs.
        let resolved: (version: VersionRecord, shown: String)?
        if let byModel {
            guard let model = state.withLock({ $0.models[byModel] }) else {
                return .notFound("The requested model does not exist")
            }
            guard model.isOfficial || model.owner == configuration.account.username else {
                return .notFound("Model \(byModel) is not an official model: create the prediction with POST /v1/predictions and a version")
            }
            guard let latest = model.versions.last, let version = state.withLock({ $0.versions[latest] }) else {
                return .notFound("Model \(byModel) has no version to run")
            }
            resolved = (version, model.isOfficial ? "hidden" : version.id)
        } else {
            resolved = resolveVersion(body["version"]!.stringValue!)
        }
        guard let (version, shown) = resolved else { return .invalidVersion() }
        if isOutOfCredit(token) { return .billingRequired() }

        let input = body["input"]!.objectValue!
        let inputProblems = version.input.problems(with: input)
        if !inputProblems.isEmpty { return .validationFailed(inputProblems) }

        let deadline: Date?
        switch Self.cancelAfter(request.header("cancel-after")) {
        case .success(let seconds): deadline = seconds.map { Date().addingTimeInterval($0) }
        case .failure(let error): return error.reply
        }
        let wait = Self.preferWait(request.header("prefer"))

        let record = start(
            kind: .prediction, model: version.model, version: version.id, shown: shown, input: input, body: body,
            deadline: deadline, destination: nil, responseLost: responseLost)
        return await respondToCreate(record, wait: wait, createResponse: false)
    }

    func createTraining(_ request: Incoming, model key: String, version versionID: String, token: String, responseLost: Bool) -> Reply {
        let body: JSONObject
        switch jsonObject(request) {
        case .success(let object): body = object
        case .failure(let error): return error.reply
        }
        var problems = Self.bodyProblems(
            body, allowed: ["destination", "input", "webhook", "webhook_events_filter", "webhook_completed", "version"],
            required: ["destination", "input"])
        if let destination = body["destination"], destination.stringValue == nil {
            problems.append(InvalidField(type: "invalid_type", field: "destination", description: "Invalid type. Expected: string, given: \(destination.schemaTypeName)"))
        }
        if !problems.isEmpty { return .validationFailed(problems) }

        guard let version = state.withLock({ $0.versions[versionID] }), version.model == key else {
            return .notFound("The requested model version does not exist")
        }
        guard let trainingInput = version.trainingInput else {
            return .problem(400, title: "Bad request", detail: "The model \(key) does not support training")
        }
        let destination = body["destination"]!.stringValue!
        let owned = state.withLock { $0.models[destination] }.map { $0.owner == configuration.account.username } ?? false
        guard owned else {
            return .problem(404, title: nil, detail: "The specified training destination does not exist")
        }
        if isOutOfCredit(token) { return .billingRequired() }
        let input = body["input"]!.objectValue!
        let inputProblems = trainingInput.problems(with: input)
        if !inputProblems.isEmpty { return .validationFailed(inputProblems) }

        let record = start(
            kind: .training, model: key, version: version.id, shown: version.id, input: input, body: body, deadline: nil,
            destination: destination, responseLost: responseLost)
        return .json(201, record.json(origin: origin, createResponse: true))
    }

    func getPrediction(_ id: String, kind: FakeReplicate.Ledger.Prediction.Kind?) -> Reply {
        guard let record = state.withLock({ $0.predictions[id] }), kind.map({ $0 == record.kind }) ?? true else { return .notFound() }
        return .json(200, record.json(origin: origin))
    }

    func listPredictions(_ request: Incoming, kind: FakeReplicate.Ledger.Prediction.Kind) -> Reply {
        if let text = request.query["created_after"], Timestamp.parse(text) == nil {
            return .badRequest("created_after: not an ISO 8601 date-time: \(text)")
        }
        if let text = request.query["created_before"], Timestamp.parse(text) == nil {
            return .badRequest("created_before: not an ISO 8601 date-time: \(text)")
        }
        let after = request.query["created_after"].flatMap(Timestamp.parse)
        let before = request.query["created_before"].flatMap(Timestamp.parse)
        let webOnly = request.query["source"] == "web"
        let origin = self.origin
        let items = state.withLock { state in
            state.predictions.values
                .filter { $0.kind == kind && !webOnly }
                .filter { record in after.map { record.createdAt > $0 } ?? true }
                .filter { record in before.map { record.createdAt < $0 } ?? true }
                .map { (sequence: $0.sequence, json: $0.json(origin: origin)) }
        }
        return page(items, request: request, path: kind == .training ? "/v1/trainings" : "/v1/predictions")
    }

    func cancel(_ id: String, kind: FakeReplicate.Ledger.Prediction.Kind?) -> Reply {
        let now = Date()
        let outcome = state.withLock { state -> (PredictionRecord, Task<Void, Never>?, [CheckedContinuation<Void, Never>])? in
            guard var record = state.predictions[id], kind.map({ $0 == record.kind }) ?? true else { return nil }
            guard !record.status.isTerminal else { return (record, nil, []) }
            record.status = .canceled
            record.completedAt = now
            record.output = .null
            state.predictions[id] = record
            return (record, state.tasks.removeValue(forKey: id), state.wakeable())
        }
        guard let (record, task, woken) = outcome else { return .notFound() }
        for waiter in woken { waiter.resume() }
        task?.cancel()
        return .json(200, record.json(origin: origin))
    }

    // MARK: Creating and waiting

    private func start(
        kind: FakeReplicate.Ledger.Prediction.Kind, model: String, version: String, shown: String, input: JSONObject, body: JSONObject,
        deadline: Date?, destination: String?, responseLost: Bool
    ) -> PredictionRecord {
        let now = Date()
        let record = state.withLock { state in
            var record = PredictionRecord(
                id: Identifier.prediction(), kind: kind, model: model, versionID: version, versionShown: shown, input: input,
                sequence: state.sequence(), createdAt: now)
            record.deadline = deadline
            record.webhook = body["webhook"]?.stringValue
            record.webhookEventsFilter = body["webhook_events_filter"]?.arrayValue?.compactMap(\.stringValue)
            record.destination = destination
            record.responseLost = responseLost
            state.predictions[record.id] = record
            return record
        }
        let id = record.id
        let task = Task { await self.execute(id) }
        state.withLock { state in
            if state.predictions[id]?.status.isTerminal == false { state.tasks[id] = task }
        }
        if let deadline {
            let timer = Task {
                try? await Task.sleep(for: .milliseconds(Int64(max(0, deadline.timeIntervalSinceNow) * 1000)))
                if !Task.isCancelled { self.deadlineReached(id) }
            }
            state.withLock { $0.tasks["\(id) deadline"] = timer }
        }
        return record
    }

    private func respondToCreate(_ record: PredictionRecord, wait: (seconds: Int, echo: String)?, createResponse: Bool) async -> Reply {
        guard let wait else { return .json(201, record.json(origin: origin, createResponse: createResponse)) }
        let limit = ContinuousClock.now + .seconds(wait.seconds)
        var current = record
        while ContinuousClock.now < limit {
            guard let latest = state.withLock({ $0.stopped ? nil : $0.predictions[record.id] }) else { break }
            current = latest
            if current.status.isTerminal { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        var reply = Reply.json(201, current.json(origin: origin, createResponse: createResponse))
        reply.headers.append(("Preference-Applied", wait.echo))
        return reply
    }

    /// `Cancel-After` passed: `aborted` if it never started, else `canceled`.
    private func deadlineReached(_ id: String) {
        let now = Date()
        let (task, woken) = state.withLock { state -> (Task<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            guard var record = state.predictions[id], !record.status.isTerminal else { return (nil, []) }
            record.status = record.status == .starting ? .aborted : .canceled
            record.completedAt = now
            record.output = .null
            state.predictions[id] = record
            return (state.tasks.removeValue(forKey: id), state.wakeable())
        }
        for waiter in woken { waiter.resume() }
        task?.cancel()
    }

    /// `owner/name:id`, a bare 64-hex id, or `owner/name` of an official model.
    private func resolveVersion(_ reference: String) -> (VersionRecord, String)? {
        state.withLock { state in
            if let colon = reference.firstIndex(of: ":") {
                let model = String(reference[..<colon]), id = String(reference[reference.index(after: colon)...])
                guard let version = state.versions[id], version.model == model else { return nil }
                return (version, version.id)
            }
            if let version = state.versions[reference] { return (version, version.id) }
            if let model = state.models[reference], model.isOfficial, let latest = model.versions.last, let version = state.versions[latest] {
                return (version, "hidden")
            }
            return nil
        }
    }

    /// Problems with the top level of a create body (`additionalProperties: false`, required
    /// members, member types).
    static func bodyProblems(_ body: JSONObject, allowed: Set<String>, required: [String]) -> [InvalidField] {
        var problems: [InvalidField] = []
        for key in body.keys where !allowed.contains(key) {
            problems.append(InvalidField(type: "additional_property_not_allowed", field: "(root)", description: "Additional property \(key) is not allowed"))
        }
        for key in required where body[key] == nil {
            problems.append(InvalidField(type: "required", field: "(root)", description: "\(key) is required"))
        }
        if let input = body["input"], input.objectValue == nil {
            problems.append(InvalidField(type: "invalid_type", field: "input", description: "Invalid type. Expected: object, given: \(input.schemaTypeName)"))
        }
        if let webhook = body["webhook"] {
            if let text = webhook.stringValue {
                if !InputField.isURI(text) { problems.append(InvalidField(type: "format", field: "webhook", description: "Does not match format 'uri'")) }
            } else {
                problems.append(InvalidField(type: "invalid_type", field: "webhook", description: "Invalid type. Expected: string, given: \(webhook.schemaTypeName)"))
            }
        }
        if let filter = body["webhook_events_filter"] {
            if let items = filter.arrayValue {
                for (index, item) in items.enumerated() where !["start", "output", "logs", "completed"].contains(item.stringValue ?? "") {
                    problems.append(InvalidField(
                        type: "enum", field: "webhook_events_filter.\(index)",
                        description: "webhook_events_filter.\(index) must be one of the following: \"start\", \"output\", \"logs\", \"completed\""))
                }
            } else {
                problems.append(InvalidField(type: "invalid_type", field: "webhook_events_filter", description: "Invalid type. Expected: array, given: \(filter.schemaTypeName)"))
            }
        }
        if let stream = body["stream"], stream.boolValue == nil {
            problems.append(InvalidField(type: "invalid_type", field: "stream", description: "Invalid type. Expected: boolean, given: \(stream.schemaTypeName)"))
        }
        return problems
    }

    /// `Prefer: wait` or `wait=n` (n in 1…60): how long to hold and what to echo. Other
    /// preferences, and out-of-range values, are ignored (RFC 7240).
    static func preferWait(_ header: String?) -> (seconds: Int, echo: String)? {
        guard let header else { return nil }
        for preference in header.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if preference == "wait" { return (60, "wait") }
            if preference.hasPrefix("wait="), let seconds = Int(preference.dropFirst(5)), (1...60).contains(seconds),
               String(seconds) == preference.dropFirst(5) {
                return (seconds, preference)
            }
        }
        return nil
    }

    /// `Cancel-After`: `90`, `45s`, `5m`, `1h30m45s`; at least 5 seconds.
    static func cancelAfter(_ header: String?) -> Result<Double?, ReplyError> {
        guard let header = header?.trimmingCharacters(in: .whitespaces) else { return .success(nil) }
        func invalid() -> Result<Double?, ReplyError> {
            .failure(ReplyError(.problem(
                400, title: "Invalid Cancel-After header",
                detail: "Cancel-After must be a duration of at least 5s, like 90, 45s, 5m or 1h30m45s: \(header)")))
        }
        var total = 0.0, number = "", units: Set<Character> = []
        for character in header {
            if character.isNumber || character == "." {
                number.append(character)
            } else if "hms".contains(character), let value = Double(number), !units.contains(character) {
                units.insert(character)
                total += value * (character == "h" ? 3600 : character == "m" ? 60 : 1)
                number = ""
            } else {
                return invalid()
            }
        }
        if !number.isEmpty {
            guard units.isEmpty, let value = Double(number) else { return invalid() }
            total = value
        }
        guard total >= 5 else { return invalid() }
        return .success(total)
    }
}
