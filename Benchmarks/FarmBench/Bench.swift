import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import ReplicateProvider

/// One fake Replicate server with the subject's models, at one latency scale.
struct Fake {
    static let token = "r8_test_token"

    let scale: Double
    let server: FakeReplicateServer
    let base: URL
    let voiceURL: URL
    let flux: String

    /// Latencies modelled on the reference (models.md): FLUX ~10 s, RVC ~30 s plus 0.5 s per audio
    /// second, Sonic 35 s plus ~15 GPU-s per audio second; then multiplied by `scale`. At most 50
    /// predictions run at once; media are made the cheap way.
    static func start(scale: Double, voice: Data) async throws -> Fake {
        var configuration = FakeReplicate.Configuration()
        configuration.latencyScale = scale
        configuration.latencies["farm-test/alice-flux"] = .init(startup: 1, base: 9)
        configuration.latencies["zsxkib/realistic-voice-cloning"] = .init(startup: 2, base: 28, perAudioSecond: 0.5)
        configuration.latencies["zsxkib/sonic"] = .init(startup: 5, base: 30, perAudioSecond: 15)
        configuration.concurrencyLimit = 50
        configuration.cheapMedia = true
        let server = FakeReplicateServer(configuration: configuration)
        let base = try await server.start()
        let voiceURL = try server.publish(voice, as: "alice.zip")
        let model = try await HTTPClient().send(HTTPRequest(
            url: base.appendingPathComponent("models/farm-test/alice-flux"), headers: [(name: "Authorization", value: "Bearer \(token)")]))
        guard let version = try model.json()["latest_version"]?["id"]?.stringValue else { throw BenchError("no alice-flux version") }
        return Fake(scale: scale, server: server, base: base, voiceURL: voiceURL, flux: "farm-test/alice-flux:\(version)")
    }
}

/// The benchmark's world: fake servers, songs, a subject, and one FARM_HOME per scenario.
struct Bench {
    let farmBinary: URL
    let fake: Fake
    let batchScale: Double
    let voice: Data
    let folder: TemporaryDirectory
    let report = Report()

    var server: FakeReplicateServer { fake.server }

    static func start(scale: Double, batchScale: Double, farm: URL) async throws -> Bench {
        let folder = try TemporaryDirectory("farm-bench")
        let zip = folder.file("alice.zip")
        let script = "import zipfile,sys; z=zipfile.ZipFile(sys.argv[1],'w'); z.writestr('alice.pth', b'weights'*64); z.close()"
        guard try await ProcessRunner.run("python3", ["-c", script, zip.path]).status == 0 else { throw BenchError("cannot make the voice zip") }
        let voice = try Data(contentsOf: zip)
        return Bench(farmBinary: farm, fake: try await Fake.start(scale: scale, voice: voice), batchScale: batchScale, voice: voice, folder: folder)
    }

    func stop() async {
        await fake.server.stop()
        folder.remove()
    }

    /// A fresh FARM_HOME with the subject `alice` on `fake` (the main one by default).
    func home(_ name: String, on fake: Fake? = nil) async throws -> FarmProcess {
        let fake = fake ?? self.fake
        let home = folder.file("home-\(name)")
        let farm = FarmProcess(binary: farmBinary, home: home, workingDirectory: folder.url, replicate: fake.base, token: Fake.token)
        let added = try await farm.run(["subjects", "add", "alice", "--trigger", "TOK", "--lora", fake.flux, "--voice",
                                        fake.voiceURL.absoluteString, "--pitch", "male-to-female"])
        guard added.status == 0 else { throw BenchError("subjects add: \(added.error)") }
        return farm
    }

    /// A song of phrases with a short pause every 8 s.
    func song(_ name: String, seconds: Double, offset: Double = 0) async throws -> URL {
        let pauses = stride(from: 7.6 + offset, to: seconds - 1, by: 8).map { $0...($0 + 0.4) }
        return try await TestMedia.phrases(seconds: seconds, pauses: pauses, to: folder.file(name))
    }

    /// `farm render --profile vivid` of `song`; throws unless it succeeds.
    func render(_ farm: FarmProcess, _ song: URL, _ extra: [String] = []) async throws -> FarmProcess.Run {
        let run = try await farm.run(["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json",
                                      "--out", folder.file("out-\(UUID().uuidString.prefix(6)).mp4").path] + extra)
        guard run.status == 0 else { throw BenchError("farm render failed (\(run.status)): \(run.output.suffix(600)) \(run.error)") }
        return run
    }

    /// Seconds from create to completion of a ledger prediction.
    static func duration(_ prediction: FakeReplicate.Ledger.Prediction) -> Double {
        (prediction.completedAt ?? prediction.createdAt).timeIntervalSince(prediction.createdAt)
    }

    /// The critical path through the model latencies of one vivid render: the longer of (portrait or
    /// isolated vocals, then the slowest Sonic chunk) and the cover.
    func criticalPath(since start: Date) -> Double {
        let made = server.ledger().predictions.filter { $0.createdAt >= start }
        let flux = made.filter { $0.model == "farm-test/alice-flux" }.map(Self.duration).max() ?? 0
        let rvc = made.filter { $0.model == "zsxkib/realistic-voice-cloning" }
        let isolated = rvc.filter { $0.input["output_format"] == "wav" }.map(Self.duration).max() ?? 0
        let cover = rvc.filter { $0.input["output_format"] != "wav" }.map(Self.duration).max() ?? 0
        let sonic = made.filter { $0.model == "zsxkib/sonic" }.map(Self.duration).max() ?? 0
        return max(max(flux, isolated) + sonic, cover)
    }

    /// Measures `figures` (1–6); the first render that figures 1 and 4 measure is always made, as
    /// figures 2 and 3 compare against it.
    func run(figures: Set<Int>, batchSize: Int) async throws {
        report.header(scale: fake.scale, batchScale: batchScale)
        let song = try await song("song-3min.wav", seconds: 180)

        // 1. Overhead, and 4. cache: one vivid render of a 3-minute song, then the same again.
        let farm = try await home("vivid")
        let started = Date()
        let firstCPU = CPUMeter()
        let first = try await render(farm, song)
        let path = criticalPath(since: started)
        report.row("1 overhead", "farm wall / critical path of model latencies", first.seconds / path,
                   detail: String(format: "%.2f s / %.2f s; ", first.seconds, path) + firstCPU.summary(farmCPUSeconds: first.cpuSeconds),
                   target: "≤ 1.05", met: first.seconds / path <= 1.05)
        let repeated = try await render(farm, song)
        report.row("4 cache", "repeat render / first render", repeated.seconds / first.seconds,
                   detail: String(format: "%.3f s / %.2f s", repeated.seconds, first.seconds), target: "< 0.01",
                   met: repeated.seconds / first.seconds < 0.01)
        report.row("4 cache", "farm's own time for the repeat (ms)", repeated.seconds * 1000,
                   detail: "all \(repeated.summary?["stages"]?.objectValue?.count ?? 0) stages cached", target: "< 300", met: repeated.seconds < 0.3)

        if !figures.isDisjoint(with: [2, 3]) {
            try await compareWithScriptAndSinglePrediction(farm: farm, song: song, first: first, figures: figures)
        }
        if figures.contains(5) { try await batch(size: batchSize) }
        if figures.contains(6) { try await memory() }
        try await startUp(farm: farm)
        report.footer()
    }

    /// 2. Against the obvious script (stage after stage, Sonic in one prediction), and 3. chunking:
    /// that one Sonic prediction against farm's chunked stage with K chunks at once.
    func compareWithScriptAndSinglePrediction(farm: FarmProcess, song: URL, first: FarmProcess.Run, figures: Set<Int>) async throws {
        let client = ReplicateClient(configuration: ReplicateConfiguration(
            baseURL: fake.base, token: Fake.token, tokenFile: folder.file("no-token-file")))
        let scriptFolder = folder.file("script")
        try FileManager.default.createDirectory(at: scriptFolder, withIntermediateDirectories: true)
        let script = try await ObviousScript(client: client, flux: fake.flux, voiceURL: fake.voiceURL.absoluteString, folder: scriptFolder)
            .run(song: song)
        if figures.contains(2) {
            report.row("2 vs script", "sequential script, Sonic in one prediction / farm", script.seconds / first.seconds,
                       detail: String(format: "%.1f s / %.1f s, 8 chunks", script.seconds, first.seconds), target: "≥ 5",
                       met: script.seconds / first.seconds >= 5)
        }
        guard figures.contains(3) else { return }
        guard let single = server.ledger().predictions.first(where: { $0.id == script.sonic }).map(Self.duration) else {
            throw BenchError("the script's Sonic prediction is not in the ledger")
        }
        for (chunks, seconds) in [(4, 45.0), (8, 24.0)] {
            let run = try await render(farm, song, ["--set", "performance.chunk_seconds=\(seconds)"])
            guard let stage = run.summary?["stages"]?["performance"], stage["chunks"]?.intValue == chunks,
                  let time = stage["seconds"]?.doubleValue else { throw BenchError("no performance stage with \(chunks) chunks") }
            let cached = stage["status"]?.stringValue == "cached"
            let value = single / (cached ? first.stageSeconds("performance") : time)
            report.row("3 chunking", "one Sonic prediction / chunked stage, K = \(chunks)", value,
                       detail: String(format: "%.1f s / %.1f s", single, cached ? first.stageSeconds("performance") : time),
                       target: String(format: "≥ %.1f", 0.8 * Double(chunks)), met: value >= 0.8 * Double(chunks))
        }
    }

    /// 5. Batch: many renders at once in one process / one render, on a fake of its own whose
    /// latencies dwarf this machine's cost of launching ffmpeg for hundreds of predictions.
    func batch(size batchSize: Int) async throws {
        let batchFake = try await Fake.start(scale: batchScale, voice: voice)
        let batchSongs = try await (0..<batchSize).asyncMap { try await self.song("batch-\($0).wav", seconds: 10, offset: Double($0) * 0.01) }
        let oneHome = try await home("one", on: batchFake), oneSong = try await self.song("batch-one.wav", seconds: 10, offset: 0.005)
        let oneCPU = CPUMeter()
        let one = try await render(oneHome, oneSong)
        let oneCPUSummary = oneCPU.summary(farmCPUSeconds: one.cpuSeconds)
        let batchFile = folder.file("batch.txt")
        try batchSongs.enumerated().map { "alice \($1.path) --out \(folder.file("batch-\($0).mp4").path)" }.joined(separator: "\n")
            .write(to: batchFile, atomically: true, encoding: .utf8)
        let batchHome = try await home("batch", on: batchFake)
        let batchCPU = CPUMeter()
        let batch = try await batchHome.run(["render", "--profile", "vivid", "--batch", batchFile.path, "--limit", "replicate=\(4 * batchSize)"])
        let batchCPUSummary = batchCPU.summary(farmCPUSeconds: batch.cpuSeconds)
        await batchFake.server.stop()
        guard batch.status == 0 else { throw BenchError("the batch failed (\(batch.status)): \(batch.error.suffix(2000))") }
        report.row("5 batch", "\(batchSize) renders at once / one render", batch.seconds / one.seconds,
                   detail: String(format: "%.1f s / %.1f s, 10 s songs, --limit replicate=%d, fake runs ≤ 50 at once, scale %g. Batch: ",
                                  batch.seconds, one.seconds, 4 * batchSize, batchScale) + batchCPUSummary + ". One: " + oneCPUSummary,
                   target: "< 2", met: batch.seconds / one.seconds < 2)
    }

    /// 6. Memory during a 10-minute song: with vivid's limits, then with every chunk at once.
    func memory() async throws {
        let longSong = try await self.song("song-10min.wav", seconds: 600)
        for (name, limit) in [("vivid's limit of 8 predictions at once", nil), ("all 25 chunks at once", "replicate=25")] {
            let long = try await render(try await home("long-\(limit ?? "default")"), longSong, limit.map { ["--limit", $0] } ?? [])
            let megabytes = Double(long.peakBytes) / 1_048_576
            report.row("6 memory", "peak resident memory of farm, 10-minute song (MB)", megabytes,
                       detail: "\(name); render took " + String(format: "%.1f s", long.seconds), target: "< 60", met: megabytes < 60)
        }
    }

    /// 6. Start-up time: `farm --help`, the median of 21 (always measured: it takes a second).
    func startUp(farm: FarmProcess) async throws {
        var startups: [Double] = []
        for _ in 0..<21 { startups.append(try await farm.run(["--help"]).seconds) }
        let median = startups.sorted()[startups.count / 2] * 1000
        report.row("6 start-up", "farm --help, median of 21 (ms)", median, detail: "", target: "< 30", met: median < 30)
    }
}

extension FarmProcess.Run {
    /// The seconds a stage took, from the `--json` summary.
    func stageSeconds(_ stage: String) -> Double {
        summary?["stages"]?[stage]?["seconds"]?.doubleValue ?? .nan
    }
}

extension Sequence where Element: Sendable {
    /// `map` with an async transform, one element after the other.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
