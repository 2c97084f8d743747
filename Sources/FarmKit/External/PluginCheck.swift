import Foundation

/// `farm plugins check`: reads a plugin's manifest, starts it, does the handshake and shuts it
/// down, reporting each step, so an author can test a plugin on its own.
public enum PluginCheck {
    /// One finding.
    public struct Line: Sendable {
        public let ok: Bool
        public let text: String
    }

    /// Checks the plugin in `folder`, reporting each step as it happens.
    /// - Returns: whether every step passed.
    public static func run(folder: URL, hostVersion: String, grace: Duration = .seconds(2),
                           report: @Sendable (Line) -> Void) async -> Bool {
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
        for stage in stages { report(Line(ok: true, text: "  " + stage)) }

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
        if !log.isEmpty {
            report(Line(ok: true, text: "its log (standard error), last lines:\n" + log.suffix(15).map { "  | \($0)" }.joined(separator: "\n")))
        }
        return passed
    }

    private static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", duration.seconds)
    }
}
