import FarmKit
import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs the real `farm` binary built next to the test bundle, with its own FARM_HOME.
public struct FarmCLI: Sendable {
    /// What one invocation printed and how it ended.
    public struct Result: Sendable {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String

        /// Standard output split into lines, each parsed as JSON (for `--json`).
        public func jsonLines() throws -> [JSON] {
            try standardOutput.split(separator: "\n").map { try JSON.parse(String($0), source: "farm --json") }
        }
    }

    public let binary: URL
    public let home: URL
    public let workingDirectory: URL
    public var environment: [String: String]

    /// `farm` from the folder the test bundle was built into (override with `FARM_BINARY`).
    public init(home: URL, workingDirectory: URL, environment: [String: String] = [:]) {
        let process = ProcessInfo.processInfo
        binary = process.environment["FARM_BINARY"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("farm")
        self.home = home
        self.workingDirectory = workingDirectory
        var merged = process.environment.filter { key, _ in !key.hasPrefix("REPLICATE_") && !key.hasPrefix("FARM_") && key != "XDG_CONFIG_HOME" }
        merged["FARM_HOME"] = home.path
        merged["XDG_CONFIG_HOME"] = home.appendingPathComponent("config").path
        merged.merge(environment) { _, new in new }
        self.environment = merged
    }

    /// Runs farm with `arguments`; sends SIGINT once a line of its output satisfies `interruptWhen`,
    /// or SIGKILL (a crash) once one satisfies `killWhen`. The child is killed if it outlives `timeout`.
    public func run(
        _ arguments: [String], timeout: Duration = .seconds(300), interruptWhen: (@Sendable (String) -> Bool)? = nil,
        killWhen: (@Sendable (String) -> Bool)? = nil
    ) async throws -> Result {
        // The typed form: swift-subprocess hands raw byte entries to strdup, which needs a NUL terminator.
        var variables: [Environment.Key: String] = [:]
        for (name, value) in self.environment { variables[Environment.Key(stringLiteral: name)] = value }
        let environment = Environment.custom(variables)
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        let outcome = try await Subprocess.run(
            .path(FilePath(binary.path)), arguments: Arguments(arguments), environment: environment,
            workingDirectory: FilePath(workingDirectory.path), platformOptions: options,
            input: .none, output: .sequence, error: .sequence
        ) { execution in
            let interrupted = Mutex(false)
            let watch: @Sendable (String) -> Void = { line in
                let signal: Signal
                if let killWhen, killWhen(line) {
                    signal = .kill
                } else if let interruptWhen, interruptWhen(line) {
                    signal = .interrupt
                } else {
                    return
                }
                let first = interrupted.withLock { done in defer { done = true }; return !done }
                if first { try? execution.send(signal: signal) }
            }
            return try await withThrowingTaskGroup(of: (Int, String).self) { group in
                group.addTask { (1, try await Self.collect(execution.standardOutput, watch)) }
                group.addTask { (2, try await Self.collect(execution.standardError, watch)) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    try? execution.send(signal: .kill)
                    return (0, "")
                }
                var output = "", error = ""
                var open = 2
                while open > 0, let (stream, text) = try await group.next() {
                    if stream == 1 { output = text; open -= 1 } else if stream == 2 { error = text; open -= 1 }
                }
                group.cancelAll()
                return (output, error)
            }
        }
        let status: Int32
        switch outcome.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return Result(status: status, standardOutput: outcome.closureResult.0, standardError: outcome.closureResult.1)
    }

    private static func collect(_ sequence: SubprocessOutputSequence, _ watch: @Sendable (String) -> Void) async throws -> String {
        var text = ""
        for try await line in sequence.strings() {
            text += line + "\n"
            watch(line)
        }
        return text
    }
}
