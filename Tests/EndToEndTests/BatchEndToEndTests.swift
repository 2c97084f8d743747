import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// `farm render` with several `--song`s and `--batch FILE`: many renders in one process.
@Suite(.serialized) struct BatchEndToEndTests {
    @Test func songsAndBatchLinesRenderTogetherSharingWorkAndABadJobDoesNotStopTheOthers() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 3, frequency: 330, to: sandbox.file("a.wav"))
        try await TestMedia.sineWAV(seconds: 3, frequency: 440, to: sandbox.file("b.wav"))
        try await TestMedia.sineWAV(seconds: 3, frequency: 550, to: sandbox.file("c.wav"))
        try FileManager.default.createDirectory(at: sandbox.file("videos"), withIntermediateDirectories: true)
        try """
            # subject  song  overrides
            -  c.wav  --out "c take.mp4" --set portrait.seed=9
            -  missing.wav

            """.write(to: sandbox.file("jobs.txt"), atomically: true, encoding: .utf8)

        let result = try await sandbox.farm.run(
            ["render", "--profile", "offline", "--song", "a.wav", "--song", "b.wav", "--batch", "jobs.txt", "--out", "videos", "--json"])
        #expect(result.status == 2, "only bad input failed: \(result.standardError)")
        let lines = try result.jsonLines()
        let batch = try #require(lines.last?.objectValue)
        #expect(batch["event"] == "batch")
        let jobs = try #require(batch["jobs"]?.arrayValue)
        #expect(jobs.map { $0["status"]?.stringValue } == ["succeeded", "succeeded", "succeeded", "failed"])
        #expect(jobs[3]["error"]?.stringValue?.contains("missing.wav") == true)
        for name in ["videos/demo-a.mp4", "videos/demo-b.mp4", "c take.mp4"] {
            #expect(FileManager.default.fileExists(atPath: sandbox.file(name).path), "\(name) was not written")
        }
        // Every event names its job; the three songs share one portrait (the third asked for another seed).
        #expect(lines.dropLast().allSatisfy { $0["job"]?.intValue != nil })
        let portraits = lines.filter { $0["event"] == "stage" && $0["stage"] == "portrait" && $0["status"] == "succeeded" }
        #expect(portraits.count == 2, "one portrait for jobs 1 and 2, one with seed 9 for job 3")
    }

    @Test func theSummaryTableListsEveryJob() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 2, frequency: 330, to: sandbox.file("a.wav"))
        try await TestMedia.sineWAV(seconds: 2, frequency: 440, to: sandbox.file("b.wav"))
        let result = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "a.wav", "--song", "b.wav"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardError.contains("job  subject  song"))
        #expect(result.standardError.contains("2 of 2 renders succeeded"))
        #expect(result.standardOutput.split(separator: "\n").count == 2, "one path per video")
    }

    @Test func aMalformedBatchFileOrOneOutFileForManySongsIsRefusedBeforeAnyWork() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 2, to: sandbox.file("a.wav"))
        try "- a.wav\nalice\n".write(to: sandbox.file("jobs.txt"), atomically: true, encoding: .utf8)
        let malformed = try await sandbox.farm.run(["render", "--profile", "offline", "--batch", "jobs.txt"])
        #expect(malformed.status == 2)
        #expect(malformed.standardError.contains("jobs.txt:2: expected a subject and a song"))
        #expect(malformed.standardError.contains("hint: "))
        let oneFile = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "a.wav", "--song", "a.wav", "--out", "x.mp4"])
        #expect(oneFile.status == 2)
        #expect(oneFile.standardError.contains("names one file, but 2 renders would write it"))
        let limit = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "a.wav", "--limit", "replicate"])
        #expect(limit.status == 2 && limit.standardError.contains("expected PROVIDER=N"))
        // A studio takes one render at a time, under its own limits; nothing is sent to it.
        let studio = "http://127.0.0.1:9/"
        let twoOnAStudio = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "a.wav", "--song", "a.wav", "--server", studio])
        #expect(twoOnAStudio.status == 2 && twoOnAStudio.standardError.contains("--server renders one song at a time"))
        let limitOnAStudio = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "a.wav", "--limit", "offline=1", "--server", studio])
        #expect(limitOnAStudio.status == 2 && limitOnAStudio.standardError.contains("--limit applies to renders made here"))
        #expect(sandbox.homeFiles.filter { $0.hasPrefix("artifacts/") && $0.count > 20 }.isEmpty, "nothing was rendered")
    }

    @Test func aVividJobWhosePredictionFailsMidRenderDoesNotStopTheOthers() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        // The first Sonic prediction to run fails on Replicate, after the job's other stages ran.
        vivid.server.inject(FakeReplicate.Faults(failures: [.init(model: "zsxkib/sonic", error: "CUDA out of memory", count: 1)]))
        var arguments = ["render", "--profile", "vivid", "--subject", "alice", "--set", "performance.chunk_retries=0", "--out", "."]
        for (index, frequency) in [330, 440, 550].enumerated() {
            let song = try await TestMedia.sineWAV(seconds: 2, frequency: frequency, to: vivid.sandbox.file("song\(index).wav"))
            arguments += ["--song", song.path]
        }
        let result = try await vivid.sandbox.farm.run(arguments)
        #expect(result.status == 1, "\(result.standardError)")
        let sonic = vivid.server.ledger().predictions(of: "zsxkib/sonic")
        #expect(sonic.count == 3 && sonic.count { $0.status == "failed" } == 1, "\(sonic.map(\.status))")

        // The summary table: one failed row naming the stage, two rendered videos.
        let rows = result.standardError.split(separator: "\n").filter { $0.range(of: #"^\d+\s+alice\s+song\d\.wav\s"#, options: .regularExpression) != nil }
        #expect(rows.count == 3, "\(result.standardError)")
        let failed = rows.filter { $0.contains(" failed ") }
        #expect(failed.count == 1 && failed.first?.contains("stage performance: 1 of 1 chunks failed") == true, "\(rows)")
        #expect(rows.count { $0.contains(" succeeded ") } == 2, "\(rows)")
        #expect(result.standardError.contains("2 of 3 renders succeeded"))
        #expect(result.standardError.contains("CUDA out of memory"))
        let videos = result.standardOutput.split(separator: "\n").map(String.init)
        #expect(videos.count == 2, "one path per finished video: \(videos)")
        for video in videos {
            #expect(try await FFmpeg().probe(URL(fileURLWithPath: video, relativeTo: vivid.sandbox.farm.workingDirectory)).video?.codec == "h264", "\(video)")
        }
    }

    @Test func aVividBatchPacesItsCreatesUnderTheAccountsLoweredRateLimit() async throws {
        // An account allowed 8 prediction creates a minute; a batch of three songs needs ten.
        let vivid = try await VividSandbox.start { $0.rateLimits.createsPerMinute = 8 }
        defer { Task { await vivid.stop() } }
        var arguments = ["render", "--profile", "vivid", "--subject", "alice", "--out", ".", "--json"]
        for (index, frequency) in [330, 440, 550].enumerated() {
            let song = try await TestMedia.sineWAV(seconds: 2, frequency: frequency, to: vivid.sandbox.file("song\(index).wav"))
            arguments += ["--song", song.path]
        }
        var farm = vivid.sandbox.farm
        farm.environment["FARM_REPLICATE_CREATES_PER_MINUTE"] = "eight"
        let unreadable = try await farm.run(arguments)
        #expect(unreadable.status == 2)
        #expect(unreadable.standardOutput.contains(#"FARM_REPLICATE_CREATES_PER_MINUTE is \"eight\", not a number of requests a minute"#),
                "\(unreadable.standardOutput)")

        farm.environment["FARM_REPLICATE_CREATES_PER_MINUTE"] = "8"
        let result = try await farm.run(arguments)
        #expect(result.status == 0, "\(result.standardError)")
        let ledger = vivid.server.ledger()
        #expect(ledger.predictions.count == 10)
        #expect(ledger.throttled == 0, "farm went over the rate limit \(ledger.throttled) times")
        // Eight at once, then one every 7.5 s.
        let creates = ledger.predictions.map(\.createdAt).sorted()
        #expect(creates[9].timeIntervalSince(creates[0]) >= 14.5, "\(creates.map { $0.timeIntervalSince(creates[0]) })")
    }

    @Test func aVividBatchKeepsItsGlobalPredictionLimitAndSharesThePortraitAndUploads() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        var arguments = ["render", "--profile", "vivid", "--subject", "alice", "--limit", "replicate=2", "--out", ".", "--json"]
        for (index, frequency) in [330, 440, 550].enumerated() {
            let song = try await TestMedia.sineWAV(seconds: 3, frequency: frequency, to: vivid.sandbox.file("song\(index).wav"))
            arguments += ["--song", song.path]
        }
        let result = try await vivid.sandbox.farm.run(arguments)
        #expect(result.status == 0, "\(result.standardError)")
        let ledger = vivid.server.ledger()
        #expect(ledger.predictions(of: "farm-test/alice-flux").count == 1, "one portrait for the three renders")
        #expect(ledger.predictions(of: "zsxkib/realistic-voice-cloning").count == 6)
        #expect(ledger.predictions(of: "zsxkib/sonic").count == 3)
        #expect(Set(ledger.files.map(\.sha256)).count == ledger.files.count, "nothing uploaded twice")
        // Never more than two predictions at once across the batch.
        var events: [(date: Date, change: Int)] = []
        for prediction in ledger.predictions {
            events.append((prediction.createdAt, 1))
            events.append((prediction.completedAt ?? prediction.createdAt, -1))
        }
        events.sort { $0.date == $1.date ? $0.change < $1.change : $0.date < $1.date }
        var running = 0, most = 0
        for (_, change) in events {
            running += change
            most = max(most, running)
        }
        #expect(most <= 2, "\(most) predictions ran at once")
    }
}
