import Foundation
import Subprocess

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// What a finished program left behind.
public struct ProcessOutput: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended the program (as shells report it).
    public let status: Int32
    /// Standard output, up to the runner's limit (the first bytes are kept).
    public let standardOutput: String
    /// Standard error, up to the runner's limit (the last bytes are kept: the end explains a failure).
    public let standardError: String
}

/// Runs programs with argv arrays through swift-subprocess, never through a shell.
///
/// On timeout or task cancellation the child gets SIGTERM, then SIGKILL after a short grace.
public enum ProcessRunner {
    /// How long a child may take to exit after SIGTERM before it gets SIGKILL.
    static let terminationGrace: Duration = .milliseconds(500)

    /// Runs `executable` (a name looked up in `PATH`, or a path) and waits for it.
    ///
    /// - Parameters:
    ///   - outputLimit: bytes kept of each of standard output and standard error; the rest is read and dropped.
    ///   - onOutputLine: called with each line of standard output as it arrives (without the newline).
    /// - Throws: `MediaError.notInstalled` when the program is missing, `MediaError.timedOut` after
    ///   `timeout`, `CancellationError` when the task was cancelled. A non-zero exit is not an error.
    public static func run(
        _ executable: String, _ arguments: [String], timeout: Duration = .seconds(600),
        outputLimit: Int = 4 << 20, onOutputLine: (@Sendable (String) -> Void)? = nil
    ) async throws -> ProcessOutput {
        let tool = toolName(executable)
        let target: Executable = executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: terminationGrace)]
        let teardown = options.teardownSequence

        let result: ExecutionResult<(Data, Data, timedOut: Bool), SequenceOutput, SequenceOutput>
        do {
            result = try await Subprocess.run(
                target, arguments: Arguments(arguments), platformOptions: options,
                input: .none, output: .sequence, error: .sequence
            ) { execution in
                try await withThrowingTaskGroup(of: Captured.self) { group in
                    group.addTask {
                        .standardOutput(try await collect(
                            execution.standardOutput, limit: outputLimit, keepTail: false, onLine: onOutputLine))
                    }
                    group.addTask {
                        .standardError(try await collect(
                            execution.standardError, limit: outputLimit, keepTail: true, onLine: nil))
                    }
                    group.addTask {
                        // Ends early (without a timeout) when cancelled: by the caller, or below once both streams closed.
                        try? await Task.sleep(for: timeout)
                        guard !Task.isCancelled else { return .timer(fired: false) }
                        await execution.teardown(using: teardown)
                        return .timer(fired: true)
                    }
                    var standardOutput = Data(), standardError = Data(), open = 2, timedOut = false
                    while let next = try await group.next() {
                        switch next {
                        case .standardOutput(let data): standardOutput = data; open -= 1
                        case .standardError(let data): standardError = data; open -= 1
                        case .timer(let fired): timedOut = fired
                        }
                        if open == 0 { group.cancelAll() }
                    }
                    return (standardOutput, standardError, timedOut)
                }
            }
        } catch let error as SubprocessError where error.code == .executableNotFound {
            throw MediaError.notInstalled(tool: tool)
        }
        try Task.checkCancellation()
        let (standardOutput, standardError, timedOut) = result.closureResult
        if timedOut {
            throw MediaError.timedOut(tool: tool, seconds: timeout.seconds)
        }
        let status: Int32
        switch result.terminationStatus {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return ProcessOutput(
            status: status,
            standardOutput: String(decoding: standardOutput, as: UTF8.self),
            standardError: String(decoding: standardError, as: UTF8.self))
    }

    /// The program's name without its folder, for messages.
    static func toolName(_ executable: String) -> String {
        executable.split(separator: "/").last.map(String.init) ?? executable
    }

    private enum Captured: Sendable {
        case standardOutput(Data)
        case standardError(Data)
        case timer(fired: Bool)
    }

    /// Reads a stream to its end, keeping the first (or last) `limit` bytes and passing complete lines to `onLine`.
    private static func collect(
        _ stream: SubprocessOutputSequence, limit: Int, keepTail: Bool, onLine: (@Sendable (String) -> Void)?
    ) async throws -> Data {
        var kept = Data()
        var pendingLine = Data()
        for try await buffer in stream {
            let chunk = buffer.withUnsafeBytes { Data($0) }
            if keepTail {
                kept.append(chunk)
                if kept.count > 2 * limit { kept = kept.suffix(limit) }
            } else if kept.count < limit {
                kept.append(chunk.prefix(limit - kept.count))
            }
            if let onLine {
                pendingLine.append(chunk)
                while let newline = pendingLine.firstIndex(of: UInt8(ascii: "\n")) {
                    onLine(String(decoding: pendingLine[..<newline], as: UTF8.self))
                    pendingLine = pendingLine[(newline + 1)...]
                }
            }
        }
        if let onLine, !pendingLine.isEmpty {
            onLine(String(decoding: pendingLine, as: UTF8.self))
        }
        return keepTail ? Data(kept.suffix(limit)) : kept
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
