import FarmKit
import Foundation
import NIOCore
import Synchronization

/// Everything the fake knows, behind one lock.
struct State: Sendable {
    var predictions: [String: PredictionRecord] = [:]
    var nextSequence = 0
    var files: [String: FileRecord] = [:]
    var models: [String: ModelRecord] = [:]
    var modelOrder: [String] = []
    var versions: [String: VersionRecord] = [:]
    var deliveries: [String: DeliveryRecord] = [:]
    var requests: [String: Int] = [:]
    var faultRecords: [FakeReplicate.Ledger.FaultRecord] = []
    /// Requests refused with 429 by the rate limits (not by a fault).
    var throttled = 0
    var faults: FaultBook
    var buckets: [String: TokenBucket] = [:]
    /// Predictions holding a run slot, and those waiting for one (first come, first served).
    var running: Set<String> = []
    var queue: [String] = []
    /// Queued predictions asleep until their turn may have come.
    var slotWaiters: [String: CheckedContinuation<Void, Never>] = [:]
    var tasks: [String: Task<Void, Never>] = [:]
    /// zsxkib/sonic's worker keeps the last seed it was given (models.md §4.2).
    var sonicSeed = 72589
    var finetunes: Set<String> = []
    /// Files at `/public/NAME`: a stand-in for public storage (a bucket, a Hugging Face link).
    var publicFiles: [String: URL] = [:]
    var stopped = false

    mutating func sequence() -> Int {
        nextSequence += 1
        return nextSequence
    }

    /// Wakes the waiters that may proceed now: the head of the queue, and any that ended.
    /// Resume the returned continuations outside the lock.
    mutating func wakeable() -> [CheckedContinuation<Void, Never>] {
        let ids = slotWaiters.keys.filter { id in id == queue.first || stopped || predictions[id]?.status != .starting }
        return ids.compactMap { slotWaiters.removeValue(forKey: $0) }
    }
}

/// One parsed request.
struct Incoming: Sendable {
    let method: String
    let path: String
    let segments: [String]
    let query: [String: String]
    let headers: [String: String]
    let body: Data

    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// The fake: routes, state, prediction runs. `FakeReplicateServer` puts it behind Hummingbird.
final class Engine: Sendable {
    let configuration: FakeReplicate.Configuration
    let media: OfflineMedia
    let storage: URL
    let ownsStorage: Bool
    let state: Mutex<State>
    private let originStore = Mutex("")

    init(configuration: FakeReplicate.Configuration) {
        self.configuration = configuration
        media = OfflineMedia(ffmpeg: configuration.ffmpeg, cheap: configuration.cheapMedia)
        if let folder = configuration.storageDirectory {
            storage = folder
            ownsStorage = false
        } else {
            storage = FileManager.default.temporaryDirectory.appendingPathComponent("fake-replicate-\(UUID().uuidString)")
            ownsStorage = true
        }
        var initial = State(faults: FaultBook(configuration.faults))
        let seeded = Catalog.seed(account: configuration.account.username, now: Date())
        for model in seeded.models {
            initial.models[model.key] = model
            initial.modelOrder.append(model.key)
        }
        for version in seeded.versions { initial.versions[version.id] = version }
        state = Mutex(initial)
    }

    /// Makes the storage folders.
    func prepareStorage() throws {
        for folder in ["files", "delivery", "work", "voices", "public"] {
            try FileManager.default.createDirectory(at: storage.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
    }

    /// `http://127.0.0.1:PORT`, once listening.
    var origin: String { originStore.withLock { $0 } }

    func setOrigin(_ origin: String) { originStore.withLock { $0 = origin } }

    func scaled(_ seconds: Double) -> Duration {
        .milliseconds(Int64((max(0, seconds * configuration.latencyScale) * 1000).rounded()))
    }

    // MARK: Requests

    /// Answers one request; throws `ConnectionDropped` after closing `channel` for a fault.
    func handle(_ request: Incoming, channel: any Channel) async throws -> (Reply, truncate: Bool) {
        if request.segments.first == "_fake" { return (await admin(request), false) }
        let route = Route.match(method: request.method, segments: request.segments)
        let now = Date()
        let expired = state.withLock { state in
            state.requests[route.key, default: 0] += 1
            return sweep(&state, now: now)
        }
        remove(expired)

        var responseLost = false
        var truncate = false
        if let requestClass = route.requestClass {
            let fault = state.withLock { state -> FakeReplicate.Fault? in
                guard let fault = state.faults.draw(for: requestClass) else { return nil }
                state.faultRecords.append(.init(date: now, route: route.key, requestClass: requestClass, fault: fault))
                return fault
            }
            switch fault {
            case .rateLimited(let seconds)?: return (Reply.throttled(retryAfter: seconds), false)
            case .serverError(let status)?: return (Reply.serverError(status), false)
            case .dropConnection?:
                channel.close(promise: nil)
                throw ConnectionDropped()
            case .slow(let seconds)?: try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            case .responseLost?: responseLost = true
            case .truncated?: truncate = true
            case .inputRejected(let field, let description)?:
                return (Reply.validationFailed([InvalidField(type: "invalid_input", field: field, description: description)]), false)
            case nil: break
            }
        }

        var reply: Reply
        switch route.action {
        case .notFound:
            reply = route.isAPI ? .notFound("The requested resource could not be found.") : .notFound()
            if route.isAPI, authenticate(request) == nil { reply = .unauthenticated() }
        case .methodNotAllowed(let allowed):
            reply = .methodNotAllowed(request.method, allowed: allowed)
        case .delivery(let token):
            reply = delivery(token: token, head: request.method == "HEAD")
        case .publicFile(let name):
            reply = publicFile(name, head: request.method == "HEAD")
        case .webPage(let id):
            reply = webPage(id)
        default:
            guard let token = authenticate(request) else { return (.unauthenticated(), false) }
            var remaining: Int?
            if let bucket = route.bucket {
                switch takeToken(token, bucket: bucket) {
                case .success(let left): remaining = left
                case .failure(let retry):
                    state.withLock { $0.throttled += 1 }
                    var throttled = Reply.throttled(retryAfter: retry.seconds)
                    throttled.headers += [("ratelimit-remaining", "0"), ("ratelimit-reset", "\(retry.seconds)")]
                    return (throttled, false)
                }
            }
            reply = await perform(route.action, request, token: token, responseLost: responseLost)
            if let remaining, route.requestClass != .files {
                reply.headers += [("ratelimit-remaining", "\(remaining)"), ("ratelimit-reset", "1")]
            }
        }
        if responseLost {
            channel.close(promise: nil)
            throw ConnectionDropped()
        }
        return (reply, truncate)
    }

    private func perform(_ action: Route.Action, _ request: Incoming, token: String, responseLost: Bool) async -> Reply {
        switch action {
        case .account: return account()
        case .hardware: return hardware()
        case .createFile: return createFile(request)
        case .listFiles: return listFiles(request)
        case .getFile(let id): return getFile(id)
        case .deleteFile(let id): return deleteFile(id)
        case .createPrediction(let model): return await createPrediction(request, model: model, token: token, responseLost: responseLost)
        case .listPredictions: return listPredictions(request, kind: .prediction)
        case .getPrediction(let id): return getPrediction(id, kind: nil)
        case .cancelPrediction(let id): return cancel(id, kind: nil)
        case .createModel: return createModel(request)
        case .listModels: return listModels(request)
        case .getModel(let key): return getModel(key)
        case .listVersions(let key): return listVersions(request, model: key)
        case .getVersion(let key, let id): return getVersion(model: key, id: id)
        case .createTraining(let key, let version): return createTraining(request, model: key, version: version, token: token, responseLost: responseLost)
        case .listTrainings: return listPredictions(request, kind: .training)
        case .getTraining(let id): return getPrediction(id, kind: .training)
        case .cancelTraining(let id): return cancel(id, kind: .training)
        case .notFound, .methodNotAllowed, .delivery, .publicFile, .webPage: return .notFound()
        }
    }

    /// The token of a valid `Authorization: Bearer T` (or `Token T`) header.
    private func authenticate(_ request: Incoming) -> String? {
        guard let header = request.header("authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1).map(String.init)
        guard parts.count == 2, ["bearer", "token"].contains(parts[0].lowercased()) else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return configuration.tokens.contains(token) || configuration.outOfCreditTokens.contains(token) ? token : nil
    }

    func isOutOfCredit(_ token: String) -> Bool {
        configuration.outOfCredit || configuration.outOfCreditTokens.contains(token)
    }

    private func takeToken(_ token: String, bucket: Route.Bucket) -> Result<Int, TokenBucket.RetryAfter> {
        let capacity = bucket == .create ? configuration.rateLimits.createsPerMinute : configuration.rateLimits.othersPerMinute
        let now = ContinuousClock.now
        return state.withLock { state in
            let key = "\(token) \(bucket)"
            var entry = state.buckets[key] ?? TokenBucket(capacity: capacity, now: now)
            let result = entry.take(now: now)
            state.buckets[key] = entry
            return result
        }
    }

    // MARK: Expiry

    /// Removes outputs past their retention and uploads past their expiry; returns the paths to delete.
    func sweep(_ state: inout State, now: Date) -> [URL] {
        var doomed: [URL] = []
        for (id, record) in state.predictions where record.status.isTerminal && !record.dataRemoved {
            guard let completed = record.completedAt, now.timeIntervalSince(completed) >= configuration.outputRetention else { continue }
            state.predictions[id]?.dataRemoved = true
            state.predictions[id]?.output = .null
            for token in record.deliveries {
                if let delivery = state.deliveries.removeValue(forKey: token) { doomed.append(delivery.path.deletingLastPathComponent()) }
            }
        }
        for (id, file) in state.files where !file.deleted && file.expiresAt <= now {
            state.files[id]?.deleted = true
            doomed.append(file.path)
        }
        return doomed
    }

    func remove(_ paths: [URL]) {
        for path in paths { try? FileManager.default.removeItem(at: path) }
    }

    // MARK: Account, hardware, web page, delivery

    private func account() -> Reply {
        let account = configuration.account
        return .json(200, .object(JSONObject([
            ("type", .string(account.type)), ("username", .string(account.username)), ("name", .string(account.name)),
            ("github_url", account.githubURL.map(JSON.string) ?? .null),
            ("avatar_url", .string("\(origin)/avatars/\(account.username).png")),
        ])))
    }

    private func hardware() -> Reply {
        .json(200, .array(Catalog.hardware.map { .object(JSONObject([("sku", .string($0.0)), ("name", .string($0.1))])) }))
    }

    private func webPage(_ id: String) -> Reply {
        guard let record = state.withLock({ $0.predictions[id] }) else { return .notFound() }
        let text = "\(record.kind.rawValue) \(record.id) of \(record.model): \(record.status.rawValue)\n"
        return Reply(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Data(text.utf8))
    }

    private func delivery(token: String, head: Bool) -> Reply {
        guard let record = state.withLock({ $0.deliveries[token] }),
              let data = try? Data(contentsOf: record.path)
        else { return .problem(404, title: nil, detail: "Not found", includeStatus: false) }
        return Reply(
            status: 200,
            headers: [("Content-Type", contentType(forName: record.name)), ("Cache-Control", "private, max-age=3600")],
            body: head ? Data() : data)
    }

    private func publicFile(_ name: String, head: Bool) -> Reply {
        guard let path = state.withLock({ $0.publicFiles[name] }), let data = try? Data(contentsOf: path) else {
            return Reply(status: 404, headers: [("Content-Type", "text/plain")], body: Data("Not Found\n".utf8))
        }
        return Reply(status: 200, headers: [("Content-Type", contentType(forName: name))], body: head ? Data() : data)
    }

    /// Keeps `data` at `/public/NAME` until the server stops; its URL.
    func publish(_ data: Data, as name: String) throws -> URL {
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw ConfigurationError("a public file name is one path segment: \(name)")
        }
        let path = storage.appendingPathComponent("public").appendingPathComponent(name)
        try data.write(to: path)
        state.withLock { $0.publicFiles[name] = path }
        return URL(string: "\(origin)/public/\(name.percentEncodedSegment)")!
    }

    // MARK: Pagination

    /// One page of `items` (newest first, by sequence) for a list endpoint at `path`.
    func page(_ items: [(sequence: Int, json: JSON)], request: Incoming, path: String) -> Reply {
        let sorted = items.sorted { $0.sequence > $1.sequence }
        let size = configuration.pageSize
        var selected: [(sequence: Int, json: JSON)]
        var hasNewer = false, hasOlder = false
        let cursor = request.query["cursor"].flatMap(Cursor.init(encoded:))
        switch cursor {
        case nil:
            selected = Array(sorted.prefix(size))
            hasOlder = sorted.count > size
        case .older(let position)?:
            let older = sorted.filter { $0.sequence < position }
            selected = Array(older.prefix(size))
            hasOlder = older.count > size
            hasNewer = sorted.contains { $0.sequence >= position }
        case .newer(let position)?:
            let newer = sorted.filter { $0.sequence > position }
            selected = Array(newer.suffix(size))
            hasNewer = newer.count > size
            hasOlder = sorted.contains { $0.sequence <= position }
        }
        func link(_ cursor: Cursor) -> JSON {
            var query = request.query
            query["cursor"] = cursor.encoded
            let text = query.sorted { $0.key < $1.key }.map { "\($0.key.percentEncodedSegment)=\($0.value.percentEncodedSegment)" }
            return .string("\(origin)\(path)?\(text.joined(separator: "&"))")
        }
        let next = hasOlder && !selected.isEmpty ? link(.older(selected.last!.sequence)) : .null
        let previous = hasNewer && !selected.isEmpty ? link(.newer(selected.first!.sequence)) : .null
        return .json(200, .object(JSONObject([("previous", previous), ("next", next), ("results", .array(selected.map(\.json)))])))
    }

    /// A list cursor as Django REST framework writes them: base64 of `p=POSITION` (older items)
    /// or `r=1&p=POSITION` (newer items).
    enum Cursor {
        case older(Int)
        case newer(Int)

        init?(encoded: String) {
            var text = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while text.count % 4 != 0 { text += "=" }
            guard let data = Data(base64Encoded: text) else { return nil }
            let items = parseQuery(String(decoding: data, as: UTF8.self))
            guard let position = items["p"].flatMap(Int.init) else { return nil }
            self = items["r"] == "1" ? .newer(position) : .older(position)
        }

        var encoded: String {
            let text = switch self {
            case .older(let position): "p=\(position)"
            case .newer(let position): "r=1&p=\(position)"
            }
            return Data(text.utf8).base64EncodedString()
        }
    }

    // MARK: Bodies

    /// The body as a JSON object, or the 400 to answer.
    func jsonObject(_ request: Incoming) -> Result<JSONObject, ReplyError> {
        guard !request.body.isEmpty else { return .failure(ReplyError(.badRequest("Request body must be a JSON object"))) }
        do {
            let value = try JSON.parse(String(decoding: request.body, as: UTF8.self), source: "request body")
            guard let object = value.objectValue else {
                return .failure(ReplyError(.badRequest("Request body must be a JSON object, not \(value.typeName)")))
            }
            return .success(object)
        } catch {
            return .failure(ReplyError(.badRequest("JSON parse error - \(error.message)")))
        }
    }
}

/// A reply carried as an error.
struct ReplyError: Error {
    let reply: Reply
    init(_ reply: Reply) { self.reply = reply }
}
