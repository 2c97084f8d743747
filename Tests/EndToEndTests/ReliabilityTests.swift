import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Synchronization
import Testing

/// Never pay twice, never lose a render: renders killed at seeded moments, renders under injected
/// faults, two processes on one FARM_HOME, and a full disk. Each test prints its figures
/// (`reliability: …`), which RELIABILITY.md records.
@Suite(.serialized) struct ReliabilityTests {
    /// The models of one vivid render and how many distinct stage keys each has (so how many
    /// predictions a render may create of it).
    static let predictionsPerRender = ["farm-test/alice-flux": 1, "zsxkib/realistic-voice-cloning": 2, "zsxkib/sonic": 1]

    @Test func runsResumeContinuesAKilledRenderFromItsOwnFolder() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 4, to: sandbox.file("song.wav"))
        let killed = try await sandbox.farm.run(
            ["render", "--profile", "offline", "--song", "song.wav", "--json"],
            killWhen: { $0.contains(#""event":"progress","stage":"performance""#) })
        #expect(killed.status == 137)
        let listed = try await sandbox.farm.run(["runs", "list", "--json"])
        let run = try #require(try listed.jsonLines().first?.objectValue)
        #expect(run["status"] == "interrupted", "a killed run must not stay 'running'")
        #expect(!sandbox.temporaryFiles.isEmpty, "the kill left no scratch folder, so the clean-up is not tested")

        // Resumed from elsewhere: the relative song path and the output land in the run's own folder.
        let elsewhere = FarmCLI(home: sandbox.farm.home, workingDirectory: sandbox.root.url, environment: sandbox.farm.environment)
        let id = try #require(run["run"]?.stringValue)
        let resumed = try await elsewhere.run(["runs", "resume", String(id.prefix(17)), "--json"])
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        let statuses = try resumed.stageStatuses()
        // What the killed stage needed is cached; the cover may still have been running beside it.
        #expect(statuses["song"] == "cached" && statuses["portrait"] == "cached" && statuses["vocals"] == "cached", "\(statuses)")
        #expect(statuses["performance"] == "succeeded")
        #expect(try resumed.finished()["output"]?.stringValue == sandbox.file("demo-song.mp4").path)
        #expect(sandbox.temporaryFiles.isEmpty, "left in tmp: \(sandbox.temporaryFiles)")
        let shown = try await sandbox.farm.run(["runs", "list", "--json"])
        #expect(try shown.jsonLines().first?["resumed_from"]?.stringValue == id)
        _ = song

        let unknown = try await sandbox.farm.run(["runs", "resume", "19990101"])
        #expect(unknown.status == 2)
        #expect(unknown.standardError.contains("error: no run \"19990101\""))
    }

    /// Kills `farm render --profile vivid` at 20 seeded moments spread over a whole render (after
    /// its N-th event line, so the points stay spread however loaded the machine is), and at two
    /// fixed ones: while the `video` mux runs, and once it is done, while the result is copied to
    /// `--out`. Each is resumed, and must give the same video as an uninterrupted render, with no
    /// prediction made twice and no partial file left beside the output.
    @Test func aRenderKilledAtAnyMomentResumesWithoutPayingTwice() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.03 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let clock = ContinuousClock()
        let began = clock.now
        let reference = try await vivid.render(["--out", "reference.mp4"], song: song)
        #expect(reference.status == 0, "stderr: \(reference.standardError)")
        let length = clock.now - began
        let expected = try Data(contentsOf: vivid.sandbox.file("reference.mp4"))
        let events = reference.standardOutput.split(separator: "\n").count

        var random = SplitMix64(seed: 20261201)
        // Over every event but the last (`finished`); how many progress lines a render prints varies
        // with timing, so a late point may fall after the render ended.
        let drawn = (0..<20).map { _ in Int.random(in: 1..<max(2, events), using: &random) }.sorted()
        var points: [KillPoint] = drawn.map { n in KillPoint("event \(n)") { _, count in count == n } }
        for status in ["running", "succeeded"] {
            points.append(KillPoint("video \(status)") { line, _ in
                line.contains(#""event":"stage""#) && line.contains(#""stage":"video""#) && line.contains(#""status":"\#(status)""#)
            })
        }
        var killedMidway = 0, resumedByID = 0
        var outputs: [String] = [reference.standardOutput, reference.standardError]
        for point in points {
            let sandbox = try await vivid.freshSandbox()
            defer { sandbox.remove() }
            try FileManager.default.copyItem(at: song, to: sandbox.file("song.wav"))
            let before = vivid.server.ledger().predictions
            let arguments = ["render", "--profile", "vivid", "--subject", "alice", "--song", "song.wav", "--out", "out.mp4", "--json"]
            let seen = Mutex(0)
            let killed = try await sandbox.farm.run(arguments, killWhen: { line in
                line.hasPrefix("{") && point.kills(line, seen.withLock { count in count += 1; return count })
            })
            outputs += [killed.standardOutput, killed.standardError]
            if killed.status == 137 {
                killedMidway += 1
                let runs = try await sandbox.farm.run(["runs", "list", "--json"])
                let resumed: FarmCLI.Result
                if let id = try runs.jsonLines().first?["run"]?.stringValue {
                    resumedByID += 1
                    resumed = try await sandbox.farm.run(["runs", "resume", id, "--json"])
                } else {
                    resumed = try await sandbox.farm.run(arguments)
                }
                outputs += [resumed.standardOutput, resumed.standardError]
                #expect(resumed.status == 0, "killed at \(point): \(resumed.standardError)")
            } else {
                #expect(killed.status == 0, "killed at \(point): \(killed.standardError)")
            }
            #expect(try Data(contentsOf: sandbox.file("out.mp4")) == expected, "killed at \(point): a different video")
            let made = vivid.server.ledger().predictions.filter { !before.contains($0) }
            for (model, count) in Self.predictionsPerRender {
                #expect(made.filter { $0.model == model }.count == count,
                        "killed at \(point): \(made.filter { $0.model == model }.count) predictions of \(model)")
            }
            #expect(sandbox.temporaryFiles.isEmpty, "killed at \(point): left in tmp: \(sandbox.temporaryFiles)")
            let partial = try FileManager.default.contentsOfDirectory(atPath: sandbox.farm.workingDirectory.path).filter { $0.hasSuffix(".part") }
            #expect(partial.isEmpty, "killed at \(point): partial files beside the output: \(partial)")
            try SecretScan.expectAbsent(VividSandbox.token, under: sandbox.root.url, outputs: outputs)
            try await StoreCheck.expectIntact(home: sandbox.farm.home)
        }
        print("reliability: crash suite: \(points.count) kill points (\(drawn.count) over the \(events) events of a \(length) render, 2 at the video stage), \(killedMidway) killed midway (\(resumedByID) resumed by run id), 0 duplicate predictions")
        #expect(killedMidway >= 12, "most kill points must fall inside the render")
        try SecretScan.expectAbsent(VividSandbox.token, under: vivid.sandbox.root.url, outputs: outputs)
    }

    /// A render killed while Sonic runs, resumed only after Replicate deleted Sonic's outputs:
    /// that stage alone is made again; the others come from the cache.
    @Test func aResumeAfterTheOutputsExpiredRerunsOnlyThatStage() async throws {
        let vivid = try await VividSandbox.start {
            $0.latencyScale = 0.1
            $0.outputRetention = 4
        }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let killed = try await vivid.sandbox.farm.run(
            ["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json"],
            killWhen: { $0.contains("\"event\":\"log\"") && $0.contains("of zsxkib/sonic") && $0.contains("created") })
        #expect(killed.status == 137)
        // Wait for Sonic to finish on the server and for its outputs to be deleted.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let sonic = vivid.server.ledger().predictions(of: "zsxkib/sonic").first, let done = sonic.completedAt,
               Date().timeIntervalSince(done) > 5 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let resumed = try await vivid.render(song: song)
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        let statuses = try resumed.stageStatuses()
        #expect(statuses["portrait"] == "cached" && statuses["cover"] == "cached" && statuses["vocals"] == "cached", "\(statuses)")
        #expect(statuses["performance"] == "succeeded")
        #expect(resumed.standardOutput.contains("outputs expired; making a new one"), "\(resumed.standardOutput)")
        let ledger = vivid.server.ledger()
        #expect(ledger.predictions(of: "zsxkib/sonic").count == 2)
        #expect(ledger.predictions(of: "farm-test/alice-flux").count == 1)
        #expect(ledger.predictions(of: "zsxkib/realistic-voice-cloning").count == 2)
        let outputs = [killed.standardOutput, killed.standardError, resumed.standardOutput, resumed.standardError]
        try SecretScan.expectAbsent(VividSandbox.token, under: vivid.sandbox.root.url, outputs: outputs)
    }

    /// A fifth of every class of request fails (rate limits, server errors, dropped connections,
    /// lost create responses, slow and truncated downloads) and a fifth of predictions fail: every
    /// render ends, at worst after a few re-runs, and never with a second paid prediction for a stage.
    /// Prints how often each kind of fault fired (which requests the draws hit depends on timing).
    @Test func renderUnderInjectedFaultsFinishesWithoutDuplicatePredictions() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.02 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let faults: [(FakeReplicate.RequestClass, FakeReplicate.Fault)] = [
            (.create, .responseLost), (.create, .rateLimited(retryAfter: 1)), (.create, .serverError(status: 500)),
            (.get, .serverError(status: 503)), (.get, .dropConnection), (.get, .rateLimited(retryAfter: 1)),
            (.list, .serverError(status: 502)),
            (.files, .serverError(status: 502)), (.files, .dropConnection),
            (.delivery, .truncated), (.delivery, .slow(seconds: 0.5)), (.delivery, .dropConnection),
        ]
        var renders = 0, attempts = 0, failedAttempts = 0
        var outputs: [String] = []
        for seed in UInt64(1)...4 {
            vivid.server.clearFaults()
            // The faults of a class share its 20 %.
            let rules = faults.map { rule in
                FakeReplicate.FaultRule(rule.0, rule.1, probability: 0.2 / Double(faults.filter { $0.0 == rule.0 }.count))
            }
            let sandbox = try await vivid.freshSandbox()
            defer { sandbox.remove() }
            // After the sandbox is made: its requests (adding alice) are the test's, not farm's.
            vivid.server.inject(FakeReplicate.Faults(rules: rules, failures: [.init(probability: 0.2)], seed: seed))
            try FileManager.default.copyItem(at: song, to: sandbox.file("song.wav"))
            let before = vivid.server.ledger().predictions
            renders += 1
            var succeeded = false
            for _ in 1...6 where !succeeded {
                attempts += 1
                let result = try await sandbox.farm.run(
                    ["render", "--profile", "vivid", "--subject", "alice", "--song", "song.wav", "--out", "out.mp4", "--json"])
                outputs += [result.standardOutput, result.standardError]
                if result.status == 0 {
                    succeeded = true
                } else {
                    failedAttempts += 1
                    #expect(result.status == 1, "seed \(seed): \(result.standardError)")
                    let error = try result.finished()["error"]?.stringValue ?? ""
                    #expect(!error.isEmpty && !result.standardError.contains("Fatal error"), "seed \(seed): \(result.standardError)")
                }
            }
            #expect(succeeded, "seed \(seed): still failing after 6 attempts")
            let made = vivid.server.ledger().predictions.filter { !before.contains($0) }
            // Failed predictions are re-made by the next attempt; any other repeat is paid twice.
            let paid = Dictionary(grouping: made.filter { $0.status != "failed" }) { "\($0.model) \($0.input.canonicalString)" }
            #expect(paid.values.allSatisfy { $0.count == 1 }, "seed \(seed): \(paid.filter { $0.value.count > 1 }.keys)")
            #expect(made.filter { $0.status == "succeeded" }.count == Self.predictionsPerRender.values.reduce(0, +))
            try SecretScan.expectAbsent(VividSandbox.token, under: sandbox.root.url, outputs: outputs)
        }
        let ledger = vivid.server.ledger()
        let kinds = faults.map { rule in
            (name: "\(rule.0.rawValue) \(rule.1.name)", fired: ledger.faults.filter { $0.requestClass == rule.0 && $0.fault == rule.1 }.count)
        }
        let failedPredictions = ledger.predictions.filter { $0.status == "failed" }.count
        print("reliability: fault suite: \(renders) renders, \(attempts) attempts (\(failedAttempts) failed by an injected prediction failure or exhausted retries), \(ledger.faults.count) faults injected (\(kinds.map { "\($0.name) \($0.fired)" }.joined(separator: ", ")); \(failedPredictions) predictions failed), 0 duplicate paid predictions")
        #expect(ledger.faults.count >= 10, "too few faults fired to mean anything: \(ledger.faults.count)")
    }

    /// Two renders of the same song on one FARM_HOME at once: each stage runs once, both succeed.
    @Test func twoProcessesOnOneHomeShareEveryStage() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.03 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let farm = vivid.sandbox.farm
        async let first = farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--out", "a.mp4", "--json"])
        async let second = farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--out", "b.mp4", "--json"])
        let (a, b) = try await (first, second)
        #expect(a.status == 0, "stderr: \(a.standardError)")
        #expect(b.status == 0, "stderr: \(b.standardError)")
        let ledger = vivid.server.ledger()
        for (model, count) in Self.predictionsPerRender {
            #expect(ledger.predictions(of: model).count == count, "\(ledger.predictions(of: model).count) predictions of \(model)")
        }
        #expect(try Data(contentsOf: vivid.sandbox.file("a.mp4")) == Data(contentsOf: vivid.sandbox.file("b.mp4")))
        let waited = (a.standardOutput + b.standardOutput).contains("waiting for another farm process running this stage")
        #expect(waited, "neither render waited for the other")
        let runs = try await farm.run(["runs", "list", "--json"])
        #expect(try runs.jsonLines().map { $0["status"] } == ["succeeded", "succeeded"])
        try await StoreCheck.expectIntact(home: farm.home)
        try SecretScan.expectAbsent(VividSandbox.token, under: vivid.sandbox.root.url,
                                    outputs: [a.standardOutput, a.standardError, b.standardOutput, b.standardError])
    }

    /// A full disk under FARM_HOME or under the output folder: a clear error, exit 1, the store
    /// still opens and holds no half-written file. Needs root to mount a small tmpfs.
    @Test(.enabled(if: SmallDisk.canMount, "needs root and tmpfs to make a small disk"))
    func aFullDiskGivesAClearErrorAndLeavesTheStoreConsistent() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let song = try await TestMedia.sineWAV(seconds: 12, to: sandbox.file("song.wav"))

        let smallHome = try await SmallDisk(at: sandbox.root.file("small-home"), bytes: 1_200_000)
        defer { smallHome.unmount() }
        let farm = FarmCLI(home: smallHome.url, workingDirectory: sandbox.farm.workingDirectory)
        let full = try await farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "x.mp4"])
        #expect(full.status == 1, "stderr: \(full.standardError)")
        #expect(full.standardError.lowercased().contains("no space left on device"), "stderr: \(full.standardError)")
        #expect(!full.standardError.contains("Fatal error"))
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: smallHome.url.appendingPathComponent("tmp").path)) ?? []).isEmpty)
        let listed = try await farm.run(["runs", "list", "--json"])
        #expect(listed.status == 0, "the store does not open after a full disk: \(listed.standardError)")
        #expect(try listed.jsonLines().first?["status"] == "failed")
        try await StoreCheck.expectIntact(home: smallHome.url)

        let smallOut = try await SmallDisk(at: sandbox.root.file("small-out"), bytes: 100_000)
        defer { smallOut.unmount() }
        let noRoom = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", smallOut.url.appendingPathComponent("v.mp4").path])
        #expect(noRoom.status == 1, "stderr: \(noRoom.standardError)")
        #expect(noRoom.standardError.contains("error: cannot write the result to \(smallOut.url.path)/v.mp4"), "stderr: \(noRoom.standardError)")
        #expect(noRoom.standardError.lowercased().contains("no space left on device"), "stderr: \(noRoom.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: smallOut.url.path).isEmpty, "a partial video was left")
        let again = try await sandbox.farm.run(["render", "--profile", "offline", "--song", song.path, "--out", "v.mp4", "--json"])
        #expect(again.status == 0, "stderr: \(again.standardError)")
        #expect(try again.stageStatuses().values.allSatisfy { $0 == "cached" })
    }
}

extension ReliabilityTests {
    /// A vivid render whose FARM_HOME fills up while Sonic's output downloads, then while the
    /// `video` mux writes: that stage fails with a clear error and a hint about free space (not
    /// ffmpeg's output), the store stays consistent, and with room again the same command finishes
    /// from the cache. A 60 s song, so each of those files is far larger than the room left.
    @Test(.enabled(if: SmallDisk.canMount, "needs root and tmpfs to make a small disk"))
    func aDiskThatFillsDuringADownloadOrTheMuxFailsThatStageClearly() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 60, to: vivid.sandbox.file("song.wav"))
        let roomy = try await vivid.freshSandbox()
        defer { roomy.remove() }
        let disk = try await SmallDisk(at: roomy.root.file("disk"), bytes: 160 << 20)
        defer { disk.unmount() }
        for name in try FileManager.default.contentsOfDirectory(atPath: roomy.farm.home.path) {  // alice, already added
            try FileManager.default.copyItem(at: roomy.farm.home.appendingPathComponent(name), to: disk.url.appendingPathComponent(name))
        }
        let farm = FarmCLI(home: disk.url, workingDirectory: roomy.farm.workingDirectory,
                           environment: roomy.farm.environment.filter { $0.key.hasPrefix("REPLICATE_") })
        let render = ["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--out", "v.mp4",
                      "--set", "performance.chunk_seconds=120"]
        let first = try await farm.run(render)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let room: Int64 = 400 << 10
        var outputs = [first.standardOutput, first.standardError]
        // A new Sonic seed re-makes the performance (a download); a new bitrate re-makes the mux.
        for (stage, change) in [("performance", "performance.seed=43"), ("video", "video.audio_bitrate=128k")] {
            let filler = disk.url.appendingPathComponent("filler")
            var space = statvfs()
            #expect(statvfs(disk.url.path, &space) == 0)
            try Data(count: Int(Int64(space.f_bavail) * Int64(space.f_frsize) - room)).write(to: filler)
            let full = try await farm.run(render + ["--set", change])
            outputs += [full.standardOutput, full.standardError]
            #expect(full.status == 1, "\(stage): stderr: \(full.standardError)")
            let said = full.standardError
            #expect(said.contains("error: stage \(stage) failed: "), "\(stage): \(said)")
            #expect(said.contains("No space left on device"), "\(stage): \(said)")
            #expect(said.contains("hint: ") && said.contains("free"), "\(stage): no hint about free space: \(said)")
            for raw in ["ffmpeg version", "Stream mapping", "Fatal error", "failed with exit status"] {
                #expect(!said.contains(raw), "\(stage): raw output (\(raw)): \(said)")
            }
            let listed = try await farm.run(["runs", "list", "--json"])
            #expect(try listed.jsonLines().first?["status"] == "failed")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: disk.url.appendingPathComponent("tmp").path)) ?? []).isEmpty)
            try await StoreCheck.expectIntact(home: disk.url)

            try FileManager.default.removeItem(at: filler)
            let again = try await farm.run(render + ["--set", change, "--json"])
            outputs += [again.standardOutput, again.standardError]
            #expect(again.status == 0, "\(stage): stderr: \(again.standardError)")
            let statuses = try again.stageStatuses()
            // The video is cached when the new performance came out the same (the fake ignores the seed).
            #expect(statuses[stage] == "succeeded" && statuses.allSatisfy { $0.key == stage || $0.key == "video" || $0.value == "cached" },
                    "\(stage): \(statuses)")
        }
        try SecretScan.expectAbsent(VividSandbox.token, under: roomy.root.url, outputs: outputs)
        print("reliability: full disk: filled while the performance downloaded and while the video muxed, each that stage failed with a clear error; store intact; then finished from the cache")
    }
}

/// When the crash suite kills a render: `kills(line, n)` for its n-th event line.
struct KillPoint: Sendable, CustomStringConvertible {
    let description: String
    let kills: @Sendable (_ line: String, _ count: Int) -> Bool

    init(_ description: String, kills: @escaping @Sendable (_ line: String, _ count: Int) -> Bool) {
        self.description = description
        self.kills = kills
    }
}

/// Searches every byte farm wrote for a secret.
enum SecretScan {
    static func expectAbsent(_ secret: String, under folder: URL, outputs: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (index, text) in outputs.enumerated() where text.contains(secret) {
            Issue.record("the token appears in captured output #\(index)", sourceLocation: sourceLocation)
        }
        let needle = Data(secret.utf8)
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let file = files?.nextObject() as? URL {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: file) else { continue }
            if data.range(of: needle) != nil {
                Issue.record("the token appears in \(file.path)", sourceLocation: sourceLocation)
            }
        }
    }
}

/// Checks a FARM_HOME after a crash: every artifact's bytes match its name, and the store opens.
enum StoreCheck {
    static func expectIntact(home: URL, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let store = try Store(home: home)
        _ = try await store.runs(limit: 1000)
        let artifacts = home.appendingPathComponent("artifacts")
        let files = FileManager.default.enumerator(at: artifacts, includingPropertiesForKeys: [.isRegularFileKey])
        while let file = files?.nextObject() as? URL {
            guard (try? file.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            var hash = SHA256()
            hash.update(try Data(contentsOf: file))
            let digest = hash.finalize().map { String(format: "%02x", $0) }.joined()
            if digest != file.lastPathComponent {
                Issue.record("corrupt artifact \(file.path)", sourceLocation: sourceLocation)
            }
        }
    }
}

/// A tmpfs of a few bytes mounted for one test, to fill up.
struct SmallDisk {
    let url: URL

    /// Whether this process may mount a tmpfs (root on Linux).
    static let canMount: Bool = {
        guard geteuid() == 0 else { return false }
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("farm-mount-probe-\(getpid())")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard SmallDisk.mountTmpfs(at: probe, bytes: 65_536) else { return false }
        umount(probe.path)
        return true
    }()

    init(at url: URL, bytes: Int) async throws {
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        guard Self.mountTmpfs(at: url, bytes: bytes) else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EPERM)
        }
        self.url = url
    }

    private static func mountTmpfs(at url: URL, bytes: Int) -> Bool {
        "size=\(bytes)".withCString { options in mount("tmpfs", url.path, "tmpfs", 0, options) == 0 }
    }

    func unmount() {
        umount(url.path)
    }
}
