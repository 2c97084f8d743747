import Foundation
import Synchronization

/// Prints the figures as a Markdown table, row by row as they are measured (unbuffered, so a file
/// or pipe sees each row at once).
final class Report: Sendable {
    private let misses = Mutex<[String]>([])

    func header(scale: Double, batchScale: Double) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let os = (try? String(contentsOfFile: "/etc/os-release", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }?
            .dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) ?? "unknown OS"
        say("farm-bench · \(cores) cores · \(os) · model latencies × \(scale) (batch: × \(batchScale))\n")
        say("| # | figure | measured | detail | target | |")
        say("| --- | --- | ---: | --- | --- | --- |")
    }

    func row(_ number: String, _ figure: String, _ value: Double, detail: String, target: String, met: Bool) {
        let shown = value >= 100 ? String(format: "%.0f", value) : value >= 10 ? String(format: "%.1f", value) : String(format: "%.3f", value)
        say("| \(number) | \(figure) | \(shown) | \(detail) | \(target) | \(met ? "met" : "MISSED") |")
        if !met { misses.withLock { $0.append("\(number): \(figure)") } }
    }

    private func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    func footer() {
        let missed = misses.withLock { $0 }
        say(missed.isEmpty ? "\nall targets met" : "\nmissed: " + missed.joined(separator: "; "))
    }
}
