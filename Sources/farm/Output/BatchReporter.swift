import Dispatch
import FarmKit
import Foundation

/// Shows a batch of renders: a live table of jobs on a terminal, one line per stage change
/// otherwise, or JSON lines (each render event with its `job`, then one `batch` line) with `--json`.
/// Ends with a summary table. All state lives on one serial queue, so callers never block.
final class BatchReporter: @unchecked Sendable {
    private struct Job {
        let song: String
        var subject: String
        var stages = 0
        var done = 0
        var running: [String] = []
        var failed = false
        /// Bytes of the song received so far while it downloads (before the stages start).
        var downloaded: Int64?
        var lastDownloadEvent: Date?
    }

    private let mode: RenderReporter.Mode
    private let queue = DispatchQueue(label: "farm.batch-reporter")
    private let started = Date()
    // State below is only touched on `queue`.
    private var jobs: [Job]
    private var drawnLines = 0
    private var timer: (any DispatchSourceTimer)?

    init(mode: RenderReporter.Mode, requests: [RenderRequest]) {
        self.mode = mode
        jobs = requests.map { Job(song: $0.song.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "-", subject: $0.subject ?? "-") }
        if mode == .live {
            queue.async { self.startLive() }
        }
    }

    func handle(job index: Int, _ event: RenderEvent) {
        queue.async { self.apply(index, event) }
    }

    /// The summary table (or the final JSON line) once every job has ended.
    func finish(_ results: [Result<RenderSummary, any Error>]) {
        queue.sync {
            timer?.cancel()
            timer = nil
            if mode == .live { redraw() }
            if mode == .json {
                Console.writeOutput(Self.json(results, jobs: jobs).compactString + "\n")
                return
            }
            var rows = [["job", "subject", "song", "status", "time", "est. cost", "result"]]
            for (index, result) in results.enumerated() {
                let job = jobs[index]
                switch result {
                case .success(let summary):
                    let failed = summary.stages.first { $0.status == .failed }
                    rows.append(["\(index + 1)", job.subject, job.song, summary.status.rawValue, Console.duration(summary.seconds),
                                 summary.estimatedCost.map { String(format: "$%.3f", $0) } ?? "-",
                                 summary.output ?? failed.map { "stage \($0.name): \($0.error ?? "failed")" } ?? "-"])
                case .failure(let error):
                    rows.append(["\(index + 1)", job.subject, job.song, error is CancellationError ? "interrupted" : "failed", "-", "-",
                                 (error as? any FarmError)?.message ?? "\(error)"])
                }
            }
            let succeeded = results.filter { (try? $0.get())?.status == .succeeded }.count
            let cost = results.compactMap { (try? $0.get())?.estimatedCost }.reduce(0, +)
            Console.writeError("\n" + Console.table(rows.map { $0.map { String($0.split(separator: "\n").first ?? "") } }))
            Console.writeError("\(succeeded) of \(results.count) renders succeeded in \(Console.duration(Date().timeIntervalSince(started)))"
                               + (cost > 0 ? String(format: " · estimated Replicate cost $%.3f", cost) : "") + "\n")
            for case (let index, .failure(let error)) in results.enumerated() where !(error is CancellationError) {
                let farmError = error as? any FarmError
                Console.printError("job \(index + 1) (\(jobs[index].song)): \(farmError?.message ?? "\(error)")", hint: farmError?.hint)
            }
            for case (let index, .success(let summary)) in results.enumerated() {
                for stage in summary.stages where stage.status == .failed {
                    Console.printError("job \(index + 1) (\(jobs[index].song)): stage \(stage.name) failed: \(stage.error ?? "unknown error")", hint: stage.hint)
                }
            }
            for result in results {
                if case .success(let summary) = result, let output = summary.output { Console.writeOutput(output + "\n") }
            }
        }
    }

    // MARK: - On the queue

    private func apply(_ index: Int, _ event: RenderEvent) {
        if case .download(_, let received, let total) = event {
            // At most ten a second per job, and always the last one.
            let now = Date()
            if let last = jobs[index].lastDownloadEvent, received != total, now.timeIntervalSince(last) < 0.1 { return }
            jobs[index].lastDownloadEvent = now
            jobs[index].downloaded = received
        }
        if mode == .json {
            guard case .object(var line) = event.json else { return }
            line["job"] = .integer(Int64(index + 1))
            Console.writeOutput(JSON.object(line).compactString + "\n")
            return
        }
        switch event {
        case .note(let stage, let message):
            if mode == .plain { Console.writeError("[\(index + 1) \(jobs[index].song)] \(stage): \(message)\n") }
        case .started(_, _, let subject, let stages):
            jobs[index].downloaded = nil
            jobs[index].subject = subject
            jobs[index].stages = stages.count
        case .stage(let name, let status, _, let error):
            if status == .running { jobs[index].running.append(name) } else { jobs[index].running.removeAll { $0 == name } }
            if status.hasOutputs { jobs[index].done += 1 }
            if status == .failed { jobs[index].failed = true }
            if mode == .plain, status != .waiting {
                Console.writeError("[\(index + 1) \(jobs[index].song)] \(name): \(status.rawValue)\(error.map { ": \($0)" } ?? "")\n")
            }
        case .download, .progress, .log, .chunks, .finished:
            break
        }
    }

    private func startLive() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: .milliseconds(200))
        timer.setEventHandler { [unowned self] in redraw() }
        timer.resume()
        self.timer = timer
    }

    private func redraw() {
        let elapsed = Console.duration(Date().timeIntervalSince(started))
        var rows: [[String]] = []
        for (index, job) in jobs.enumerated() {
            let state = job.failed ? "failed" : job.stages > 0 && job.done == job.stages ? "done"
                : job.downloaded.map { "downloading \(Console.bytes($0))" }
                ?? (job.running.isEmpty ? (job.stages == 0 ? "waiting" : "\(job.done)/\(job.stages)") : "\(job.done)/\(job.stages) " + job.running.joined(separator: ", "))
            rows.append(["  \(index + 1)", job.subject, job.song, state])
        }
        let finished = jobs.filter { $0.failed || ($0.stages > 0 && $0.done == $0.stages) }.count
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        let lines = ["farm: \(jobs.count) renders · \(finished) ended · \(elapsed)"] + Console.table(rows).split(separator: "\n").map(String.init)
        for line in lines { text += "\u{1B}[2K" + line + "\n" }
        drawnLines = lines.count
        Console.writeError(text)
    }

    private static func json(_ results: [Result<RenderSummary, any Error>], jobs: [Job]) -> JSON {
        var line = JSONObject()
        line["event"] = "batch"
        line["jobs"] = .array(results.enumerated().map { index, result in
            var entry = JSONObject()
            entry["job"] = .integer(Int64(index + 1))
            entry["song"] = .string(jobs[index].song)
            switch result {
            case .success(let summary):
                entry["run"] = .string(summary.runID)
                entry["status"] = .string(summary.status.rawValue)
                entry["output"] = summary.output.map(JSON.string) ?? .null
                entry["seconds"] = .double(summary.seconds)
                entry["estimated_cost_usd"] = summary.estimatedCost.map(JSON.double)
                entry["error"] = summary.stages.first { $0.status == .failed }.map { .string("stage \($0.name) failed: \($0.error ?? "unknown error")") }
            case .failure(let error):
                entry["status"] = .string(error is CancellationError ? "interrupted" : "failed")
                entry["output"] = .null
                entry["error"] = .string((error as? any FarmError)?.message ?? "\(error)")
                entry["hint"] = (error as? any FarmError)?.hint.map(JSON.string)
            }
            return .object(entry)
        })
        line["exit_code"] = .integer(Int64(BatchRun.exitCode(results)))
        return .object(line)
    }
}
