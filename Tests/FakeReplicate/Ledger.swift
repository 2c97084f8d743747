import FarmKit
import Foundation

extension FakeReplicate {
    /// Everything the fake was asked to do, for tests and benchmarks to assert on: every prediction
    /// and training created (also those whose response was lost), every upload, request counts by
    /// route and every fault that fired.
    public struct Ledger: Sendable {
        public struct Prediction: Sendable, Hashable {
            public enum Kind: String, Sendable, Hashable { case prediction, training }
            public let id: String
            public let kind: Kind
            /// `owner/name`.
            public let model: String
            /// The 64-hex id of the version that ran (also for official models run by name).
            public let version: String
            /// The input as the client sent it.
            public let input: JSON
            public let status: String
            public let error: String?
            public let createdAt: Date
            public let startedAt: Date?
            public let completedAt: Date?
            /// Trainings: the destination model.
            public let destination: String?
            /// The prediction was created but its create response was dropped by a fault.
            public let responseLost: Bool
        }

        public struct File: Sendable, Hashable {
            public let id: String
            public let name: String
            public let contentType: String
            public let size: Int
            public let sha256: String
            public let createdAt: Date
            public let deleted: Bool
        }

        public struct FaultRecord: Sendable, Hashable {
            public let date: Date
            /// `METHOD /path/with/{placeholders}`.
            public let route: String
            public let requestClass: RequestClass
            public let fault: Fault
        }

        /// Predictions in creation order.
        public let predictions: [Prediction]
        /// Trainings in creation order.
        public let trainings: [Prediction]
        /// Uploads in upload order.
        public let files: [File]
        /// `METHOD /path/with/{placeholders}` → number of requests (all of them, also refused ones).
        public let requests: [String: Int]
        public let faults: [FaultRecord]
        /// Requests the rate limits refused with 429 (faults' 429s are in `faults`).
        public let throttled: Int

        /// The predictions of model `owner/name`.
        public func predictions(of model: String) -> [Prediction] { predictions.filter { $0.model == model } }

        /// How many requests `route` (`"POST /v1/files"`) had.
        public func requests(_ route: String) -> Int { requests[route] ?? 0 }

        public var json: JSON {
            .object(JSONObject([
                ("predictions", .array(predictions.map(\.json))),
                ("trainings", .array(trainings.map(\.json))),
                ("files", .array(files.map(\.json))),
                ("requests", .object(JSONObject(requests.sorted { $0.key < $1.key }.map { ($0.key, .integer(Int64($0.value))) }))),
                ("faults", .array(faults.map(\.json))),
                ("throttled", .integer(Int64(throttled))),
            ]))
        }
    }
}

extension FakeReplicate.Ledger.Prediction {
    var json: JSON {
        .object(JSONObject([
            ("id", .string(id)), ("kind", .string(kind.rawValue)), ("model", .string(model)), ("version", .string(version)),
            ("input", input), ("status", .string(status)), ("error", error.map(JSON.string) ?? .null),
            ("created_at", .string(Timestamp.format(createdAt))),
            ("started_at", startedAt.map { .string(Timestamp.format($0)) } ?? .null),
            ("completed_at", completedAt.map { .string(Timestamp.format($0)) } ?? .null),
            ("destination", destination.map(JSON.string) ?? .null),
            ("response_lost", .bool(responseLost)),
        ]))
    }
}

extension FakeReplicate.Ledger.File {
    var json: JSON {
        .object(JSONObject([
            ("id", .string(id)), ("name", .string(name)), ("content_type", .string(contentType)),
            ("size", .integer(Int64(size))), ("sha256", .string(sha256)),
            ("created_at", .string(Timestamp.format(createdAt))), ("deleted", .bool(deleted)),
        ]))
    }
}

extension FakeReplicate.Ledger.FaultRecord {
    var json: JSON {
        .object(JSONObject([
            ("date", .string(Timestamp.format(date))), ("route", .string(route)),
            ("class", .string(requestClass.rawValue)), ("fault", .string(fault.name)),
        ]))
    }
}
