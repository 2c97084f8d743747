import Dispatch
import FarmKit
import Foundation

/// Shows a render's progress: a live table on a terminal, one line per change otherwise, or JSON
/// lines with `--json`. All state lives on one serial queue, so callers never block.
final class RenderReporter: @unchecked Sendable {
    enum Mode { case live, plain, json }

    private struct Row {
        let name: String
        let implementation: String
        var status: StageRunStatus = .waiting
        var startedAt: Date?
        var seconds: Double?
        var message = ""
        var fraction: Double?
    }

    private let mode: Mode
    private let queue = DispatchQueue(label: "farm.reporter")
    // State below is only touched on `queue`.
    private var rows: [Row] = []
    private var header = ""
    private var drawnLines = 0
    private var timer: (any DispatchSourceTimer)?
    private var spinner = 0
    /// The live table is not drawn while a question is asked on the terminal.
    private var paused = false
    /// A download line drawn below nothing else yet (live mode, before the table starts).
    private var downloadLineShown = false
    private var lastDownloadEvent: [String: (at: Date, received: Int64)] = [:]

    init(mode: Mode) {
        self.mode = mode
    }

    /// Whether standard output carries JSON lines only.
    var isJSON: Bool { mode == .json }

    func handle(_ event: RenderEvent) {
        queue.async { self.apply(event) }
    }

    /// Prints the summary table and the result path once the render has ended.
    func finish(_ summary: RenderSummary) {
        queue.sync {
            stopLive()
            if mode == .json { return }
            Console.writeError(Self.summaryTable(summary))
            for stage in summary.stages where stage.status == .failed {
                Console.printError("stage \(stage.name) failed: \(stage.error ?? "unknown error")", hint: stage.hint)
                if !stage.logTail.isEmpty {
                    Console.writeError("last lines of its log:\n" + stage.logTail.suffix(10).map { "  \($0)\n" }.joined())
                }
            }
            switch summary.status {
            case .succeeded: Console.writeOutput("\(summary.output ?? "")\n")
            case .interrupted:
                Console.printNote("interrupted; finished stages are cached: farm runs resume \(summary.runID) (or the same command) continues")
            case .failed:
                Console.printNote("fix the cause, then farm runs resume \(summary.runID) (or the same command) re-runs only what failed")
            }
        }
    }

    /// Stops drawing the live table, so a question can be asked on the terminal, until `resume`.
    func pause() {
        queue.sync {
            stopLive()
            paused = true
        }
    }

    /// Draws the live table again, below what was written while it was paused.
    func resume() {
        queue.sync {
            paused = false
            drawnLines = 0
            if mode == .live, !rows.isEmpty { startLive() }
        }
    }

    /// Reports an error that stopped the render before or outside the stages.
    func fail(message: String, hint: String?, exitCode: Int32) {
        queue.sync {
            clearDownloadLine()
            stopLive()
            if mode == .json {
                Console.writeOutput(RenderEvent.failureJSON(message: message, hint: hint, exitCode: exitCode).compactString + "\n")
            } else {
                Console.printError(message, hint: hint)
            }
        }
    }

    // MARK: - On the queue

    private func apply(_ event: RenderEvent) {
        if case .download(let stage, let received, let total) = event {
            // At most ten a second per stage, always the last one, never the same twice.
            let now = Date()
            if let last = lastDownloadEvent[stage], last.received == received || (received != total && now.timeIntervalSince(last.at) < 0.1) {
                return
            }
            lastDownloadEvent[stage] = (now, received)
        }
        if mode == .json {
            Console.writeOutput(event.json.compactString + "\n")
            return
        }
        switch event {
        case .download(let stage, let received, let total):
            guard mode == .live else { return }
            var line = "\(stage): downloading \(Console.bytes(received))"
            if let total, total > 0 {
                line += " of \(Console.bytes(total))" + String(format: " (%.0f%%)", min(1, Double(received) / Double(total)) * 100)
            }
            Console.writeError("\r\u{1B}[2K" + line)
            downloadLineShown = true
            return
        case .note(let stage, let message):
            clearDownloadLine()
            Console.printNote("\(stage): \(message)")
            return
        case .started(let runID, let profile, let subject, let stages):
            clearDownloadLine()
            rows = stages.map { Row(name: $0.name, implementation: $0.implementation) }
            header = "farm: profile \(profile) · subject \(subject) · run \(runID)"
            if mode == .live { startLive() } else { Console.writeError(header + "\n") }
        case .stage(let name, let status, let seconds, let error):
            guard let index = rows.firstIndex(where: { $0.name == name }) else { return }
            rows[index].status = status
            if status == .running { rows[index].startedAt = Date() }
            rows[index].seconds = seconds
            if mode == .plain {
                var line = "\(name): \(status.rawValue)"
                if let seconds, status.isFinal { line += " (\(Console.duration(seconds)))" }
                if let error { line += ": \(error)" }
                Console.writeError(line + "\n")
            }
        case .progress(let name, let fraction, let message):
            guard let index = rows.firstIndex(where: { $0.name == name }) else { return }
            rows[index].fraction = fraction
            rows[index].message = message
        case .log, .chunks, .finished:
            break
        }
        if mode == .live { redraw() }
    }

    private func clearDownloadLine() {
        guard downloadLineShown else { return }
        Console.writeError("\r\u{1B}[2K")
        downloadLineShown = false
    }

    private func startLive() {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now(), repeating: .milliseconds(100))
        timer.setEventHandler { [unowned self] in
            spinner += 1
            redraw()
        }
        timer.resume()
        self.timer = timer
    }

    private func stopLive() {
        guard let timer else { return }
        timer.cancel()
        self.timer = nil
        redraw()
    }

    private func redraw() {
        guard mode == .live, !paused, !rows.isEmpty else { return }
        let spinnerFrames = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]
        let table = rows.map { row -> [String] in
            let symbol: String
            var detail: String
            switch row.status {
            case .waiting: (symbol, detail) = ("·", "waiting")
            case .running:
                symbol = spinnerFrames[spinner % spinnerFrames.count]
                detail = "running " + Console.duration(Date().timeIntervalSince(row.startedAt ?? Date()))
                if let fraction = row.fraction { detail += String(format: " %3.0f%%", fraction * 100) }
                if !row.message.isEmpty { detail += " " + row.message }
            case .cached: (symbol, detail) = ("↺", "cached")
            case .succeeded: (symbol, detail) = ("✓", "done " + Console.duration(row.seconds ?? 0))
            case .failed: (symbol, detail) = ("✗", "failed")
            case .skipped: (symbol, detail) = ("-", "skipped")
            case .interrupted: (symbol, detail) = ("!", "interrupted")
            }
            return ["  " + symbol, row.name, row.implementation, detail]
        }
        var text = drawnLines > 0 ? "\u{1B}[\(drawnLines)A" : ""
        let lines = [header] + Console.table(table).split(separator: "\n").map(String.init)
        for line in lines { text += "\u{1B}[2K" + line + "\n" }
        drawnLines = lines.count
        Console.writeError(text)
    }

    // MARK: - Formats

    static func summaryTable(_ summary: RenderSummary) -> String {
        let remote = summary.stages.contains { $0.metadata["predict_time"] != nil || $0.metadata["estimated_cost_usd"] != nil }
        var rows = [["stage", "provider", "status", "cached", "time"] + (remote ? ["model time", "est. cost"] : [])]
        for stage in summary.stages {
            var row = [stage.name, stage.provider, stage.status.rawValue, stage.cached ? "yes" : "no",
                       stage.status == .waiting || stage.status == .skipped ? "-" : Console.duration(stage.seconds)]
            if remote {
                row.append(stage.metadata["predict_time"]?.doubleValue.map(Console.duration) ?? "-")
                let cost = stage.metadata["estimated_cost_usd"]?.doubleValue.map { String(format: "$%.3f", $0) }
                row.append(stage.cached ? "cached" : cost ?? "-")
            }
            rows.append(row)
        }
        var footer = "\(summary.status.rawValue) in \(Console.duration(summary.seconds)) · run \(summary.runID)"
        if let cost = summary.estimatedCost {
            footer += String(format: " · estimated Replicate cost $%.3f (an estimate; cached stages cost nothing again)", cost)
        }
        return "\n" + Console.table(rows) + footer + "\n"
    }
}
