import FarmKit
import Foundation

/// A run as the store recorded it: its stage graph with each stage's state, and the events of a
/// render rebuilt from that record once the live ones are no longer kept (after a restart, or for
/// old renders), so a past run still shows every stage's state and time.
struct RunHistory {
    let run: RunRecord
    let records: [StageRunRecord]

    /// One planned stage: its name and what it reads, with its record when it has one.
    struct Stage {
        let name: String
        let implementation: String
        let provider: String
        let dependencies: [String]
        let record: StageRunRecord?

        /// The recorded state; a stage that never started is `waiting` while its run runs and
        /// `interrupted` otherwise.
        func status(in run: RunRecord) -> StageRunStatus {
            record?.status ?? (run.status == .running ? .waiting : .interrupted)
        }
    }

    /// Every stage in plan order (the recorded graph; runs recorded before graphs were kept list
    /// only the stages that started, in the order they did, without dependencies).
    var stages: [Stage] {
        let byName = Dictionary(records.map { ($0.stage, $0) }, uniquingKeysWith: { first, _ in first })
        var stages: [Stage] = (run.graph?.arrayValue ?? []).compactMap { planned in
            guard let name = planned["name"]?.stringValue else { return nil }
            return Stage(name: name, implementation: planned["implementation"]?.stringValue ?? "", provider: planned["provider"]?.stringValue ?? "",
                         dependencies: planned["depends_on"]?.arrayValue?.compactMap(\.stringValue) ?? [], record: byName[name])
        }
        let planned = Set(stages.map(\.name))
        for record in records where !planned.contains(record.stage) {
            stages.append(Stage(name: record.stage, implementation: record.implementation, provider: record.provider,
                                dependencies: [], record: record))
        }
        return stages
    }

    /// The `started` event of the run.
    var startedEvent: JSON {
        var line = JSONObject([("event", "started"), ("run", .string(run.id)), ("profile", .string(run.profile)),
                               ("subject", .string(run.subject))])
        line["stages"] = .array(stages.map { stage in
            ["name": .string(stage.name), "implementation": .string(stage.implementation), "provider": .string(stage.provider),
             "depends_on": .array(stage.dependencies.map(JSON.string))]
        })
        return .object(line)
    }

    /// The events of render `entry` rebuilt from the store, in the order a live render sends
    /// them: `queued`; then, once it has a run, `started`, each started stage's last `chunks` and
    /// `stage` events; and `finished` (marked `"replayed": true`) once it ended. Live progress is
    /// not kept, and the exit code of a failure is 1.
    static func events(of entry: QueueEntry, run history: RunHistory?) -> [JSON] {
        var events: [JSON] = [["event": "queued", "id": .string(entry.id)]]
        if let history {
            events.append(history.startedEvent)
            for stage in history.stages {
                guard let record = stage.record, record.status != .waiting else { continue }
                if let total = record.metadata?["chunks"]?.intValue {
                    events.append(["event": "chunks", "stage": .string(stage.name), "done": .integer(Int64(total)),
                                   "total": .integer(Int64(total)), "cached": record.metadata?["chunks_cached"] ?? .integer(0)])
                }
                var line = JSONObject([("event", "stage"), ("stage", .string(stage.name)), ("status", .string(record.status.rawValue))])
                line["seconds"] = record.seconds.map(JSON.double)
                line["error"] = record.error.map(JSON.string)
                events.append(.object(line))
            }
        }
        guard entry.state == .finished || entry.state == .cancelled else { return events }
        events.append(finishedEvent(of: entry, run: history))
        return events
    }

    /// The `finished` event of an ended render, from its queue entry and run record.
    static func finishedEvent(of entry: QueueEntry, run history: RunHistory?) -> JSON {
        let status = entry.state == .cancelled ? "interrupted" : entry.error == nil ? "succeeded" : "failed"
        var line = JSONObject([("event", "finished"), ("status", .string(status))])
        line["run"] = entry.runID.map(JSON.string) ?? .null
        line["output"] = history?.run.output.map(JSON.string) ?? .null
        if let run = history?.run, let finished = run.finishedAt { line["seconds"] = .double(finished.timeIntervalSince(run.createdAt)) }
        var stages = JSONObject()
        for stage in history?.stages ?? [] {
            let status = history.map { stage.status(in: $0.run) } ?? .interrupted
            var object = JSONObject([("status", .string(status.rawValue)), ("cached", .bool(status == .cached)),
                                     ("seconds", .double(stage.record?.seconds ?? 0)), ("provider", .string(stage.provider))])
            object["error"] = stage.record?.error.map(JSON.string)
            for key in ["predict_time", "estimated_cost_usd", "prediction", "chunks", "chunks_cached"] {
                object[key] = stage.record?.metadata?[key]
            }
            stages[stage.name] = .object(object)
        }
        line["stages"] = .object(stages)
        line["error"] = entry.error.map(JSON.string) ?? .null
        line["hint"] = entry.hint.map(JSON.string) ?? .null
        line["exit_code"] = .integer(status == "succeeded" ? 0 : status == "interrupted" ? Int64(ExitStatus.interrupted) : 1)
        line["replayed"] = .bool(true)
        return .object(line)
    }
}
