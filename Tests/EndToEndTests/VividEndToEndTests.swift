import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// `farm render --profile vivid` against the fake Replicate server on 127.0.0.1.
/// A fake Replicate server and a sandboxed farm with the subject `alice` trained on it.
struct VividSandbox {
    /// Distinctive, so a search of everything farm wrote for it cannot match by accident.
    static let token = "r8_Fa7mT3stT0kenQx9Zv2"

    let sandbox: Sandbox
    let server: FakeReplicateServer
    let voiceURL: URL

    static func start(configure: (inout FakeReplicate.Configuration) -> Void = { _ in }) async throws -> VividSandbox {
        var configuration = FakeReplicate.Configuration()
        configuration.latencyScale = 0.02
        configuration.tokens = [token]
        configure(&configuration)
        let server = FakeReplicateServer(configuration: configuration)
        let base = try await server.start()
        let sandbox = try Sandbox(environment: ["REPLICATE_API_TOKEN": token, "REPLICATE_BASE_URL": base.absoluteString])
        let voiceURL = try server.publish(try await Self.voiceZip(in: sandbox.root), as: "alice.zip")
        let vivid = VividSandbox(sandbox: sandbox, server: server, voiceURL: voiceURL)
        try await vivid.addAlice(to: sandbox)
        return vivid
    }

    /// Another FARM_HOME on the same server, with `alice` added.
    func freshSandbox() async throws -> Sandbox {
        let fresh = try Sandbox(environment: ["REPLICATE_API_TOKEN": Self.token, "REPLICATE_BASE_URL": server.baseURL!.absoluteString])
        try await addAlice(to: fresh)
        return fresh
    }

    private func addAlice(to sandbox: Sandbox) async throws {
        let version = try await latestVersion(of: "farm-test/alice-flux")
        let added = try await sandbox.farm.run(["subjects", "add", "alice", "--trigger", "TOK", "--lora", "farm-test/alice-flux:\(version)",
                                                "--voice", voiceURL.absoluteString, "--pitch", "male-to-female"])
        #expect(added.status == 0, "\(added.standardError)")
    }

    func stop() async {
        await server.stop()
        sandbox.remove()
    }

    func render(_ extra: [String] = [], song: URL) async throws -> FarmCLI.Result {
        try await sandbox.farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json"] + extra)
    }

    /// A small RVC-model-like zip made with Python's zipfile.
    static func voiceZip(in folder: TemporaryDirectory) async throws -> Data {
        let zip = folder.file("alice.zip")
        let script = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('alice.pth', b'weights'*64); z.writestr('added_alice.index', b'index'); z.close()"
        let result = try await ProcessRunner.run("python3", ["-c", script, zip.path])
        #expect(result.status == 0)
        return try Data(contentsOf: zip)
    }

    func latestVersion(of model: String) async throws -> String {
        let url = server.baseURL!.appendingPathComponent("models/\(model)")
        let response = try await HTTPClient().send(HTTPRequest(url: url, headers: [(name: "Authorization", value: "Bearer \(Self.token)")]))
        return try #require(try response.json()["latest_version"]?["id"]?.stringValue)
    }
}

@Suite(.serialized) struct VividEndToEndTests {
    @Test func aVividRenderMakesFourPredictionsInParallelAndARepeatMakesNone() async throws {
        // Latencies at a tenth of the real ones, so the model runs are long enough to overlap visibly;
        // the portrait takes 4 s, so it still runs when the covers start after the song is ready.
        let vivid = try await VividSandbox.start {
            $0.latencyScale = 0.1
            $0.latencies["farm-test/alice-flux"] = FakeReplicate.Latency(startup: 2, base: 38)
        }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.mp3(seconds: 3, to: vivid.sandbox.file("song.mp3"), title: "Test Tune")

        let first = try await vivid.render(["--out", "alice.mp4"], song: song)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let summary = try first.finished()
        #expect(summary["status"] == "succeeded")
        #expect(summary["estimated_cost_usd"]?.doubleValue ?? 0 > 0)
        // Each Replicate stage reports its model time and its estimated cost (per second of model
        // time at the price list's rate); the local stages report neither.
        let stages = try #require(summary["stages"])
        let rates = ["portrait": 0.001525, "cover": 0.000725, "vocals": 0.000725, "performance": 0.0014]
        var stageCosts = 0.0
        for (name, rate) in rates {
            let time = stages[name]?["predict_time"]?.doubleValue ?? 0
            let cost = stages[name]?["estimated_cost_usd"]?.doubleValue ?? 0
            #expect(time > 0, "\(name) has no predict_time")
            #expect(abs(cost - time * rate) <= 0.00006, "\(name): $\(cost) for \(time) s at $\(rate)/s")
            stageCosts += cost
        }
        for name in ["song", "sound", "video"] {
            #expect(stages[name]?["predict_time"] == nil && stages[name]?["estimated_cost_usd"] == nil, "\(name) is not a Replicate stage")
        }
        #expect(abs((summary["estimated_cost_usd"]?.doubleValue ?? 0) - stageCosts) < 1e-9)

        let info = try await FFmpeg().probe(vivid.sandbox.file("alice.mp4"))
        let songInfo = try await FFmpeg().probe(song)
        #expect(info.video?.codec == "h264" && info.audio?.codec == "aac")
        #expect(abs((info.duration ?? 0) - (songInfo.duration ?? 0)) < 0.25)

        let ledger = vivid.server.ledger()
        #expect(ledger.predictions(of: "farm-test/alice-flux").count == 1)
        #expect(ledger.predictions(of: "zsxkib/realistic-voice-cloning").count == 2)
        #expect(ledger.predictions(of: "zsxkib/sonic").count == 1)
        #expect(ledger.predictions.count == 4)

        // The song is uploaded once although two RVC predictions read it.
        let rvc = ledger.predictions(of: "zsxkib/realistic-voice-cloning")
        #expect(rvc[0].input["song_input"] == rvc[1].input["song_input"])
        #expect(Set(ledger.files.map(\.sha256)).count == ledger.files.count)
        #expect(ledger.files.count == 3, "song, portrait and vocals: \(ledger.files.map(\.name))")

        // Identical voice settings; the isolated call mutes music and backing vocals without reverb.
        let muting = ["instrumental_volume_change", "backup_vocals_volume_change", "reverb_wetness", "reverb_dryness", "output_format"]
        func voice(_ input: JSON) -> JSON {
            var object = input.objectValue!
            for key in muting { object[key] = nil }
            return .object(object)
        }
        #expect(voice(rvc[0].input) == voice(rvc[1].input))
        let isolated = try #require(rvc.first { $0.input["instrumental_volume_change"] == -100 })
        #expect(isolated.input["backup_vocals_volume_change"] == -100)
        #expect(isolated.input["reverb_wetness"] == 0)
        #expect(isolated.input["output_format"] == "wav")
        #expect(isolated.input["custom_rvc_model_download_url"]?.stringValue == vivid.voiceURL.absoluteString)
        #expect(isolated.input["pitch_change"] == "male-to-female")

        // Both covers are asked for before either is done, and the portrait (which needs no song)
        // before the covers are done.
        let covers = ledger.predictions(of: "zsxkib/realistic-voice-cloning")
        let portrait = try #require(ledger.predictions(of: "farm-test/alice-flux").first)
        let earliestCoverEnd = covers.compactMap(\.completedAt).min()!
        #expect(covers.map(\.createdAt).max()! < earliestCoverEnd, "the covers did not overlap: \(covers.map { ($0.createdAt, $0.completedAt!) })")
        // The portrait, cover and vocals were all running (processing) at one moment.
        let three = covers + [portrait]
        let starts = three.compactMap(\.startedAt)
        #expect(starts.count == 3)
        let lastStart = try #require(starts.max())
        let firstEnd = try #require(three.compactMap(\.completedAt).min())
        #expect(lastStart < firstEnd, "portrait, cover and vocals never ran at the same time: \(three.map { ($0.model, $0.startedAt, $0.completedAt) })")
        let sonic = try #require(ledger.predictions(of: "zsxkib/sonic").first)
        #expect(sonic.input["seed"] == 42)

        let again = try await vivid.render(["--out", "again.mp4"], song: song)
        #expect(again.status == 0)
        #expect(try again.stageStatuses().values.allSatisfy { $0 == "cached" })
        #expect(vivid.server.ledger().predictions.count == 4)

        // The token is nowhere: not in farm's output nor in any file under FARM_HOME.
        var leaks: [String] = []
        for text in [first.standardOutput, first.standardError, again.standardOutput, again.standardError] where text.contains(VividSandbox.token) {
            leaks.append("output")
        }
        let home = vivid.sandbox.farm.home
        for path in vivid.sandbox.homeFiles {
            let url = home.appendingPathComponent(path)
            if let data = FileManager.default.contents(atPath: url.path), data.range(of: Data(VividSandbox.token.utf8)) != nil { leaks.append(path) }
        }
        #expect(leaks.isEmpty, "the token leaked into: \(leaks)")
    }

    @Test func theDraftProfileAsksForFewerStepsSmallerFacesAndShorterChunks() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 20, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.sandbox.farm.run(
            ["render", "--profile", "draft", "--subject", "alice", "--song", song.path, "--json", "--out", "draft.mp4"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let ledger = vivid.server.ledger()
        #expect(ledger.predictions(of: "farm-test/alice-flux").first?.input["num_inference_steps"] == 12)
        let sonic = ledger.predictions(of: "zsxkib/sonic")
        #expect(sonic.count == 2, "20 s in chunks of at most 12 s")
        #expect(sonic.allSatisfy { $0.input["inference_steps"] == 10 && $0.input["min_resolution"] == 256 })
        let info = try await FFmpeg().probe(vivid.sandbox.file("draft.mp4"))
        #expect(info.video?.width == 256 && info.video?.height == 256)
    }

    @Test func aKilledRenderReattachesToItsPredictionInsteadOfPayingAgain() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.15 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 4, to: vivid.sandbox.file("song.wav"))
        let killed = try await vivid.sandbox.farm.run(
            ["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json"],
            killWhen: { $0.contains("\"event\":\"log\"") && $0.contains("of zsxkib/sonic") && $0.contains("created") })
        #expect(killed.status == 137)
        #expect(vivid.server.ledger().predictions(of: "zsxkib/sonic").first?.status != "succeeded", "killed too late to test re-attaching")
        try await Task.sleep(for: .milliseconds(300))
        let resumed = try await vivid.render(song: song)
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        let statuses = try resumed.stageStatuses()
        #expect(statuses["portrait"] == "cached" && statuses["cover"] == "cached" && statuses["vocals"] == "cached")
        let ledger = vivid.server.ledger()
        #expect(ledger.predictions(of: "zsxkib/sonic").count == 1, "a second Sonic prediction was paid for")
        #expect(ledger.predictions.count == 4)
    }

    @Test func ctrlCCancelsTheRunningPrediction() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.15 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 4, to: vivid.sandbox.file("song.wav"))
        let interrupted = try await vivid.sandbox.farm.run(
            ["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json"],
            interruptWhen: { $0.contains("\"event\":\"log\"") && $0.contains("of zsxkib/sonic") && $0.contains("created") })
        #expect(interrupted.status == 130)
        let sonic = try #require(vivid.server.ledger().predictions(of: "zsxkib/sonic").first)
        #expect(sonic.status == "canceled")
    }

    @Test func lostResponsesRateLimitsAndServerErrorsNeverPayTwice() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        vivid.server.inject(FakeReplicate.Faults(rules: [
            .next(1, .create, .responseLost),
            .next(1, .create, .rateLimited(retryAfter: 1)),
            .next(2, .get, .serverError(status: 503)),
            .next(1, .files, .dropConnection),
        ]))
        let song = try await TestMedia.sineWAV(seconds: 3, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.render(song: song)
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let ledger = vivid.server.ledger()
        #expect(ledger.faults.count == 5, "faults fired: \(ledger.faults.map(\.fault.name))")
        #expect(ledger.predictions.count == 4, "a lost create response led to a second paid prediction: \(ledger.predictions.map { "\($0.model) lost=\($0.responseLost) \($0.createdAt.timeIntervalSince1970)" }) \(result.standardOutput.split(separator: "\n").filter { $0.contains("\"log\"") })")
        #expect(ledger.predictions.contains { $0.responseLost })
    }

    @Test func vividProRendersFromAFluxProFinetune() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        vivid.server.addFinetune("finetune-alice-123")
        _ = try await vivid.sandbox.farm.run(["subjects", "add", "pro", "--trigger", "TOK", "--lora", "finetune-alice-123",
                                              "--voice", vivid.voiceURL.absoluteString])
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.sandbox.farm.run(["render", "--profile", "vivid-pro", "--subject", "pro", "--song", song.path, "--json"])
        #expect(result.status == 0, "stderr: \(result.standardError) stdout: \(result.standardOutput.suffix(1500))")
        let pro = try #require(vivid.server.ledger().predictions(of: "black-forest-labs/flux-pro-finetuned").first)
        #expect(pro.input["finetune_id"] == "finetune-alice-123")
    }

    @Test func theSummaryTableShowsEachStagesModelTimeAndEstimatedCost() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.sandbox.farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let lines = result.standardError.split(separator: "\n")
        let header = try #require(lines.first { $0.hasPrefix("stage ") }, "\(result.standardError)")
        #expect(header.split(separator: " ", omittingEmptySubsequences: true) == ["stage", "provider", "status", "cached", "time", "model", "time", "est.", "cost"])
        func row(_ stage: String) -> [Substring] {
            lines.first { $0.hasPrefix(stage + " ") }?.split(separator: " ", omittingEmptySubsequences: true) ?? []
        }
        for stage in ["portrait", "cover", "vocals", "performance"] {
            let cells = row(stage)
            #expect(cells.count == 7 && cells[2] == "succeeded", "\(stage): \(cells)")
            let modelTime = Double(cells.count == 7 ? cells[5].dropLast() : "") ?? 0
            let cost = Double(cells.count == 7 ? cells[6].dropFirst() : "") ?? 0
            #expect(cells.count == 7 && cells[5].hasSuffix("s") && modelTime > 0, "\(stage) shows no model time: \(cells)")
            #expect(cells.count == 7 && cells[6].hasPrefix("$") && cost > 0, "\(stage) shows no cost: \(cells)")
        }
        for stage in ["song", "sound", "video"] {
            #expect(row(stage).suffix(2) == ["-", "-"], "\(stage): \(row(stage))")
        }
        #expect(result.standardError.contains("estimated Replicate cost $"))
        #expect(result.standardError.contains("(an estimate; cached stages cost nothing again)"))
    }

    /// With vivid's default chunk retries: a cancelled prediction is someone's decision, not a
    /// failure to retry on its own.
    @Test func aPredictionCanceledOnReplicateFailsItsStageClearlyAndARerunMakesANewOne() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.15 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let render = Task { try await vivid.render(song: song) }
        // Someone cancels Sonic's prediction on Replicate (its web page or another client), not farm.
        var sonic: String?
        for _ in 0..<1200 where sonic == nil {
            sonic = vivid.server.ledger().predictions(of: "zsxkib/sonic").first?.id
            if sonic == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        let id = try #require(sonic, "no Sonic prediction was made")
        let cancel = HTTPRequest(method: "POST", url: vivid.server.baseURL!.appendingPathComponent("predictions/\(id)/cancel"),
                                 headers: [(name: "Authorization", value: "Bearer \(VividSandbox.token)")])
        #expect(try await HTTPClient().send(cancel).status == 200)
        let result = try await render.value
        #expect(result.status == 1, "stderr: \(result.standardError)")
        let finished = try result.finished()
        #expect(finished["error"]?.stringValue?.contains("prediction \(id) of zsxkib/sonic was canceled on Replicate") == true, "\(finished)")
        #expect(finished["hint"]?.stringValue?.isEmpty == false)
        #expect(try result.stageStatuses()["portrait"] == "succeeded")
        #expect(vivid.server.ledger().predictions(of: "zsxkib/sonic").count == 1, "farm made another prediction on its own")

        let again = try await vivid.render(song: song)
        #expect(again.status == 0, "stderr: \(again.standardError)")
        let predictions = vivid.server.ledger().predictions(of: "zsxkib/sonic")
        #expect(predictions.count == 2 && predictions.last?.status == "succeeded")
    }

    @Test func aPredictionAbortedOnReplicateFailsItsStageClearly() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        vivid.server.inject(FakeReplicate.Faults(failures: [.init(model: "zsxkib/sonic", status: .aborted, count: 1)]))
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.render(["--set", "performance.chunk_retries=0"], song: song)
        #expect(result.status == 1, "stderr: \(result.standardError)")
        let sonic = try #require(vivid.server.ledger().predictions(of: "zsxkib/sonic").first)
        #expect(sonic.status == "aborted" && sonic.startedAt == nil)
        let finished = try result.finished()
        #expect(finished["error"]?.stringValue?.contains("prediction \(sonic.id) of zsxkib/sonic was aborted on Replicate") == true, "\(finished)")
        #expect(finished["hint"]?.stringValue?.isEmpty == false)
    }

    @Test func doctorChecksTheTokenAndTheProfileAgainstTheLiveModels() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let good = try await vivid.sandbox.farm.run(["doctor", "--profile", "vivid", "--subject", "alice"])
        #expect(good.status == 0, "\(good.standardOutput)\(good.standardError)")
        // The name column fits "performance", the longest stage name.
        #expect(good.standardOutput.contains("ok    token        accepted"))
        #expect(good.standardOutput.contains("ok    portrait     replicate.flux-lora@1 parameters accepted"))
        #expect(good.standardOutput.contains("ok    cover        replicate.rvc@1 parameters accepted"))
        #expect(good.standardOutput.contains("ok    performance  "))

        // A profile whose portrait sets an input the live model does not take.
        let typo = vivid.sandbox.file("typo.json")
        try #"{"extends": "vivid", "stages": {"portrait": {"with": {"lora_weights": "alice/old-lora"}}}}"#
            .write(to: typo, atomically: true, encoding: .utf8)
        let refused = try await vivid.sandbox.farm.run(["doctor", "--profile", typo.path, "--subject", "alice"])
        #expect(refused.status == 1, "\(refused.standardOutput)\(refused.standardError)")
        let portraitLine = refused.standardOutput.split(separator: "\n").first { $0.hasPrefix("FAIL  portrait     ") }
        #expect(portraitLine?.contains("would refuse this input: unknown input \"lora_weights\"") == true, "\(refused.standardOutput)")
        #expect(refused.standardOutput.contains("ok    cover        replicate.rvc@1 parameters accepted"))
        var farm = vivid.sandbox.farm
        farm.environment["REPLICATE_API_TOKEN"] = "r8_wrong"
        let bad = try await farm.run(["doctor"])
        #expect(bad.status == 1)
        #expect(bad.standardOutput.contains("FAIL  token       Replicate rejected the API token (401)"))
        #expect(!bad.standardOutput.contains("r8_wrong"))
    }

    /// Without REPLICATE_API_TOKEN the token comes from `$XDG_CONFIG_HOME/farm/replicate-token`,
    /// but only while no one else may read that file: otherwise render and doctor say so, and how
    /// to fix it, and nothing is created.
    @Test func theTokenFileIsReadOnlyWhileOthersCannotReadIt() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        // Outside the sandbox, so the scan of everything farm wrote does not find the token file.
        let config = try TemporaryDirectory("farm-config")
        defer { config.remove() }
        let file = config.file("farm/replicate-token")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("\(VividSandbox.token)\n".utf8).write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        var farm = vivid.sandbox.farm
        farm.environment["REPLICATE_API_TOKEN"] = nil
        farm.environment["XDG_CONFIG_HOME"] = config.url.path

        let rendered = try await farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json"])
        #expect(rendered.status == 0, "stderr: \(rendered.standardError)")
        let doctor = try await farm.run(["doctor"])
        #expect(doctor.standardOutput.contains("ok    token       accepted"), "\(doctor.standardOutput)")

        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: file.path)
        let before = vivid.server.ledger().predictions.count
        // Another seed, so the portrait is not cached and needs the token.
        let refused = try await farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--set", "portrait.seed=9"])
        #expect(refused.status == 2, "stderr: \(refused.standardError)")
        #expect(refused.standardError.contains("error: refusing to read \(file.path): other users can read it (mode 640)"), "\(refused.standardError)")
        #expect(refused.standardError.contains("hint: chmod 600 \(file.path)"), "\(refused.standardError)")
        #expect(vivid.server.ledger().predictions.count == before)
        let unhappy = try await farm.run(["doctor"])
        #expect(unhappy.status == 1)
        #expect(unhappy.standardOutput.contains("FAIL  token       refusing to read \(file.path): other users can read it (mode 640) (chmod 600 \(file.path))"),
                "\(unhappy.standardOutput)")
        #expect(!unhappy.standardOutput.contains("is not set"))
        try SecretScan.expectAbsent(VividSandbox.token, under: vivid.sandbox.root.url, outputs: [
            rendered.standardOutput, rendered.standardError, doctor.standardOutput, doctor.standardError,
            refused.standardOutput, refused.standardError, unhappy.standardOutput, unhappy.standardError,
        ])
    }

    @Test func aFailedPredictionNamesTheModelItsErrorLogsAndPage() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        vivid.server.inject(FakeReplicate.Faults(failures: [.init(model: "zsxkib/sonic", error: "no face detected in the image", count: 1)]))
        let song = try await TestMedia.sineWAV(seconds: 3, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.render(["--set", "performance.chunk_retries=0"], song: song)
        #expect(result.status == 1)
        let finished = try result.finished()
        let error = finished["error"]?.stringValue ?? ""
        #expect(error.contains("zsxkib/sonic failed"))
        #expect(error.contains("no face detected in the image"))
        #expect(error.contains("\nlast log lines:\n  Running prediction..."), "no log tail: \(error)")
        #expect(error.contains("/p/"))
        #expect(try result.stageStatuses()["portrait"] == "succeeded")
    }

    @Test func outputsThatExpiredBeforeDownloadGiveAClearError() async throws {
        let vivid = try await VividSandbox.start { $0.outputRetention = 0 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.render(song: song)
        #expect(result.status == 1)
        #expect(try result.finished()["error"]?.stringValue?.contains("expired before farm could download them") == true)
    }

    @Test func problemsWithTheAccountOrInputAreRefusedWithExitCode2() async throws {
        let vivid = try await VividSandbox.start { $0.outOfCreditTokens = ["r8_broke"] }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.sineWAV(seconds: 2, to: vivid.sandbox.file("song.wav"))
        var farm = vivid.sandbox.farm

        @discardableResult
        func expect(_ arguments: [String], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
            let result = try await farm.run(["render", "--profile", "vivid", "--song", song.path] + arguments)
            #expect(result.status == 2, "\(arguments): \(result.standardError)", sourceLocation: sourceLocation)
            #expect(result.standardError.contains(words), "\(result.standardError)", sourceLocation: sourceLocation)
            #expect(result.standardError.contains("hint: "), sourceLocation: sourceLocation)
            for token in [VividSandbox.token, "r8_wrong", "r8_broke"] {
                #expect(!result.standardError.contains(token), sourceLocation: sourceLocation)
            }
            return result.standardError
        }

        try await expect(["--subject", "alice", "--set", "portrait.lora_weights=x/y"], "would refuse this input: unknown input \"lora_weights\"")
        _ = try await farm.run(["subjects", "add", "novoice", "--trigger", "TOK", "--lora", "farm-test/alice-flux"])
        try await expect(["--subject", "novoice"], "{{subject.voice_model}} has no value for subject \"novoice\"")
        _ = try await farm.run(["subjects", "add", "noimage", "--trigger", "TOK", "--voice", vivid.voiceURL.absoluteString])
        try await expect(["--subject", "noimage"], "{{subject.image_model}} has no value for subject \"noimage\"")
        let unknownVersion = "farm-test/alice-flux:" + String(repeating: "0", count: 64)
        _ = try await farm.run(["subjects", "add", "oldversion", "--trigger", "TOK", "--lora", unknownVersion, "--voice", vivid.voiceURL.absoluteString])
        let notFound = try await expect(["--subject", "oldversion"], "Replicate answered 404 (not found) for model version \(unknownVersion)")
        #expect(!notFound.contains("Not found"), "the 404 is said once: \(notFound)")
        let weights = try vivid.server.publish(Data("weights".utf8), as: "alice.pth")
        _ = try await farm.run(["subjects", "add", "pthvoice", "--trigger", "TOK", "--lora", "farm-test/alice-flux", "--voice", weights.absoluteString])
        try await expect(["--subject", "pthvoice"], "does not name a .zip file")
        _ = try await farm.run(["subjects", "add", "ghost", "--trigger", "TOK", "--lora", "farm-test/no-such-model", "--voice", vivid.voiceURL.absoluteString])
        try await expect(["--subject", "ghost"], "Replicate answered 404 (not found) for model farm-test/no-such-model")
        let page = try vivid.server.publish(Data("<html>not a zip</html>".utf8), as: "page.zip")
        _ = try await farm.run(["subjects", "add", "pagevoice", "--trigger", "TOK", "--lora", "farm-test/alice-flux", "--voice", page.absoluteString])
        try await expect(["--subject", "pagevoice"], "is not a zip file")

        farm.environment["REPLICATE_API_TOKEN"] = "r8_wrong"
        try await expect(["--subject", "alice"], "Replicate rejected the API token (401)")
        farm.environment["REPLICATE_API_TOKEN"] = "r8_broke"
        try await expect(["--subject", "alice"], "no credit (402)")
        farm.environment["REPLICATE_API_TOKEN"] = nil
        try await expect(["--subject", "alice"], "no Replicate API token")

        // An input Replicate's schema refuses although farm's own check let it through: the 422's
        // invalid_fields are named once each.
        farm.environment["REPLICATE_API_TOKEN"] = VividSandbox.token
        vivid.server.inject(FakeReplicate.Faults(rules: [
            FakeReplicate.FaultRule(.create, .inputRejected(field: "input.seed", description: "Invalid type. Expected: integer, given: string"))
        ]))
        let refused = try await expect(["--subject", "alice"], "(422): Input validation failed — input.seed: Invalid type. Expected: integer, given: string")
        #expect(!refused.split(separator: "\n").contains { $0.components(separatedBy: "Invalid type").count > 2 }, "named twice: \(refused)")
        vivid.server.clearFaults()
        #expect(vivid.server.ledger().predictions.isEmpty, "nothing may be paid for")
    }
}
