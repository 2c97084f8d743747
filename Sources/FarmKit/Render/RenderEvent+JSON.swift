/// The JSON form of render events: one object per event, as `farm render --json` prints them and
/// `farm serve` streams them.
extension RenderEvent {
    public var json: JSON {
        var line = JSONObject()
        switch self {
        case .started(let runID, let profile, let subject, let stages):
            line["event"] = "started"
            line["run"] = .string(runID)
            line["profile"] = .string(profile)
            line["subject"] = .string(subject)
            line["stages"] = .array(stages.map(\.json))
        case .stage(let name, let status, let seconds, let error):
            line["event"] = "stage"
            line["stage"] = .string(name)
            line["status"] = .string(status.rawValue)
            line["seconds"] = seconds.map(JSON.double)
            line["error"] = error.map(JSON.string)
        case .progress(let name, let fraction, let message):
            line["event"] = "progress"
            line["stage"] = .string(name)
            line["fraction"] = fraction.map(JSON.double) ?? .null
            line["message"] = .string(message)
        case .chunks(let name, let done, let total, let cached):
            line["event"] = "chunks"
            line["stage"] = .string(name)
            line["done"] = .integer(Int64(done))
            line["total"] = .integer(Int64(total))
            line["cached"] = .integer(Int64(cached))
        case .log(let name, let text):
            line["event"] = "log"
            line["stage"] = .string(name)
            line["line"] = .string(text)
        case .download(let name, let received, let total):
            line["event"] = "download"
            line["stage"] = .string(name)
            line["received"] = .integer(received)
            line["total"] = total.map(JSON.integer) ?? .null
            line["fraction"] = total.flatMap { $0 > 0 ? .double(min(1, Double(received) / Double($0))) : nil } ?? .null
        case .note(let name, let message):
            line["event"] = "note"
            line["stage"] = .string(name)
            line["message"] = .string(message)
        case .finished(let summary):
            line["event"] = "finished"
            line["run"] = .string(summary.runID)
            line["status"] = .string(summary.status.rawValue)
            line["output"] = summary.output.map(JSON.string) ?? .null
            line["seconds"] = .double(summary.seconds)
            var stages = JSONObject()
            for stage in summary.stages {
                var entry: JSONObject = JSONObject([("status", .string(stage.status.rawValue)), ("cached", .bool(stage.cached)),
                                                    ("seconds", .double(stage.seconds)), ("provider", .string(stage.provider))])
                entry["error"] = stage.error.map(JSON.string)
                entry["hint"] = stage.hint.map(JSON.string)
                entry["predict_time"] = stage.metadata["predict_time"]
                entry["estimated_cost_usd"] = stage.metadata["estimated_cost_usd"]
                entry["prediction"] = stage.metadata["prediction"]
                entry["chunks"] = stage.metadata["chunks"]
                entry["chunks_cached"] = stage.metadata["chunks_cached"]
                entry["scenes"] = stage.metadata["scenes"]
                stages[stage.name] = .object(entry)
            }
            line["stages"] = .object(stages)
            if let failed = summary.stages.first(where: { $0.status == .failed }) {
                line["error"] = .string("stage \(failed.name) failed: \(failed.error ?? "unknown error")")
                line["hint"] = failed.hint.map(JSON.string)
            }
            line["estimated_cost_usd"] = summary.estimatedCost.map(JSON.double)
            line["exit_code"] = .integer(Int64(summary.exitCode))
        }
        return .object(line)
    }

    /// The `finished` line for a render that stopped before or outside its stages (bad input, say).
    public static func failureJSON(message: String, hint: String?, exitCode: Int32) -> JSON {
        var line = JSONObject()
        line["event"] = "finished"
        line["status"] = exitCode == ExitStatus.interrupted ? "interrupted" : "failed"
        line["output"] = .null
        line["error"] = .string(message)
        line["hint"] = hint.map(JSON.string) ?? .null
        line["exit_code"] = .integer(Int64(exitCode))
        line["stages"] = .object(JSONObject())
        return .object(line)
    }
}
