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

/// Runs the real `farm` binary and measures it from outside: wall time, the peak resident memory
/// of the farm process itself (its `VmHWM`) and the CPU time of farm and the programs it ran,
/// both sampled every 5 ms on a thread of its own.
struct FarmProcess: Sendable {
    struct Run: Sendable {
        let status: Int32
        let output: String
        let error: String
        /// Wall seconds from spawn to exit.
        let seconds: Double
        /// Peak resident set of the farm process, bytes (0 when never sampled).
        let peakBytes: Int
        /// CPU seconds of farm and of the children it waited for (ffmpeg, ffprobe), at the last sample.
        let cpuSeconds: Double

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
        let (peak, cpu) = sampler.stop()
        let status: Int32
        switch outcome.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return Run(status: status, output: outcome.closureResult.0, error: outcome.closureResult.1, seconds: seconds, peakBytes: peak, cpuSeconds: cpu)
    }

    private static func collect(_ sequence: SubprocessOutputSequence) async throws -> String {
        var text = ""
        for try await line in sequence.strings() { text += line + "\n" }
        return text
    }
}

/// Samples one process's `VmHWM` (peak resident set) and CPU time from `/proc` on a dedicated thread.
final class MemorySampler: Sendable {
    private let state = Mutex<(running: Bool, peak: Int, cpu: Double)>((false, 0, 0))
    private let done = DispatchSemaphore(value: 0)

    func start(pid: Int32) {
        state.withLock { $0.running = true }
        let thread = Thread { [self] in
            while state.withLock({ $0.running }) {
                let peak = Self.peak(of: pid), cpu = CPUTime.ofProcess(pid)
                state.withLock { state in
                    if let peak { state.peak = max(state.peak, peak) }
                    if let cpu { state.cpu = max(state.cpu, cpu) }
                }
                usleep(5_000)
            }
            done.signal()
        }
        thread.start()
    }

    /// Stops sampling; the highest peak seen (bytes) and the last CPU time (seconds).
    func stop() -> (peakBytes: Int, cpuSeconds: Double) {
        state.withLock { $0.running = false }
        done.wait()
        return state.withLock { ($0.peak, $0.cpu) }
    }

    private static func peak(of pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kib * 1024
    }
}

/// CPU time from `/proc` and `getrusage`, to tell what a wall-clock figure was bound by.
enum CPUTime {
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// User and system seconds of `pid` plus those of the children it has waited for.
    static func ofProcess(_ pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let end = text.lastIndex(of: ")") else { return nil }
        // After the command name: state, ppid, …; utime, stime, cutime, cstime are the 12th to 15th.
        let fields = text[text.index(after: end)...].split(separator: " ")
        guard fields.count > 14 else { return nil }
        let ticks = fields[11...14].compactMap { Double($0) }.reduce(0, +)
        return ticks / ticksPerSecond
    }

    /// This process's CPU seconds (`self`) and those of its waited-for children (`children`).
    static func ofThisProcess() -> (own: Double, children: Double) {
        func seconds(_ who: __rusage_who) -> Double {
            var usage = rusage()
            getrusage(__rusage_who_t(who.rawValue), &usage)
            let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            let system = Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
            return user + system
        }
        return (seconds(RUSAGE_SELF), seconds(RUSAGE_CHILDREN))
    }

    /// Busy and total jiffies of the whole machine (the `cpu` line of /proc/stat).
    static func machine() -> (busy: Double, total: Double) {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return (0, 0) }
        let values = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard values.count >= 5 else { return (0, 0) }
        // user nice system idle iowait irq softirq steal …: idle and iowait are not busy.
        let total = values.prefix(8).reduce(0, +)
        return (total - values[3] - values[4], total)
    }
}

/// Where the CPU went while one figure was measured: the whole machine, farm, and everything else
/// farm-bench did (the in-process fake server and its children).
struct CPUMeter {
    private let machineStart = CPUTime.machine()
    private let benchStart = CPUTime.ofThisProcess()

    /// "machine busy 93 % of 2 cores; farm and its ffmpeg 120 cpu-s; the fake 30 cpu-s".
    func summary(farmCPUSeconds: Double) -> String {
        let machine = CPUTime.machine(), bench = CPUTime.ofThisProcess()
        let busy = (machine.busy - machineStart.busy) / max(1, machine.total - machineStart.total)
        // farm is a waited-for child of this process: its time is inside `children`.
        let fake = (bench.own - benchStart.own) + (bench.children - benchStart.children) - farmCPUSeconds
        return String(format: "machine busy %.0f %% of %d cores; farm and its ffmpeg %.0f cpu-s; the fake %.0f cpu-s",
                      busy * 100, ProcessInfo.processInfo.activeProcessorCount, farmCPUSeconds, max(0, fake))
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
