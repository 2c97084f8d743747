import FarmKit
import Foundation

/// `/_fake/…`: the ledger and fault injection for tests and benchmarks (no token needed).
extension Engine {
    func admin(_ request: Incoming) async -> Reply {
        let path = request.segments.dropFirst().joined(separator: "/")
        switch (request.method, path) {
        case ("GET", "ledger"):
            return .json(200, ledger().json)
        case ("GET", "faults"):
            return .json(200, state.withLock { $0.faults.faults.json })
        case ("POST", "faults"):
            let body: JSON
            do {
                body = try JSON.parse(String(decoding: request.body, as: UTF8.self), source: "faults")
                let faults = try FakeReplicate.Faults(json: body)
                let replace = body["replace"]?.boolValue ?? false
                let active = state.withLock { state in
                    if replace { state.faults.replace(with: faults) } else { state.faults.add(faults) }
                    return state.faults.faults
                }
                return .json(200, active.json)
            } catch let error as JSONParseError {
                return .badRequest("JSON parse error - \(error.message)")
            } catch {
                return .badRequest("\(error)")
            }
        case ("DELETE", "faults"):
            state.withLock { $0.faults.replace(with: FakeReplicate.Faults()) }
            return Reply(status: 204)
        case ("PUT", _) where request.segments.count == 3 && request.segments[1] == "public",
             ("POST", _) where request.segments.count == 3 && request.segments[1] == "public":
            do {
                let url = try publish(request.body, as: request.segments[2])
                return .json(201, .object(JSONObject([("url", .string(url.absoluteString)), ("size", .integer(Int64(request.body.count)))])))
            } catch {
                return .badRequest("\(error)")
            }
        case ("GET", "health"):
            return .json(200, .object(JSONObject([("ok", true), ("base_url", .string("\(origin)/v1"))])))
        default:
            return .notFound("Admin endpoints: GET /_fake/ledger, GET|POST|DELETE /_fake/faults, PUT /_fake/public/NAME, GET /_fake/health")
        }
    }

    func inject(_ faults: FakeReplicate.Faults) {
        state.withLock { $0.faults.add(faults) }
    }

    func ledger() -> FakeReplicate.Ledger {
        state.withLock { state in
            let records = state.predictions.values.sorted { $0.sequence < $1.sequence }
            return FakeReplicate.Ledger(
                predictions: records.filter { $0.kind == .prediction }.map(\.ledgerEntry),
                trainings: records.filter { $0.kind == .training }.map(\.ledgerEntry),
                files: state.files.values.sorted { $0.sequence < $1.sequence }.map(\.ledgerEntry),
                requests: state.requests, faults: state.faultRecords, throttled: state.throttled)
        }
    }

    /// Stops every run: nothing runs after the server has stopped.
    func shutdown() async {
        let (tasks, woken) = state.withLock { state -> ([Task<Void, Never>], [CheckedContinuation<Void, Never>]) in
            state.stopped = true
            defer { state.tasks.removeAll() }
            return (Array(state.tasks.values), state.wakeable())
        }
        for waiter in woken { waiter.resume() }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
