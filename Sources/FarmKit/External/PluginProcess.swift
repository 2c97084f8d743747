import Foundation
import Subprocess
import Synchronization

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// One running plugin process, spoken to with protocol v1 (JSON lines over its standard input
/// and output; its standard error is its log).
///
/// The process runs in a session (and so a process group) of its own: every signal farm sends goes
/// to the whole group, so helpers the plugin started (an ffmpeg, a model server) go with it. When
/// the process ends, whatever is left of the group is killed.
///
/// The process is owned by a detached task that runs it from spawn to reaping; this actor holds
/// the protocol state: the handshake, the runs in flight, timeouts and the stop sequence.
actor PluginProcess {
    enum Phase: Sendable, Equatable { case starting, ready, stopping, exited }

    /// Why the host stopped a run before the plugin finished it.
    enum StopReason: Sendable { case interrupted, timedOut }

    /// What became of one run.
    enum Outcome: Sendable {
        case result(outputs: [String: String], metadata: [String: JSON])
        /// The plugin answered with an `error` message.
        case failure(PluginRunFailure)
        /// The process died, broke the protocol or was stopped: the run has no answer.
        case broken(PluginError)
    }

    struct Ending: Sendable {
        let outcome: Outcome
        let stopReason: StopReason?
    }

    private struct PendingRun {
        let stage: String
        let timeout: Duration
        let context: StageContext
        var lastHeard: ContinuousClock.Instant
        var continuation: CheckedContinuation<Ending, Never>?
        var outcome: Outcome?
        var stopReason: StopReason?
    }

    let manifest: PluginManifest
    let hostVersion: String
    /// The wait between `cancel` and SIGTERM, and between SIGTERM and SIGKILL.
    let grace: Duration
    /// Set once the process has ended; readable without awaiting the actor.
    nonisolated let ended = EndedFlag()

    private(set) var phase: Phase = .starting
    private(set) var processID: pid_t?
    private let outgoing: AsyncStream<String>.Continuation
    private let outgoingLines: AsyncStream<String>
    private var helloWaiters: [CheckedContinuation<Void, any Error>] = []
    private var runs: [String: PendingRun] = [:]
    private var nextRun = 1
    /// Why the host is stopping the process, when it is the host's doing.
    private var stopError: PluginError?
    /// The last lines of the plugin's standard error.
    private(set) var logTail: [String] = []
    private let startedAt = ContinuousClock.now
    /// How the process ended, for messages: `exit status 1`, `signal 9`.
    private(set) var exitDescription: String?

    init(manifest: PluginManifest, hostVersion: String, grace: Duration = .seconds(2)) {
        self.manifest = manifest
        self.hostVersion = hostVersion
        self.grace = grace
        (outgoingLines, outgoing) = AsyncStream.makeStream(of: String.self)
    }

    /// Starts the process and the watchdog; the handshake follows (see `waitUntilReady`).
    func launch() {
        outgoing.yield(HostMessage.hello(hostVersion: hostVersion).line)
        Task.detached { [self] in await self.execute() }
        Task { await self.watch() }
    }

    /// Waits for the plugin's `hello`; throws why the process cannot be used.
    func waitUntilReady() async throws {
        switch phase {
        case .ready: return
        case .starting: try await withCheckedThrowingContinuation { helloWaiters.append($0) }
        case .stopping, .exited: throw stopError ?? endedError(during: nil)
        }
    }

    /// Sends one run and waits for its end. Cancelling the calling task sends `cancel`, then stops
    /// the process if the plugin does not answer within the grace period; this returns only once
    /// the plugin is done with the run (answered, or its process is gone).
    func run(stage: PluginManifest.Stage, inputs: [String: String], params: JSONObject, outputDirectory: URL,
             context: StageContext, attempt: Int) async -> Ending {
        guard phase == .ready else { return Ending(outcome: .broken(stopError ?? endedError(during: stage.name)), stopReason: nil) }
        let id = "run-\(nextRun)"
        nextRun += 1
        runs[id] = PendingRun(stage: stage.name, timeout: stage.timeout, context: context, lastHeard: .now)
        send(.run(id: id, stage: stage.name, inputs: inputs, params: params, outputDirectory: outputDirectory.path,
                  timeoutSeconds: stage.timeout.seconds, attempt: attempt))
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if let outcome = runs[id]?.outcome {
                    let reason = runs.removeValue(forKey: id)?.stopReason
                    continuation.resume(returning: Ending(outcome: outcome, stopReason: reason))
                } else {
                    runs[id]?.continuation = continuation
                }
            }
        } onCancel: {
            Task { await self.stopRun(id, because: .interrupted) }
        }
    }

    /// Asks the plugin to exit (`shutdown`, then end of input), then SIGTERM and SIGKILL to its
    /// process group if it takes longer than the grace period each time. Returns once it is gone.
    /// - Returns: the signal farm had to send (SIGTERM or SIGKILL), or nil when it exited by itself.
    @discardableResult
    func shutdown() async -> Int32? {
        if phase == .starting || phase == .ready {
            phase = .stopping
            send(.shutdown)
            outgoing.finish()
        }
        if await exited(within: grace) { return nil }
        signalGroup(SIGTERM)
        if await exited(within: grace) { return SIGTERM }
        signalGroup(SIGKILL)
        _ = await exited(within: .seconds(30))
        return SIGKILL
    }

    // MARK: - The process

    /// Runs the process from spawn to reaping. Not isolated: it only reports to the actor.
    private nonisolated func execute() async {
        PluginProcess.ignoreBrokenPipes
        let (executable, arguments) = Self.resolve(manifest.command, folder: manifest.folder)
        var options = PlatformOptions()
        options.createSession = true
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: grace)]
        let lines = outgoingLines
        do {
            let result = try await Subprocess.run(
                executable, arguments: Arguments(arguments),
                environment: .inherit.updating(["FARM_PLUGIN_PROTOCOL": "1"]),
                workingDirectory: FilePath(manifest.folder.path), platformOptions: options,
                input: .inputWriter, output: .sequence, error: .sequence
            ) { execution in
                let pid = execution.processIdentifier.value
                await self.attached(pid: pid)
                await withTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        await self.readLines(execution.standardOutput) { await self.received($0) }
                        await self.outputClosed()
                        return true
                    }
                    group.addTask {
                        await self.readLines(execution.standardError) { await self.logged($0) }
                        return true
                    }
                    group.addTask {
                        let writer = execution.standardInputWriter
                        for await line in lines {
                            do { _ = try await writer.write(line + "\n") } catch { break }
                        }
                        try? await writer.finish()
                        return false
                    }
                    var openReaders = 2
                    while openReaders > 0, let wasReader = await group.next() {
                        if wasReader { openReaders -= 1 }
                    }
                    // Both streams are closed: the process has ended (or is about to be killed below).
                    await self.streamsClosed()
                }
                // Anything left in the plugin's process group goes too. The leader is not reaped
                // until this closure returns, so its id still names this group.
                kill(-pid, SIGKILL)
                // From here on the id may be reaped and reused: no more signals.
                await self.detached()
            }
            await processEnded(Self.describe(result.terminationStatus))
        } catch {
            await launchFailed(error)
        }
    }

    /// Reads a stream as lines (without the newline), calling `deliver` for each in order.
    private nonisolated func readLines(_ stream: SubprocessOutputSequence, deliver: (String) async -> Void) async {
        var pending: [UInt8] = []
        do {
            for try await buffer in stream {
                buffer.withUnsafeBytes { pending.append(contentsOf: $0) }
                var start = 0
                while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                    await deliver(Self.text(pending[start..<newline]))
                    start = newline + 1
                }
                pending.removeFirst(start)
                if pending.count > PluginMessage.maximumLineLength {
                    await deliver(Self.text(pending[...]))
                    pending.removeAll()
                }
            }
        } catch {
            // The stream broke off: treat what was read as the end.
        }
        if !pending.isEmpty { await deliver(Self.text(pending[...])) }
    }

    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        var line = String(decoding: bytes, as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        return line
    }

    private func attached(pid: pid_t) {
        processID = pid
        // Stopped before the spawn finished (a start timeout on a slow machine).
        if phase == .stopping { signalGroup(SIGTERM) }
    }

    private func detached() {
        processID = nil
    }

    private func outputClosed() {
        // Standard output ends when the process exits; a plugin that closes it but keeps running is
        // of no use: stop it.
        // An exiting process closes its files a moment before it can be waited for: give it time.
        guard phase == .starting || phase == .ready, let processID else { return }
        Task {
            for _ in 0..<40 {
                try? await Task.sleep(for: .milliseconds(50))
                guard phase == .starting || phase == .ready, self.processID == processID, Self.isRunning(processID) else { return }
            }
            terminate(PluginError("plugin \"\(manifest.name)\" closed its standard output but kept running"))
        }
    }

    /// Whether `pid` (our child, not reaped yet) has not exited. Leaves it waitable.
    private static func isRunning(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        guard waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 else { return false }
        #if canImport(Glibc)
        return info._sifields._sigchld.si_pid == 0
        #else
        return info.si_pid == 0
        #endif
    }

    private func streamsClosed() {
        outgoing.finish()
    }

    private func processEnded(_ description: String) {
        exitDescription = description
        finishEverything()
    }

    private func launchFailed(_ error: any Error) {
        let program = manifest.command[0]
        var reason = "\(error)"
        if let error = error as? SubprocessError {
            reason = error.code == .executableNotFound ? "program not found" : "\(error)"
        }
        stopError = PluginError(
            "plugin \"\(manifest.name)\" could not be started: \(program): \(reason)",
            hint: "check \"command\" in \(manifest.file.path): a program name is looked up next to farm and on PATH, "
                + "a path is relative to the plugin folder (and must be executable)",
            exitCode: ExitStatus.badInput)
        finishEverything()
    }

    /// The process is gone: every waiter gets its answer.
    private func finishEverything() {
        phase = .exited
        ended.set()
        outgoing.finish()
        let helloError = stopError ?? endedError(during: nil)
        for waiter in helloWaiters { waiter.resume(throwing: helloError) }
        helloWaiters.removeAll()
        for (id, run) in runs where run.outcome == nil {
            finish(id, .broken(stopError ?? endedError(during: run.stage)))
        }
    }

    private func endedError(during stage: String?) -> PluginError {
        let how = exitDescription ?? "ended"
        guard let stage else {
            let log = logTail.suffix(5).joined(separator: "\n  ")
            return PluginError("plugin \"\(manifest.name)\" exited before its hello (\(how))",
                               hint: (log.isEmpty ? "" : "its last log lines:\n  \(log)\n") + "check it alone with: farm plugins check \(manifest.folder.path)")
        }
        return PluginError("plugin \"\(manifest.name)\" exited (\(how)) while running stage \"\(stage)\"",
                           hint: "its log (standard error) is kept with the stage's run; check it alone with: farm plugins check \(manifest.folder.path)")
    }

    // MARK: - Messages

    private func send(_ message: HostMessage) {
        outgoing.yield(message.line)
    }

    private func received(_ line: String) {
        guard phase == .starting || phase == .ready else { return }
        guard !line.allSatisfy(\.isWhitespace) else { return }
        guard line.utf8.count <= PluginMessage.maximumLineLength else {
            terminate(.violation(manifest.name, "wrote a line longer than 1 MiB", line: String(line.prefix(200))))
            return
        }
        let message: PluginMessage
        do {
            message = try PluginMessage(line: line)
        } catch {
            terminate(.violation(manifest.name, error.description, line: line))
            return
        }
        if case .hello(let version, let name, let pluginVersion, let stages) = message {
            guard phase == .starting else {
                terminate(.violation(manifest.name, "sent a second hello", line: line))
                return
            }
            if let problem = helloProblem(version: version, name: name, pluginVersion: pluginVersion, stages: stages) {
                terminate(PluginError("plugin \"\(manifest.name)\": \(problem)",
                                      hint: "plugin.json and the plugin's hello must agree; see docs/plugins.md", exitCode: ExitStatus.badInput))
                return
            }
            phase = .ready
            for waiter in helloWaiters { waiter.resume() }
            helloWaiters.removeAll()
            return
        }
        guard phase == .ready else {
            terminate(.violation(manifest.name, "sent a message before its hello", line: line))
            return
        }
        guard let id = message.id, var run = runs[id], run.outcome == nil else {
            terminate(.violation(manifest.name, "answered run id \"\(message.id ?? "")\", which farm did not ask for or which already ended", line: line))
            return
        }
        run.lastHeard = .now
        runs[id] = run
        switch message {
        case .progress(_, let fraction, let text):
            if run.stopReason == nil { run.context.progress(fraction, text ?? "") }
        case .result(_, let outputs, let metadata):
            finish(id, .result(outputs: outputs, metadata: metadata))
        case .error(_, let failure):
            finish(id, .failure(failure))
        case .hello:
            break
        }
    }

    private func helloProblem(version: Int, name: String, pluginVersion: String, stages: [String]) -> String? {
        guard PluginManifest.supportedProtocols.contains(version) else {
            return "its hello chose protocol \(version), but farm speaks \(PluginManifest.supportedProtocols.map(String.init).joined(separator: ", "))"
        }
        guard name == manifest.name else { return "plugin.json names it \"\(manifest.name)\" but its hello says \"\(name)\"" }
        guard pluginVersion == manifest.version else {
            return "plugin.json says version \(manifest.version) but its hello says \(pluginVersion)"
        }
        let declared = Set(manifest.stages.map(\.name)), said = Set(stages)
        guard declared == said else {
            var parts: [String] = []
            let missing = declared.subtracting(said).sorted(), extra = said.subtracting(declared).sorted()
            if !missing.isEmpty { parts.append("its hello does not list \(missing.joined(separator: ", "))") }
            if !extra.isEmpty { parts.append("its hello lists \(extra.joined(separator: ", ")), which plugin.json does not declare") }
            return "the stages do not match plugin.json: " + parts.joined(separator: "; ")
        }
        return nil
    }

    private func logged(_ line: String) {
        logTail.append(line)
        if logTail.count > 40 { logTail.removeFirst(logTail.count - 40) }
        for run in runs.values { run.context.log(line) }
    }

    /// Ends a run. Its waiter gets the outcome a moment later: lines the plugin wrote to standard
    /// error just before it answered may still be on their way, and they belong to this run's log.
    private func finish(_ id: String, _ outcome: Outcome) {
        guard var run = runs[id], run.outcome == nil else { return }
        run.outcome = outcome
        runs[id] = run
        Task {
            try? await Task.sleep(for: .milliseconds(25))
            deliver(id)
        }
    }

    private func deliver(_ id: String) {
        guard let run = runs[id], let outcome = run.outcome, let continuation = run.continuation else { return }
        runs[id] = nil
        continuation.resume(returning: Ending(outcome: outcome, stopReason: run.stopReason))
    }

    // MARK: - Stopping

    /// Sends `cancel` for one run; stops the whole process if the plugin has not ended the run
    /// within the grace period.
    private func stopRun(_ id: String, because reason: StopReason) {
        guard var run = runs[id], run.outcome == nil, run.stopReason == nil else { return }
        run.stopReason = reason
        runs[id] = run
        send(.cancel(id: id))
        Task {
            try? await Task.sleep(for: grace)
            cancelGraceEnded(id)
        }
    }

    private func cancelGraceEnded(_ id: String) {
        guard let run = runs[id], run.outcome == nil else { return }
        if run.stopReason == .timedOut {
            terminate(timeoutError(stage: run.stage, timeout: run.timeout))
        } else {
            terminate(PluginError("plugin \"\(manifest.name)\" did not stop stage \"\(run.stage)\" within \(grace.seconds.formattedCompact) s of being cancelled, so it was stopped"))
        }
    }

    nonisolated func timeoutError(stage: String, timeout: Duration) -> PluginError {
        PluginError("plugin \"\(manifest.name)\" sent nothing about stage \"\(stage)\" for \(timeout.seconds.formattedCompact) s and was stopped",
                    hint: "a plugin reports progress at least every timeout_seconds (now \(timeout.seconds.formattedCompact)); raise timeout_seconds in \(manifest.file.path) for slower work")
    }

    /// Stops the process: end of input, SIGTERM to its group, SIGKILL after the grace period.
    /// Every run in flight fails with `error`.
    private func terminate(_ error: PluginError) {
        guard phase != .exited else { return }
        if stopError == nil { stopError = error }
        phase = .stopping
        outgoing.finish()
        signalGroup(SIGTERM)
        Task {
            try? await Task.sleep(for: grace)
            if phase != .exited { signalGroup(SIGKILL) }
        }
    }

    private func signalGroup(_ signal: Int32) {
        // Only while the process is not reaped (`detached` clears the id before that): until then
        // its id, which is also its group's id, cannot be reused.
        guard phase != .exited, let processID else { return }
        kill(-processID, signal)
    }

    /// Checks the handshake and run deadlines every 100 ms until the process has ended.
    private func watch() async {
        while phase != .exited {
            try? await Task.sleep(for: .milliseconds(100))
            let now = ContinuousClock.now
            if phase == .starting, now - startedAt > manifest.startTimeout {
                terminate(PluginError("plugin \"\(manifest.name)\" did not send its hello within \(manifest.startTimeout.seconds.formattedCompact) s of starting",
                                      hint: "a plugin answers the host's hello at once, on standard output, and flushes it; see docs/plugins.md"))
            }
            for (id, run) in runs where run.outcome == nil && run.stopReason == nil && now - run.lastHeard > run.timeout {
                stopRun(id, because: .timedOut)
            }
        }
    }

    private func exited(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while phase != .exited, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return phase == .exited
    }

    // MARK: - Helpers

    /// A plugin that dies while farm writes to it must not take farm down with SIGPIPE.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    /// The program to start: a path (with a `/`) is relative to the plugin folder; a bare name is
    /// looked up next to the running farm binary (companion programs built or installed with it),
    /// then on PATH.
    static func resolve(_ command: [String], folder: URL) -> (Executable, [String]) {
        let program = command[0]
        let arguments = Array(command.dropFirst())
        if program.contains("/") {
            return (.path(FilePath(URL(fileURLWithPath: program, relativeTo: folder).standardizedFileURL.path)), arguments)
        }
        if let companion = companionFolder?.appendingPathComponent(program), FileManager.default.isExecutableFile(atPath: companion.path) {
            return (.path(FilePath(companion.path)), arguments)
        }
        return (.name(program), arguments)
    }

    /// The folder of the running executable.
    static let companionFolder: URL? = {
        let link = URL(fileURLWithPath: "/proc/self/exe")
        if FileManager.default.fileExists(atPath: link.path) { return link.resolvingSymlinksInPath().deletingLastPathComponent() }
        return Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
    }()

    private static func describe(_ status: TerminationStatus) -> String {
        switch status {
        case .exited(let code): "exit status \(code)"
        case .signaled(let signal): "killed by signal \(signal)\(signal == SIGKILL ? " (SIGKILL)" : signal == SIGTERM ? " (SIGTERM)" : "")"
        }
    }
}

/// A flag set once, readable from any thread.
final class EndedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
