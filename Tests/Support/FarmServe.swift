import FarmKit
import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Runs `farm serve` in the background for the length of a test body: waits for its "listening
/// on" line, hands over the URL, then stops it by pid (SIGTERM, SIGKILL after a grace period).
public struct FarmServe: Sendable {
    public let cli: FarmCLI

    public init(cli: FarmCLI) { self.cli = cli }

    /// What `body` gets: the studio's base URL (`http://127.0.0.1:PORT`) and the output so far.
    public struct Running: Sendable {
        public let url: URL
        public let pid: Int32
        let output: OutputLog

        public var standardError: String { output.text }
    }

    /// What the server printed so far.
    final class OutputLog: Sendable {
        private let lines = Mutex("")
        func append(_ line: String) { lines.withLock { $0 += line + "\n" } }
        var text: String { lines.withLock { $0 } }
    }

    /// Starts `farm serve --port 0 <arguments>`, runs `body`, stops the server. Returns the body's
    /// result and the server's exit status.
    public func run<T: Sendable>(
        _ arguments: [String] = [], timeout: Duration = .seconds(300), _ body: @Sendable (Running) async throws -> T
    ) async throws -> (T, Int32) {
        var variables: [Environment.Key: String] = [:]
        for (name, value) in cli.environment { variables[Environment.Key(stringLiteral: name)] = value }
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(10))]
        let outcome = try await Subprocess.run(
            .path(FilePath(cli.binary.path)), arguments: Arguments(["serve", "--port", "0"] + arguments),
            environment: .custom(variables), workingDirectory: FilePath(cli.workingDirectory.path), platformOptions: options,
            input: .none, output: .discarded, error: .sequence
        ) { execution -> T in
            let pid = execution.processIdentifier.value
            let (lines, continuation) = AsyncStream<String>.makeStream()
            let reader = Task {
                for try await line in execution.standardError.strings() { continuation.yield(line) }
                continuation.finish()
            }
            let watchdog = Task {
                try await Task.sleep(for: timeout)
                try? execution.send(signal: .kill)
            }
            defer { watchdog.cancel() }
            let output = OutputLog()
            var url: URL?
            var iterator = lines.makeAsyncIterator()
            while let line = await iterator.next() {
                output.append(line)
                if let range = line.range(of: "listening on ") {
                    url = URL(string: String(line[range.upperBound...]).trimmingCharacters(in: .whitespaces))
                    break
                }
            }
            guard let url else {
                throw ServeError("farm serve stopped before listening:\n\(output.text)")
            }
            let drain = Task {
                while let line = await iterator.next() { output.append(line) }
            }
            let running = Running(url: url, pid: pid, output: output)
            let result: T
            do {
                result = try await body(running)
            } catch {
                try? execution.send(signal: .terminate)
                _ = await drain.result
                reader.cancel()
                throw error
            }
            try? execution.send(signal: .terminate)
            await drain.value
            _ = await reader.result
            return result
        }
        let status: Int32
        switch outcome.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return (outcome.closureResult, status)
    }

    /// farm serve did not start.
    public struct ServeError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }
}
