import FarmKit
import Foundation

/// A local fake of the Replicate HTTP API (see `README.md` beside this file): the namespace of its
/// configuration, fault and ledger types. The server itself is `FakeReplicateServer`.
public enum FakeReplicate {
    /// Everything the fake is told at start. Every field has a default, so `Configuration()` is a
    /// fake with the seeded models, real latencies (scaled by `latencyScale`) and no faults.
    public struct Configuration: Sendable {
        /// The address to listen on: loopback only (`127.0.0.1`, `localhost` or `::1`).
        public var host = "127.0.0.1"
        /// 0 picks a free port.
        public var port = 0
        /// Accepted API tokens (`Authorization: Bearer T` or the legacy `Token T`).
        public var tokens: Set<String> = ["r8_test_token"]
        /// Tokens whose account is out of credit: creating a prediction or training gives 402.
        public var outOfCreditTokens: Set<String> = []
        /// The whole account is out of credit (every token).
        public var outOfCredit = false
        /// What `GET /v1/account` answers; `username` owns the destination models.
        public var account = Account()
        /// Multiplies every latency (model time and start-up time). Tests use small values like 0.01.
        public var latencyScale = 1.0
        /// Per model (`owner/name`): how long a prediction takes. Models not listed use `defaultLatency`.
        public var latencies: [String: Latency] = Latency.seeded
        public var defaultLatency = Latency(startup: 1, base: 5)
        /// Seconds after completion until a prediction's output files are deleted (`data_removed`).
        public var outputRetention: TimeInterval = 3600
        /// Seconds until an uploaded file expires.
        public var fileRetention: TimeInterval = 24 * 3600
        /// Largest upload accepted by `POST /v1/files` (413 above).
        public var maxFileSize = 100 * 1024 * 1024
        /// Items per page of every list endpoint.
        public var pageSize = 100
        /// At most this many predictions and trainings run at once; the rest stay `starting`.
        public var concurrencyLimit: Int? = nil
        /// Token buckets per API token.
        public var rateLimits = RateLimits()
        /// Faults active from the start (more can be injected at run time).
        public var faults = Faults()
        /// Images whose pixels all lie within this many levels (0–255) of each other have no face for
        /// Sonic (a uniform image).
        public var facelessTolerance = 6
        /// Where uploads, inputs and outputs are kept; a temporary folder (removed on stop) when nil.
        public var storageDirectory: URL? = nil
        /// The media tools the models use.
        public var ffmpeg = FFmpeg()
        /// Make the voice and face media the cheap way (the song copied as the voice, the still
        /// looped as the face), so a small machine can run many predictions at once: for benchmarks
        /// of the client, where the fake's own ffmpeg work must not be what is measured.
        public var cheapMedia = false
        /// Log level of the HTTP server's own log (standard error): trace, debug, info, notice, warning, error.
        public var logLevel = "warning"

        public init() {}
    }

    /// The account behind every accepted token.
    public struct Account: Sendable, Hashable {
        public var type = "organization"
        public var username = "farm-test"
        public var name = "Farm Test"
        public var githubURL: String? = nil

        public init(type: String = "organization", username: String = "farm-test", name: String = "Farm Test", githubURL: String? = nil) {
            self.type = type
            self.username = username
            self.name = name
            self.githubURL = githubURL
        }
    }

    /// How long one prediction of a model takes, before `latencyScale`: `startup` seconds in
    /// `starting`, then `base + perAudioSecond × seconds of input audio` in `processing` (at least as
    /// long as making the media really takes).
    public struct Latency: Sendable, Hashable {
        public var startup: Double
        public var base: Double
        public var perAudioSecond: Double

        public init(startup: Double = 1, base: Double, perAudioSecond: Double = 0) {
            self.startup = startup
            self.base = base
            self.perAudioSecond = perAudioSecond
        }

        /// Rough real-world figures for the seeded models (models.md §4.3 and §5).
        public static let seeded: [String: Latency] = [
            "black-forest-labs/flux-dev-lora": Latency(startup: 1, base: 6),
            "black-forest-labs/flux-pro-finetuned": Latency(startup: 1, base: 10),
            "farm-test/alice-flux": Latency(startup: 2, base: 8),
            "zsxkib/realistic-voice-cloning": Latency(startup: 3, base: 20, perAudioSecond: 0.5),
            "zsxkib/sonic": Latency(startup: 5, base: 30, perAudioSecond: 15),
            "replicate/fast-flux-trainer": Latency(startup: 5, base: 120),
            "replicate/train-rvc-model": Latency(startup: 5, base: 300),
            "black-forest-labs/flux-pro-trainer": Latency(startup: 5, base: 600),
        ]
    }

    /// Token buckets, per API token: a bucket holds up to a minute's worth and refills continuously.
    public struct RateLimits: Sendable, Hashable {
        /// Prediction and training creates per minute.
        public var createsPerMinute: Double = 600
        /// Every other API request per minute.
        public var othersPerMinute: Double = 3000

        public init(createsPerMinute: Double = 600, othersPerMinute: Double = 3000) {
            self.createsPerMinute = createsPerMinute
            self.othersPerMinute = othersPerMinute
        }
    }
}

extension FakeReplicate.Configuration {
    /// Reads a configuration from JSON (the `--config FILE` of `fake-replicate`). Every key is
    /// optional; unknown keys are an error. See README.md for the keys.
    public static func from(json: JSON, base: Self = Self()) throws -> Self {
        guard let object = json.objectValue else { throw ConfigurationError("the configuration must be a JSON object") }
        var config = base
        for (key, value) in object {
            switch key {
            case "host": config.host = try value.string(key)
            case "port": config.port = try value.int(key)
            case "tokens": config.tokens = Set(try value.strings(key))
            case "out_of_credit_tokens": config.outOfCreditTokens = Set(try value.strings(key))
            case "out_of_credit": config.outOfCredit = try value.bool(key)
            case "account":
                guard let account = value.objectValue else { throw ConfigurationError("account: expected an object") }
                for (field, item) in account {
                    switch field {
                    case "type": config.account.type = try item.string("account.type")
                    case "username": config.account.username = try item.string("account.username")
                    case "name": config.account.name = try item.string("account.name")
                    case "github_url": config.account.githubURL = item.isNull ? nil : try item.string("account.github_url")
                    default: throw ConfigurationError("account: unknown key \(field)")
                    }
                }
            case "latency_scale": config.latencyScale = try value.number(key)
            case "latencies":
                guard let latencies = value.objectValue else { throw ConfigurationError("latencies: expected an object") }
                for (model, item) in latencies {
                    let latency = try FakeReplicate.Latency(json: item, name: "latencies.\(model)")
                    if model == "default" { config.defaultLatency = latency } else { config.latencies[model] = latency }
                }
            case "output_retention_seconds": config.outputRetention = try value.number(key)
            case "file_retention_seconds": config.fileRetention = try value.number(key)
            case "max_file_size": config.maxFileSize = try value.int(key)
            case "page_size":
                config.pageSize = try value.int(key)
                guard config.pageSize > 0 else { throw ConfigurationError("page_size must be at least 1") }
            case "concurrency_limit": config.concurrencyLimit = value.isNull ? nil : try value.int(key)
            case "rate_limits":
                guard let limits = value.objectValue else { throw ConfigurationError("rate_limits: expected an object") }
                for (field, item) in limits {
                    switch field {
                    case "creates_per_minute": config.rateLimits.createsPerMinute = try item.number("rate_limits.creates_per_minute")
                    case "others_per_minute": config.rateLimits.othersPerMinute = try item.number("rate_limits.others_per_minute")
                    default: throw ConfigurationError("rate_limits: unknown key \(field)")
                    }
                }
            case "faults": config.faults = try FakeReplicate.Faults(json: value)
            case "faceless_tolerance": config.facelessTolerance = try value.int(key)
            case "cheap_media": config.cheapMedia = try value.bool(key)
            case "storage_directory": config.storageDirectory = URL(fileURLWithPath: try value.string(key))
            case "log_level": config.logLevel = try value.string(key)
            default: throw ConfigurationError("unknown configuration key \(key)")
            }
        }
        return config
    }
}

extension FakeReplicate.Latency {
    init(json: JSON, name: String) throws {
        guard let object = json.objectValue else { throw ConfigurationError("\(name): expected an object") }
        self.init(base: 0)
        for (key, value) in object {
            switch key {
            case "startup": startup = try value.number("\(name).startup")
            case "base": base = try value.number("\(name).base")
            case "per_audio_second": perAudioSecond = try value.number("\(name).per_audio_second")
            default: throw ConfigurationError("\(name): unknown key \(key)")
            }
        }
    }
}

/// A configuration or fault description that cannot be used.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension JSON {
    func string(_ name: String) throws -> String {
        guard let value = stringValue else { throw ConfigurationError("\(name): expected a string, got \(compactString)") }
        return value
    }

    func int(_ name: String) throws -> Int {
        guard let value = intValue else { throw ConfigurationError("\(name): expected an integer, got \(compactString)") }
        return value
    }

    func number(_ name: String) throws -> Double {
        guard let value = doubleValue else { throw ConfigurationError("\(name): expected a number, got \(compactString)") }
        return value
    }

    func bool(_ name: String) throws -> Bool {
        guard let value = boolValue else { throw ConfigurationError("\(name): expected true or false, got \(compactString)") }
        return value
    }

    func strings(_ name: String) throws -> [String] {
        guard let items = arrayValue else { throw ConfigurationError("\(name): expected an array of strings") }
        return try items.map { try $0.string(name) }
    }
}
