import Foundation

/// `farm plugins check`: reads a plugin's manifest, starts it, does the handshake and shuts it
/// down, reporting each step, so an author can test a plugin on its own.
public enum PluginCheck {
    /// One finding.
    public struct Line: Sendable {
        /// Passed, failed, or nil for information (stage lists, the plugin's log, progress).
        public let ok: Bool?
        public let text: String
    }

    /// A run to try after the handshake: `farm plugins check --run STAGE --input PORT=FILE --set PARAM=VALUE`.
    public struct Trial: Sendable {
        public let stage: String
        /// Input port → file.
        public let inputs: [String: URL]
        /// `PARAM=VALUE` settings; VALUE is read as JSON when it parses, else as a string.
        public let settings: [String]
        /// Where the outputs are copied.
        public let outputFolder: URL

        public init(stage: String, inputs: [String: URL], settings: [String], outputFolder: URL) {
            self.stage = stage
            self.inputs = inputs
            self.settings = settings
            self.outputFolder = outputFolder
        }
    }

    /// Checks the plugin in `folder`, reporting each step as it happens; with `trial`, also runs
    /// one of its stages between the handshake and the shutdown.
    /// - Returns: whether every step passed.
    public static func run(folder: URL, hostVersion: String, grace: Duration = .seconds(2), trial: Trial? = nil,
                           report: @escaping @Sendable (Line) -> Void) async -> Bool {
        let manifest: PluginManifest
        do {
            manifest = try PluginManifest(folder: folder)
        } catch {
            report(Line(ok: false, text: error.message + (error.hint.map { "\n  hint: \($0)" } ?? "")))
            return false
        }
        let stages = manifest.stages.map { stage in
            let inputs = stage.inputs.map { "\($0.name):\($0.kind.rawValue)" }.joined(separator: ", ")
            let outputs = stage.outputs.map { "\($0.name):\($0.kind.rawValue)" }.joined(separator: ", ")
            return "\(manifest.name).\(stage.name)@\(stage.version) (\(inputs.isEmpty ? "no inputs" : inputs) → \(outputs); "
                + "\(stage.parameters.count) params; timeout \(stage.timeout.seconds.formattedCompact) s)"
        }
        report(Line(ok: true, text: "plugin.json: \(manifest.name) \(manifest.version), protocol \(manifest.protocolVersion), "
                    + "concurrency \(manifest.concurrency), \(manifest.stages.count) stage\(manifest.stages.count == 1 ? "" : "s")"))
        for stage in stages { report(Line(ok: nil, text: stage)) }

        let (executable, _) = PluginProcess.resolve(manifest.command, folder: manifest.folder)
        report(Line(ok: true, text: "command: \(manifest.command.joined(separator: " ")) (program: \(executable.description), in \(manifest.folder.path))"))

        let process = PluginProcess(manifest: manifest, hostVersion: hostVersion, grace: grace)
        let clock = ContinuousClock()
        let start = clock.now
        await process.launch()
        var passed = true
        do {
            try await process.waitUntilReady()
            let pid = await process.processID.map { " (pid \($0))" } ?? ""
            report(Line(ok: true, text: "hello after \(Self.seconds(clock.now - start))\(pid): protocol 1, stages "
                        + manifest.stages.map(\.name).joined(separator: ", ") + " — they match plugin.json"))
        } catch {
            let farmError = error as? any FarmError
            report(Line(ok: false, text: "handshake failed: \(farmError?.message ?? "\(error)")" + (farmError?.hint.map { "\n  hint: \($0)" } ?? "")))
            passed = false
        }
        if passed, let trial {
            passed = await run(trial, manifest: manifest, process: process, hostVersion: hostVersion, report: report)
        }
        let stopping = clock.now
        let signal = await process.shutdown()
        let how = await process.exitDescription ?? "ended"
        switch signal {
        case nil where passed:
            report(Line(ok: true, text: "shutdown: exited by itself after \(Self.seconds(clock.now - stopping)) (\(how))"))
        case nil:
            break
        case let signal?:
            passed = false
            report(Line(ok: false, text: "shutdown: still running \(grace.seconds.formattedCompact) s after shutdown and the end of its input; "
                        + "farm sent \(signal == SIGKILL ? "SIGTERM, then SIGKILL" : "SIGTERM") (\(how))"))
        }
        let log = await process.logTail
        if !log.isEmpty, trial == nil {
            report(Line(ok: nil, text: "its log (standard error), last lines:\n" + log.suffix(15).map { "    | \($0)" }.joined(separator: "\n")))
        }
        return passed
    }

    /// Runs one stage the way a render would, and copies its outputs to the trial's folder.
    private static func run(_ trial: Trial, manifest: PluginManifest, process: PluginProcess, hostVersion: String,
                            report: @escaping @Sendable (Line) -> Void) async -> Bool {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            guard let stage = manifest.stage(named: trial.stage) else {
                throw UsageError("the plugin has no stage \"\(trial.stage)\"", hint: "its stages: " + manifest.stages.map(\.name).joined(separator: ", "))
            }
            let request = try request(for: trial, stage: stage)
            let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("farm-check-\(UUID().uuidString.prefix(8))", isDirectory: true)
            try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: scratch) }
            let context = StageContext(
                stageName: trial.stage, scratchDirectory: scratch, subject: .demo, ffmpeg: FFmpeg(), journal: TrialJournal()
            ) { progress in
                switch progress {
                case .progress(let fraction, let message):
                    report(Line(ok: nil, text: "progress \(fraction.map { String(format: "%3.0f%%", $0 * 100) } ?? "   ?")  \(message)"))
                case .log(let line):
                    report(Line(ok: nil, text: "| \(line)"))
                case .chunks(let done, let total, _):
                    report(Line(ok: nil, text: "chunks \(done)/\(total)"))
                }
            }
            report(Line(ok: true, text: "run \(manifest.name).\(stage.name) with " + request.parameters.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value.compactString)" }.joined(separator: " ")))
            let host = PluginHost(manifest: manifest, hostVersion: hostVersion, grace: process.grace)
            await host.adopt(process)
            let result = try await host.run(stage, request: request, context: context)
            try FileManager.default.createDirectory(at: trial.outputFolder, withIntermediateDirectories: true)
            var written: [String] = []
            for (port, file) in result.outputs.sorted(by: { $0.key < $1.key }) {
                let destination = trial.outputFolder.appendingPathComponent(port + (file.pathExtension.isEmpty ? "" : "." + file.pathExtension))
                try? FileManager.default.removeItem(at: destination)
                try FileManager.default.copyItem(at: file, to: destination)
                written.append("\(port) → \(destination.path)")
            }
            let metadata = result.metadata.isEmpty ? "" : "; metadata " + JSON.object(JSONObject(result.metadata.sorted { $0.key < $1.key })).compactString
            report(Line(ok: true, text: "result after \(seconds(clock.now - start)): " + written.joined(separator: ", ") + metadata))
            return true
        } catch {
            let farmError = error as? any FarmError
            report(Line(ok: false, text: "run failed: \(farmError?.message ?? "\(error)")" + (farmError?.hint.map { "\n  hint: \($0)" } ?? "")))
            return false
        }
    }

    /// The trial's inputs and parameters, checked against the stage like a profile would be.
    private static func request(for trial: Trial, stage: PluginManifest.Stage) throws -> StageRequest {
        var inputs: [String: Artifact] = [:]
        for port in stage.inputs {
            guard let file = trial.inputs[port.name] else {
                throw UsageError("input \"\(port.name)\" (\(port.kind.rawValue)) is not given", hint: "add --input \(port.name)=FILE")
            }
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int64 else {
                throw UsageError("input \"\(port.name)\": no such file: \(file.path)")
            }
            inputs[port.name] = Artifact(digest: "", path: file.standardizedFileURL, kind: port.kind, size: size)
        }
        if let extra = trial.inputs.keys.sorted().first(where: { stage.inputs.map(\.name).contains($0) == false }) {
            throw UsageError("the stage has no input \"\(extra)\"", hint: "its inputs: " + stage.inputs.map(\.name).joined(separator: ", "))
        }
        var parameters: [String: JSON] = [:]
        for setting in trial.settings {
            let parsed = try ParameterOverride(parsing: "trial." + setting)
            guard let spec = stage.parameters.first(where: { $0.name == parsed.parameter }) else {
                throw UsageError("the stage has no parameter \"\(parsed.parameter)\"", hint: "its parameters: " + stage.parameters.map(\.name).joined(separator: ", "))
            }
            if let problem = spec.problem(with: parsed.value) { throw UsageError("parameter \"\(parsed.parameter)\": \(problem)") }
            parameters[parsed.parameter] = parsed.value
        }
        for spec in stage.parameters where parameters[spec.name] == nil {
            if let value = spec.defaultValue {
                parameters[spec.name] = value
            } else if spec.required {
                throw UsageError("parameter \"\(spec.name)\" is required", hint: "add --set \(spec.name)=VALUE")
            }
        }
        return StageRequest(inputs: inputs, parameters: parameters)
    }

    private static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", duration.seconds)
    }
}


/// The journal of a trial run: kept in memory, gone afterwards.
private actor TrialJournal: StageJournal {
    private var entries: [String: String] = [:]
    func remember(_ key: String, _ value: String) { entries[key] = value }
    func recall(_ key: String) -> String? { entries[key] }
}
