import Foundation

/// The host side of one plugin: starts its process on the first run of one of its stages, reuses
/// it for later runs, keeps at most `concurrency` runs on it at once, starts a new one after a
/// crash, and shuts it down at the end of the render.
public actor PluginHost {
    public nonisolated let manifest: PluginManifest
    let hostVersion: String
    let grace: Duration
    private var process: PluginProcess?
    private var available: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// How many processes this host started (for tests and `farm plugins check`).
    public private(set) var launches = 0

    public init(manifest: PluginManifest, hostVersion: String, grace: Duration = .seconds(2)) {
        self.manifest = manifest
        self.hostVersion = hostVersion
        self.grace = grace
        available = manifest.concurrency
    }

    /// The id of the running process, if one is running.
    public var processID: Int32? {
        get async {
            guard let process, !process.ended.isSet else { return nil }
            return await process.processID
        }
    }

    /// Starts the process (if none is running) and waits for its hello.
    public func start() async throws {
        _ = try await readyProcess()
    }

    /// Runs one stage to the end: retries answers marked `retryable`, maps every other ending to
    /// a result or an error that names the plugin.
    func run(_ stage: PluginManifest.Stage, request: StageRequest, context: StageContext) async throws -> StageResult {
        await acquire()
        defer { release() }
        try Task.checkCancellation()
        let inputs = request.inputs.mapValues(\.path.path)
        var attempt = 1
        while true {
            let process = try await readyProcess()
            try Task.checkCancellation()
            let ending = await process.run(stage: stage, inputs: inputs, params: JSONObject(request.parameters.sorted { $0.key < $1.key }),
                                           outputDirectory: context.scratchDirectory, context: context, attempt: attempt)
            if Task.isCancelled || ending.stopReason == .interrupted { throw CancellationError() }
            if ending.stopReason == .timedOut { throw process.timeoutError(stage: stage.name, timeout: stage.timeout) }
            switch ending.outcome {
            case .result(let outputs, let metadata):
                return StageResult(outputs: try checkedOutputs(outputs, stage: stage, folder: context.scratchDirectory), metadata: metadata)
            case .broken(let error):
                throw error
            case .failure(let failure):
                guard failure.retryable, attempt <= manifest.retries else { throw error(for: failure, stage: stage) }
                context.log("farm: plugin \(manifest.name) says the failure is temporary (\(failure.message)); trying again (\(attempt + 1) of \(manifest.retries + 1))")
                try await Task.sleep(for: .seconds(attempt))
                try Self.emptyFolder(context.scratchDirectory)
                attempt += 1
            }
        }
    }

    /// Stops the process, if one is running, and waits until it is gone.
    public func shutdown() async {
        guard let process else { return }
        self.process = nil
        // Not cancelled with the caller: the grace periods must really pass.
        _ = await Task { await process.shutdown() }.value
    }

    /// Uses `process` (already started) for the next runs (`farm plugins check --run`).
    func adopt(_ process: PluginProcess) {
        self.process = process
        launches += 1
    }

    private func readyProcess() async throws -> PluginProcess {
        if let process, !process.ended.isSet {
            try await process.waitUntilReady()
            return process
        }
        let process = PluginProcess(manifest: manifest, hostVersion: hostVersion, grace: grace)
        self.process = process
        launches += 1
        await process.launch()
        try await process.waitUntilReady()
        return process
    }

    private func error(for failure: PluginRunFailure, stage: PluginManifest.Stage) -> PluginError {
        PluginError("plugin \"\(manifest.name)\", stage \"\(stage.name)\": \(failure.message)", hint: failure.hint,
                    exitCode: failure.code == "bad_input" ? ExitStatus.badInput : ExitStatus.stageFailed)
    }

    /// The outputs a result names, checked: every declared output and no other, each a regular
    /// file inside the run's output folder. Relative paths are relative to that folder.
    private func checkedOutputs(_ outputs: [String: String], stage: PluginManifest.Stage, folder: URL) throws -> [String: URL] {
        let name = "plugin \"\(manifest.name)\", stage \"\(stage.name)\""
        let root = folder.standardizedFileURL.resolvingSymlinksInPath().path + "/"
        if let extra = outputs.keys.sorted().first(where: { stage.outputs.map(\.name).contains($0) == false }) {
            throw PluginError("\(name): the result names output \"\(extra)\", which plugin.json does not declare",
                              hint: "declared outputs: \(stage.outputs.map(\.name).joined(separator: ", "))")
        }
        var files: [String: URL] = [:]
        for port in stage.outputs {
            guard let path = outputs[port.name] else {
                throw PluginError("\(name): the result has no output \"\(port.name)\"", hint: "a result names every output plugin.json declares")
            }
            let given = path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path)
            let url = given.standardizedFileURL.resolvingSymlinksInPath()
            guard url.path.hasPrefix(root) else {
                throw PluginError("\(name): output \"\(port.name)\" is outside the run's output folder: \(url.path)",
                                  hint: "write outputs inside the run's output_dir (\(folder.path)); farm moves them into its store")
            }
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
                throw PluginError("\(name): reported success, but output \"\(port.name)\" does not exist: \(url.path)")
            }
            guard !isFolder.boolValue else {
                throw PluginError("\(name): output \"\(port.name)\" is a folder, not a file: \(url.path)")
            }
            files[port.name] = url
        }
        return files
    }

    private static func emptyFolder(_ folder: URL) throws {
        for item in try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil) {
            try FileManager.default.removeItem(at: item)
        }
    }

    private func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            available += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
