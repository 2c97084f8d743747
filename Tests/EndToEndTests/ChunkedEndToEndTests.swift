import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// vivid's chunked Sonic stage through the real `farm` binary and the fake Replicate server.
@Suite(.serialized) struct ChunkedEndToEndTests {
    /// A 48 s song with pauses near 12, 16, 24, 32 and 36 s: 4 chunks at chunk_seconds 12, 3 at 16.
    static let pauses: [ClosedRange<Double>] = [11.6...12.2, 15.6...16.2, 23.7...24.3, 31.8...32.4, 35.8...36.4]

    func sonic(_ vivid: VividSandbox) -> [FakeReplicate.Ledger.Prediction] {
        vivid.server.ledger().predictions(of: "zsxkib/sonic")
    }

    /// The cut seconds of the last render, from the chunked stage's log line.
    func cuts(_ result: FarmCLI.Result) throws -> [Double] {
        let line = try #require(try result.jsonLines().compactMap { $0["line"]?.stringValue }.last { $0.contains("cuts at ") })
        return line.components(separatedBy: "cuts at ")[1].split(separator: ",").compactMap { Double($0.split(separator: " ").first ?? "") }
    }

    func expectFrameExact(_ video: URL, song: URL, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let info = try await FFmpeg().probe(video)
        let songSeconds = try #require(try await FFmpeg().probe(song).duration)
        let videoSeconds = try #require(info.video?.duration)
        #expect(abs(videoSeconds - songSeconds) <= 0.04 + 1e-6, "video \(videoSeconds) s for a \(songSeconds) s song", sourceLocation: sourceLocation)
    }

    @Test func crossFadedChunksJoinToExactlyTheFramesOfTheSong() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        // Short, two chunks: the fake makes real face videos, which is slow on a loaded machine.
        let song = try await TestMedia.phrases(seconds: 13, pauses: [6.1...6.7], to: vivid.sandbox.file("song.wav"))
        let result = try await vivid.render(
            ["--out", "faded.mp4", "--set", "performance.chunk_seconds=6.5", "--set", "performance.chunk_join=crossfade"], song: song)
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let chunks = try #require(try result.finished()["stages"]?["performance"]?["chunks"]?.intValue)
        #expect(chunks >= 2 && sonic(vivid).count == chunks)
        let joined = try #require(try result.jsonLines().compactMap { $0["line"]?.stringValue }.last { $0.contains("chunks (cross-faded") })
        let planned = try #require(Int(joined.components(separatedBy: "): ").last?.split(separator: " ").first ?? ""), "\(joined)")
        let video = vivid.sandbox.file("faded.mp4")
        #expect(try await TestMedia.videoFrameHashes(video).count == planned, "the joined video has other than the \(planned) frames planned")
        try await expectFrameExact(video, song: song)
    }

    @Test func chunksRunInParallelCutInPausesJoinFrameExactlyAndAChangedLengthRerendersOnlyChangedChunks() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.phrases(seconds: 48, pauses: Self.pauses, to: vivid.sandbox.file("song.wav"))

        let first = try await vivid.render(["--out", "a.mp4", "--set", "performance.chunk_seconds=12"], song: song)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let performance = try #require(try first.finished()["stages"]?["performance"])
        #expect(performance["chunks"] == 4 && performance["chunks_cached"] == 0)
        // Chunk progress as events: 0 of 4 once the chunks are known, then one more after each.
        let progress = try first.jsonLines().filter { $0["event"] == "chunks" }
        #expect(progress.allSatisfy { $0["stage"] == "performance" && $0["total"] == 4 && $0["cached"] == 0 })
        #expect(progress.compactMap { $0["done"]?.intValue } == [0, 1, 2, 3, 4])
        try await expectFrameExact(vivid.sandbox.file("a.mp4"), song: song)

        // Every cut lies in a pause (a few ms of the pitch shifter's tail allowed), none mid-phrase.
        let firstCuts = try cuts(first)
        #expect(firstCuts.count == 3)
        for cut in firstCuts {
            #expect(Self.pauses.contains { ($0.lowerBound + 0.05)...($0.upperBound - 0.05) ~= cut }, "cut at \(cut) s is not in a pause")
        }

        // Four Sonic predictions, one per chunk, at the same time, with the same fixed seed.
        let chunks = sonic(vivid)
        #expect(chunks.count == 4)
        #expect(Set(chunks.map { $0.input["audio"] }).count == 4)
        #expect(chunks.allSatisfy { $0.input["seed"] == 42 && $0.input["image"] == chunks[0].input["image"] })
        let latestStart = try #require(chunks.compactMap(\.startedAt).max())
        let earliestEnd = try #require(chunks.compactMap(\.completedAt).min())
        #expect(latestStart < earliestEnd, "the chunks did not run at the same time")

        // A chunk length that gives the same cuts re-renders no chunk: only the join runs again.
        let same = try await vivid.render(["--out", "b.mp4", "--set", "performance.chunk_seconds=12.5"], song: song)
        #expect(same.status == 0, "stderr: \(same.standardError)")
        #expect(try same.stageStatuses() == ["song": "cached", "portrait": "cached", "cover": "cached", "sound": "cached", "vocals": "cached",
                                             "performance": "succeeded", "video": "cached"], "the joined video is the same")
        #expect(try same.finished()["stages"]?["performance"]?["chunks_cached"] == 4)
        #expect(try same.jsonLines().last { $0["event"] == "chunks" }.map { $0["done"] == 4 && $0["cached"] == 4 } == true)
        #expect(sonic(vivid).count == 4)

        // Three chunks instead of four: the new ones are rendered, the rest of the render is not.
        let changed = try await vivid.render(["--out", "c.mp4", "--set", "performance.chunk_seconds=16"], song: song)
        #expect(changed.status == 0, "stderr: \(changed.standardError)")
        let statuses = try changed.stageStatuses()
        #expect(statuses["portrait"] == "cached" && statuses["vocals"] == "cached" && statuses["cover"] == "cached")
        let after = sonic(vivid)
        let fresh = after.dropFirst(4)
        #expect(fresh.count == 3)
        #expect(Set(fresh.map { $0.input["audio"] }).isDisjoint(with: chunks.map { $0.input["audio"] }))
        try await expectFrameExact(vivid.sandbox.file("c.mp4"), song: song)

        // Back to twelve: all four chunks come from the cache.
        let back = try await vivid.render(["--out", "d.mp4", "--set", "performance.chunk_seconds=12"], song: song)
        #expect(back.status == 0)
        #expect(sonic(vivid).count == 7)
    }

    @Test func aFailedChunkIsRetriedAloneAndAFailedRenderRerunsOnlyItsFailedChunk() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.phrases(seconds: 48, pauses: Self.pauses, to: vivid.sandbox.file("song.wav"))

        // One chunk's prediction fails: it is tried again, alone, and the render succeeds.
        vivid.server.inject(FakeReplicate.Faults(failures: [.init(model: "zsxkib/sonic", error: "CUDA out of memory", count: 1)]))
        let retried = try await vivid.render(["--set", "performance.chunk_seconds=12"], song: song)
        #expect(retried.status == 0, "stderr: \(retried.standardError)")
        let first = sonic(vivid)
        #expect(first.count == 5)
        let failed = try #require(first.first { $0.status == "failed" })
        #expect(failed.error == "CUDA out of memory")
        let audios = first.map { $0.input["audio"] }
        #expect(audios.filter { $0 == failed.input["audio"] }.count == 2, "the failed chunk was tried again")
        #expect(Set(audios).count == 4, "every other chunk ran once")
        #expect(try retried.jsonLines().contains { $0["line"]?.stringValue?.contains("trying it again alone") == true })

        // Without retries the stage fails, naming the chunk; the other chunks are cached.
        vivid.server.inject(FakeReplicate.Faults(failures: [.init(model: "zsxkib/sonic", error: "CUDA out of memory", count: 1)]))
        let arguments = ["--set", "performance.chunk_seconds=16", "--set", "performance.chunk_retries=0"]
        let broken = try await vivid.render(arguments, song: song)
        #expect(broken.status == 1)
        let error = try broken.finished()["error"]?.stringValue ?? ""
        #expect(error.contains("1 of 3 chunks failed") && error.contains("CUDA out of memory"), "\(error)")
        #expect(try broken.finished()["hint"]?.stringValue?.contains("only the failed ones run again") == true)
        #expect(sonic(vivid).count == 8)

        let rerun = try await vivid.render(arguments, song: song)
        #expect(rerun.status == 0, "stderr: \(rerun.standardError)")
        #expect(try rerun.finished()["stages"]?["performance"]?["chunks_cached"] == 2)
        let all = sonic(vivid)
        #expect(all.count == 9, "only the failed chunk ran again")
        #expect(all.last?.input["audio"] == all.dropFirst(5).first { $0.status == "failed" }?.input["audio"])
    }

    @Test func aTenMinuteSongRendersPastSonicsFourHundredSecondCap() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.001 }
        defer { Task { await vivid.stop() } }
        let song = try await TestMedia.phrases(seconds: 600, pauses: [], to: vivid.sandbox.file("long.wav"))
        // Small faces and no pitch shift keep the fake models' own media work short.
        let result = try await vivid.sandbox.farm.run(
            ["render", "--profile", "vivid", "--subject", "alice", "--song", song.path, "--json", "--out", "long.mp4",
             "--set", "performance.min_resolution=256", "--set", "cover.pitch_change=no-change", "--set", "vocals.pitch_change=no-change"],
            timeout: .seconds(1200))
        #expect(result.status == 0, "\(result.standardOutput.suffix(800))")
        #expect(try result.finished()["stages"]?["performance"]?["chunks"] == 25)
        try await expectFrameExact(vivid.sandbox.file("long.mp4"), song: song)
        let chunks = sonic(vivid)
        #expect(chunks.count == 25 && chunks.allSatisfy { $0.status == "succeeded" })
        // No chunk reached the cap: every chunk video is a full share of the song.
        let info = try await FFmpeg().probe(vivid.sandbox.file("long.mp4"))
        #expect(info.video?.width == 256)
    }

    /// vivid-scenes: a second FLUX still for the loud passages. The loud middle chunk is rendered
    /// from it and the quiet ones from the first; choosing scenes by time instead re-renders only
    /// the chunks whose still changed.
    @Test func loudPassagesAreRenderedFromTheSceneStill() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        // Quiet verses and a chorus 12 dB louder from 16 to 32 s; pauses at 16 and 32 s.
        let song = try await TestMedia.phrases(seconds: 48, pauses: Self.pauses, loud: [16...32], to: vivid.sandbox.file("song.wav"))
        func render(_ extra: [String]) async throws -> FarmCLI.Result {
            try await vivid.sandbox.farm.run(["render", "--profile", "vivid-scenes", "--subject", "alice", "--song", song.path, "--json",
                                              "--set", "performance.chunk_seconds=16"] + extra)
        }

        let first = try await render(["--out", "a.mp4"])
        #expect(first.status == 0, "stderr: \(first.standardError)")
        let performance = try #require(try first.finished()["stages"]?["performance"])
        #expect(performance["chunks"] == 3)
        #expect(performance["scenes"] == [1, 2, 1])
        let flux = vivid.server.ledger().predictions(of: "farm-test/alice-flux")
        #expect(flux.count == 2)
        #expect(flux.contains { $0.input["prompt"]?.stringValue?.contains("chorus") == true })
        let chunks = sonic(vivid)
        #expect(chunks.count == 3)
        let images = Dictionary(grouping: chunks, by: { $0.input["image"]?.stringValue ?? "" }).mapValues(\.count)
        #expect(images.values.sorted() == [1, 2], "two stills: one for the chorus chunk, one for both verses")
        try await expectFrameExact(vivid.sandbox.file("a.mp4"), song: song)

        // Sections by time: a new section at 30 s puts the last chunk on the second still. The
        // first chunk keeps its still and comes from the cache; the other two are made again.
        let byTime = try await render(["--out", "b.mp4", "--set", "performance.chunk_scenes=times", "--set", "performance.chunk_scene_starts=[0,30]"])
        #expect(byTime.status == 0, "stderr: \(byTime.standardError)")
        let again = try #require(try byTime.finished()["stages"]?["performance"])
        #expect(again["scenes"] == [1, 1, 2])
        #expect(again["chunks_cached"] == 1)
        #expect(sonic(vivid).count == 5)
        #expect(vivid.server.ledger().predictions(of: "farm-test/alice-flux").count == 2)

        // "times" without times is a clear error before anything runs.
        let missing = try await render(["--out", "c.mp4", "--set", "performance.chunk_scenes=times"])
        #expect(missing.status == 2)
        #expect(missing.standardOutput.contains("chunk_scene_starts"), "stdout: \(missing.standardOutput)")
        #expect(vivid.server.ledger().predictions.count == 2 + 2 + 5)
    }
}
