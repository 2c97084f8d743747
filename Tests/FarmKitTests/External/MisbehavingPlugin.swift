import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// A plugin folder made for one test: a plugin.json that runs Tests/Fixtures/plugins/misbehave.py,
/// whose stages each break the protocol in their own way (the stage's name says how).
struct MisbehavingPlugin {
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/plugins/misbehave.py")

    let root: TemporaryDirectory
    let folder: URL
    let pids: URL
    let provider: ExternalProvider

    /// - Parameters:
    ///   - hello: how the handshake goes: ok, none, garbage, crash, wrong-version, wrong-protocol, wrong-stages,
    ///     early (a message before the hello), twice (two hellos).
    ///   - timeout: each stage's timeout_seconds.
    ///   - concurrency: how many runs farm sends the process at once.
    init(stages: [String], hello: String = "ok", ignoreTerm: Bool = false, timeout: Double = 20, startTimeout: Double = 20,
         command: [String]? = nil, retries: Int = 1, concurrency: Int = 1) throws {
        root = try TemporaryDirectory("farm-plugin")
        folder = root.file("misbehave")
        pids = root.file("pids")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: pids, withIntermediateDirectories: true)
        var argv: [JSON] = ["python3", .string(Self.script.path), "--stages", .string(stages.joined(separator: ",")),
                            "--hello", .string(hello), "--pids", .string(pids.path)]
        if ignoreTerm { argv.append("--ignore-term") }
        let manifest: JSON = [
            "protocol": 1, "name": "misbehave", "version": "1.0.0", "summary": "breaks the protocol on purpose",
            "command": .array(command.map { $0.map(JSON.string) } ?? argv),
            "start_timeout_seconds": .double(startTimeout), "retries": .integer(Int64(retries)), "concurrency": .integer(Int64(concurrency)),
            "stages": .array(stages.map { stage in
                [
                    "name": .string(stage), "timeout_seconds": .double(timeout),
                    "outputs": [["name": "out", "kind": "file"]],
                    "params": [["name": "text", "type": "string", "default": "hi"]],
                ]
            }),
        ]
        try manifest.prettyString.write(to: folder.appendingPathComponent("plugin.json"), atomically: true, encoding: .utf8)
        provider = ExternalProvider(manifest: try PluginManifest(folder: folder), hostVersion: "test", grace: .seconds(1))
    }

    /// Runs one stage of the plugin with a fresh scratch folder.
    func run(_ stage: String, reports: StageReports = StageReports()) async throws -> StageResult {
        let scratch = root.file("scratch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        let context = TestStageContext.make(scratch: scratch, stageName: stage, reports: reports)
        let implementation = try #require(provider.stages().first { $0.id.name == "misbehave.\(stage)" })
        return try await implementation.run(StageRequest(inputs: [:], parameters: ["text": "hi"]), in: context)
    }

    /// Runs a stage that must fail; returns the plugin error it failed with.
    func failure(_ stage: String, reports: StageReports = StageReports()) async throws -> PluginError {
        do {
            _ = try await run(stage, reports: reports)
        } catch let error as PluginError {
            return error
        }
        Issue.record("stage \(stage) did not fail")
        throw CancellationError()
    }

    /// Every process the plugin started (itself, helpers), by the pids it recorded.
    var recordedPIDs: [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: pids.path)) ?? []).compactMap(Int32.init)
    }

    /// Expects that none of the plugin's processes is alive (waiting up to 5 s for them to go).
    func expectNothingSurvives(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let recorded = recordedPIDs
        #expect(!recorded.isEmpty, "the plugin recorded no pid", sourceLocation: sourceLocation)
        let survivors = try await ProcessTable.waitFor { () -> [Int32]? in
            let alive = recorded.filter(ProcessTable.isAlive)
            return alive.isEmpty ? [] : nil
        }
        #expect(survivors != nil, "still running: \(recorded.filter(ProcessTable.isAlive))", sourceLocation: sourceLocation)
    }

    /// Shuts the plugin down, kills anything it left (so a failing test leaks nothing), removes the folder.
    func remove() async {
        await provider.shutdown()
        for pid in recordedPIDs where ProcessTable.isAlive(pid) { kill(pid, SIGKILL) }
        root.remove()
    }
}
