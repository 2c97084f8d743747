import FarmKit
import Foundation

extension FakeReplicate {
    /// The kinds of API request a fault can target.
    public enum RequestClass: String, Sendable, Hashable, CaseIterable {
        /// Creating a prediction, a training or a model.
        case create
        /// Reading one object: a prediction, training, model, version, the account, the hardware list.
        case get
        /// Listing predictions, trainings, models or versions.
        case list
        /// Every `/v1/files` request: upload, list, get, delete.
        case files
        /// Downloading an output from a `/delivery/…` URL.
        case delivery
        /// Canceling a prediction or training.
        case cancel
    }

    /// What goes wrong with one request.
    public enum Fault: Sendable, Hashable {
        /// 429 with `Retry-After: seconds` and the real throttle body.
        case rateLimited(retryAfter: Int)
        /// A 5xx with a problem body (500, 502, 503, …).
        case serverError(status: Int)
        /// The connection is closed before any byte of the response.
        case dropConnection
        /// The request is carried out (a prediction IS created, a file IS stored), then the
        /// connection is closed without the response.
        case responseLost
        /// The response is held back this long, then sent normally.
        case slow(seconds: Double)
        /// The response head announces the full `Content-Length` but only half the body is sent,
        /// then the connection is closed.
        case truncated
        /// 422 `Input validation failed` with one `invalid_fields` entry, as when the version's
        /// schema refuses an input that a client's own check let through (a schema changed since).
        case inputRejected(field: String, description: String)

        /// The name used in JSON and the ledger.
        public var name: String {
            switch self {
            case .rateLimited: "rate_limited"
            case .serverError: "server_error"
            case .dropConnection: "drop_connection"
            case .responseLost: "response_lost"
            case .slow: "slow"
            case .truncated: "truncated"
            case .inputRejected: "input_rejected"
            }
        }
    }

    /// A fault for some requests of one class: the next `count` of them (deterministic), each with
    /// `probability`, both (each with `probability` until `count` happened), or, with neither, all.
    public struct FaultRule: Sendable, Hashable {
        public var requestClass: RequestClass
        public var fault: Fault
        public var probability: Double?
        public var count: Int?

        public init(_ requestClass: RequestClass, _ fault: Fault, probability: Double? = nil, count: Int? = nil) {
            self.requestClass = requestClass
            self.fault = fault
            self.probability = probability
            self.count = count
        }

        /// The next `count` requests of `requestClass` get `fault`.
        public static func next(_ count: Int, _ requestClass: RequestClass, _ fault: Fault) -> FaultRule {
            FaultRule(requestClass, fault, count: count)
        }
    }

    /// Predictions (or trainings) that fail once they are processing, with `error` as their error,
    /// or (`status: .aborted`) are aborted when they would start, never processing: of `model`
    /// (`owner/name`, any model when nil), the next `count` and/or with `probability`.
    public struct PredictionFailure: Sendable, Hashable {
        /// How the prediction ends.
        public enum Status: String, Sendable, Hashable { case failed, aborted }

        public var model: String?
        public var error: String
        public var status: Status
        public var probability: Double?
        public var count: Int?

        public init(
            model: String? = nil, error: String = "CUDA error: an illegal memory access was encountered", status: Status = .failed,
            probability: Double? = nil, count: Int? = nil
        ) {
            self.model = model
            self.error = error
            self.status = status
            self.probability = probability
            self.count = count
        }
    }

    /// A set of faults: request rules, checked in order (the first that fires wins), and prediction
    /// failures. Probabilities draw from a generator seeded with `seed`, so a run is repeatable.
    public struct Faults: Sendable, Hashable {
        public var rules: [FaultRule]
        public var failures: [PredictionFailure]
        public var seed: UInt64

        public init(rules: [FaultRule] = [], failures: [PredictionFailure] = [], seed: UInt64 = 1) {
            self.rules = rules
            self.failures = failures
            self.seed = seed
        }

        public var isEmpty: Bool { rules.isEmpty && failures.isEmpty }
    }
}

extension FakeReplicate.Faults {
    /// Reads faults from JSON (the admin endpoint's body and the configuration's `faults`):
    /// `{"rules": [{"class": "create", "fault": "rate_limited", "retry_after": 2, "count": 1}, …],
    ///   "failures": [{"model": "zsxkib/sonic", "error": "…", "probability": 0.5}], "seed": 7}`.
    public init(json: JSON) throws {
        guard let object = json.objectValue else { throw ConfigurationError("faults: expected an object") }
        self.init()
        for (key, value) in object {
            switch key {
            case "rules":
                guard let items = value.arrayValue else { throw ConfigurationError("faults.rules: expected an array") }
                rules = try items.enumerated().map { try FakeReplicate.FaultRule(json: $1, name: "faults.rules[\($0)]") }
            case "failures":
                guard let items = value.arrayValue else { throw ConfigurationError("faults.failures: expected an array") }
                failures = try items.enumerated().map { try FakeReplicate.PredictionFailure(json: $1, name: "faults.failures[\($0)]") }
            case "seed":
                guard let seed = value.intValue, seed >= 0 else { throw ConfigurationError("faults.seed: expected a non-negative integer") }
                self.seed = UInt64(seed)
            case "replace": break  // read by the admin endpoint
            default: throw ConfigurationError("faults: unknown key \(key)")
            }
        }
    }

    public var json: JSON {
        .object(JSONObject([
            ("rules", .array(rules.map(\.json))),
            ("failures", .array(failures.map(\.json))),
            ("seed", .integer(Int64(truncatingIfNeeded: seed))),
        ]))
    }
}

extension FakeReplicate.FaultRule {
    init(json: JSON, name: String) throws {
        guard let object = json.objectValue else { throw ConfigurationError("\(name): expected an object") }
        guard let classText = object["class"]?.stringValue, let requestClass = FakeReplicate.RequestClass(rawValue: classText) else {
            let names = FakeReplicate.RequestClass.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError("\(name).class: expected one of \(names)")
        }
        let fault: FakeReplicate.Fault
        switch object["fault"]?.stringValue {
        case "rate_limited": fault = .rateLimited(retryAfter: try object["retry_after"]?.int("\(name).retry_after") ?? 1)
        case "server_error": fault = .serverError(status: try object["status"]?.int("\(name).status") ?? 500)
        case "drop_connection": fault = .dropConnection
        case "response_lost": fault = .responseLost
        case "slow": fault = .slow(seconds: try object["seconds"]?.number("\(name).seconds") ?? 1)
        case "truncated": fault = .truncated
        case "input_rejected":
            fault = .inputRejected(field: try object["field"]?.string("\(name).field") ?? "input",
                                   description: try object["description"]?.string("\(name).description") ?? "Invalid input")
        default:
            throw ConfigurationError(
                "\(name).fault: expected rate_limited, server_error, drop_connection, response_lost, slow, truncated or input_rejected")
        }
        if case .serverError(let status) = fault, !(500...599).contains(status) {
            throw ConfigurationError("\(name).status: a server error is 500…599")
        }
        let known: Set = ["class", "fault", "retry_after", "status", "seconds", "field", "description", "probability", "count"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw ConfigurationError("\(name): unknown key \(unknown)")
        }
        self.init(
            requestClass, fault, probability: try object["probability"]?.probability("\(name).probability"),
            count: try object["count"]?.int("\(name).count"))
    }

    var json: JSON {
        var object = JSONObject([("class", .string(requestClass.rawValue)), ("fault", .string(fault.name))])
        switch fault {
        case .rateLimited(let seconds): object["retry_after"] = .integer(Int64(seconds))
        case .serverError(let status): object["status"] = .integer(Int64(status))
        case .slow(let seconds): object["seconds"] = .double(seconds)
        case .inputRejected(let field, let description):
            object["field"] = .string(field)
            object["description"] = .string(description)
        default: break
        }
        if let probability { object["probability"] = .double(probability) }
        if let count { object["count"] = .integer(Int64(count)) }
        return .object(object)
    }
}

extension FakeReplicate.PredictionFailure {
    init(json: JSON, name: String) throws {
        guard let object = json.objectValue else { throw ConfigurationError("\(name): expected an object") }
        let known: Set = ["model", "error", "status", "probability", "count"]
        if let unknown = object.keys.first(where: { !known.contains($0) }) {
            throw ConfigurationError("\(name): unknown key \(unknown)")
        }
        self.init(
            model: try object["model"]?.string("\(name).model"),
            error: try object["error"]?.string("\(name).error") ?? "CUDA error: an illegal memory access was encountered",
            status: try object["status"].map { value in
                guard let status = Status(rawValue: try value.string("\(name).status")) else {
                    throw ConfigurationError("\(name).status: expected failed or aborted")
                }
                return status
            } ?? .failed,
            probability: try object["probability"]?.probability("\(name).probability"),
            count: try object["count"]?.int("\(name).count"))
    }

    var json: JSON {
        var object = JSONObject([("error", .string(error))])
        if status != .failed { object["status"] = .string(status.rawValue) }
        if let model { object["model"] = .string(model) }
        if let probability { object["probability"] = .double(probability) }
        if let count { object["count"] = .integer(Int64(count)) }
        return .object(object)
    }
}

extension JSON {
    fileprivate func probability(_ name: String) throws -> Double {
        let value = try number(name)
        guard (0...1).contains(value) else { throw ConfigurationError("\(name): a probability is 0…1") }
        return value
    }
}

/// The active faults and the generator their probabilities draw from. Not thread-safe: the server
/// keeps it inside its state lock.
struct FaultBook {
    private(set) var faults = FakeReplicate.Faults()
    private var random = SplitMix64(seed: 1)

    init(_ faults: FakeReplicate.Faults) {
        replace(with: faults)
    }

    mutating func replace(with faults: FakeReplicate.Faults) {
        self.faults = faults
        random = SplitMix64(seed: faults.seed)
    }

    mutating func add(_ more: FakeReplicate.Faults) {
        faults.rules += more.rules
        faults.failures += more.failures
        if more.seed != faults.seed {
            faults.seed = more.seed
            random = SplitMix64(seed: more.seed)
        }
    }

    /// The fault for one request of `requestClass`, if a rule fires; spends one of its count.
    mutating func draw(for requestClass: FakeReplicate.RequestClass) -> FakeReplicate.Fault? {
        for index in faults.rules.indices where faults.rules[index].requestClass == requestClass {
            let rule = faults.rules[index]
            if let probability = rule.probability, random.unit() >= probability { continue }
            if let count = rule.count {
                if count <= 1 { faults.rules.remove(at: index) } else { faults.rules[index].count = count - 1 }
            }
            return rule.fault
        }
        return nil
    }

    /// The error a prediction of `model` fails with, if a failure fires; spends one of its count.
    mutating func failure(for model: String) -> String? {
        ending(model, as: .failed)
    }

    /// Whether a prediction of `model` is aborted before it starts; spends one of a rule's count.
    mutating func abort(for model: String) -> Bool {
        ending(model, as: .aborted) != nil
    }

    private mutating func ending(_ model: String, as status: FakeReplicate.PredictionFailure.Status) -> String? {
        for index in faults.failures.indices
        where faults.failures[index].status == status && faults.failures[index].model.map({ $0 == model }) ?? true {
            let failure = faults.failures[index]
            if let probability = failure.probability, random.unit() >= probability { continue }
            if let count = failure.count {
                if count <= 1 { faults.failures.remove(at: index) } else { faults.failures[index].count = count - 1 }
            }
            return failure.error
        }
        return nil
    }
}

/// SplitMix64: the same sequence for the same seed everywhere.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in 0..<1.
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
