#if canImport(Glibc)
import Glibc
#endif
import FarmKit
import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs the real `farm` binary and measures it from outside: wall time, and the peak resident
/// memory of the farm process itself (its `VmHWM`, sampled every 5 ms on a thread of its own).
struct FarmProcess: Sendable {
    struct Run: Sendable {
        let status: Int32
        let output: String
        let error: String
        /// Wall seconds from spawn to exit.
        let seconds: Double
        /// Peak resident set of the farm process, bytes (0 when never sampled).
        let peakBytes: Int

        /// The `finished` event of a `--json` run.
        var summary: JSON? {
            output.split(separator: "\n").last.flatMap { try? JSON.parse(String($0), source: "farm --json") }
        }
    }

    let binary: URL
    let home: URL
    let workingDirectory: URL
    let environment: [String: String]

    init(binary: URL, home: URL, workingDirectory: URL, replicate: URL, token: String) {
        self.binary = binary
        self.home = home
        self.workingDirectory = workingDirectory
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("REPLICATE_") && !$0.key.hasPrefix("FARM_") }
        environment["FARM_HOME"] = home.path
        environment["XDG_CONFIG_HOME"] = home.appendingPathComponent("config").path
        environment["REPLICATE_BASE_URL"] = replicate.absoluteString
        environment["REPLICATE_API_TOKEN"] = token
        self.environment = environment
    }

    func run(_ arguments: [String]) async throws -> Run {
        var variables: [Environment.Key: String] = [:]
        for (name, value) in environment { variables[Environment.Key(stringLiteral: name)] = value }
        let start = ContinuousClock.now
        let sampler = MemorySampler()
        let outcome = try await Subprocess.run(
            .path(FilePath(binary.path)), arguments: Arguments(arguments), environment: .custom(variables),
            workingDirectory: FilePath(workingDirectory.path), input: .none, output: .sequence, error: .sequence
        ) { execution in
            sampler.start(pid: execution.processIdentifier.value)
            async let output = Self.collect(execution.standardOutput)
            async let error = Self.collect(execution.standardError)
            return try await (output, error)
        }
        let seconds = (ContinuousClock.now - start).seconds
        let peak = sampler.stop()
        let status: Int32
        switch outcome.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return Run(status: status, output: outcome.closureResult.0, error: outcome.closureResult.1, seconds: seconds, peakBytes: peak)
    }

    private static func collect(_ sequence: SubprocessOutputSequence) async throws -> String {
        var text = ""
        for try await line in sequence.strings() { text += line + "\n" }
        return text
    }
}

/// Samples one process's `VmHWM` (peak resident set) from `/proc` on a dedicated thread.
final class MemorySampler: Sendable {
    private let state = Mutex<(running: Bool, peak: Int)>((false, 0))
    private let done = DispatchSemaphore(value: 0)

    func start(pid: Int32) {
        state.withLock { $0.running = true }
        let thread = Thread { [self] in
            while state.withLock({ $0.running }) {
                if let value = Self.peak(of: pid) { state.withLock { $0.peak = max($0.peak, value) } }
                usleep(5_000)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling; the highest peak seen, bytes.
    func stop() -> Int {
        state.withLock { $0.running = false }
        done.wait()
        return state.withLock { $0.peak }
    }

    private static func peak(of pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kib * 1024
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
