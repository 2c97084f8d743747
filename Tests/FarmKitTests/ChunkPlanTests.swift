@testable import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Where chunked stages cut: planning on synthetic loudness, and on real audio made with ffmpeg.
@Suite struct ChunkPlanTests {
    /// Power per 10 ms at 44.1 kHz: loud (−8 dB) everywhere except silent `pauses` (seconds).
    func power(seconds: Double, pauses: [ClosedRange<Double>] = [], dips: [ClosedRange<Double>: Float] = [:]) -> [Float] {
        (0..<Int(seconds * 100)).map { index in
            let time = Double(index) / 100 + 0.005
            if pauses.contains(where: { $0.contains(time) }) { return 0 }
            if let dip = dips.first(where: { $0.key.contains(time) }) { return dip.value }
            return 0.16
        }
    }

    func plan(_ power: [Float], seconds: Double, target: Double, search: Double = 3, maximum: Double? = nil, overlap: Int = 0) throws -> ChunkPlan {
        try ChunkPlan(power: power, hop: 441, sampleRate: 44100, sampleCount: Int(seconds * 44100),
                      settings: .init(target: target, search: search, maximum: maximum, frameRate: 25, overlapFrames: overlap))
    }

    @Test func aThreeMinuteSongMakesEightEvenChunksOnFrameBoundaries() throws {
        let plan = try plan(power(seconds: 180), seconds: 180, target: 24)
        #expect(plan.chunks.count == 8)
        #expect(plan.totalFrames == 4500)
        #expect(plan.chunks.first?.frames.lowerBound == 0 && plan.chunks.first?.samples.lowerBound == 0)
        #expect(plan.chunks.last?.samples.upperBound == 180 * 44100)
        for (previous, next) in zip(plan.chunks, plan.chunks.dropFirst()) {
            #expect(previous.frames.upperBound == next.frames.lowerBound)
            #expect(previous.samples.upperBound == next.samples.lowerBound)
            #expect(next.samples.lowerBound == next.frames.lowerBound * 1764, "cuts fall on video frames")
        }
        // Without pauses the cuts stay at the even positions (on the nearest frame).
        #expect(plan.cutSeconds.map { ($0 * 100).rounded() / 100 } == [22.52, 45, 67.52, 90, 112.52, 135, 157.52])
        #expect(plan.chunks.allSatisfy { $0.renderedFrames == $0.frames.count })
    }

    @Test func aCutMovesIntoANearbyPauseNotMidWord() throws {
        // Even cut at 20 s; a pause 1.6 s early, a short dip (a consonant) right at 20 s.
        let loudness = power(seconds: 60, pauses: [18.2...18.6, 41.5...42.0], dips: [19.98...20.02: 0.001])
        let plan = try plan(loudness, seconds: 60, target: 20)
        #expect(plan.chunks.count == 3)
        let cuts = plan.cutSeconds
        #expect((18.3...18.5).contains(cuts[0]), "cut at \(cuts[0]), not in the pause 18.2–18.6")
        #expect((41.6...41.9).contains(cuts[1]), "cut at \(cuts[1]), not in the pause 41.5–42.0")
        #expect(plan.cutLevels.allSatisfy { $0 < -60 })
    }

    @Test func aPauseOutsideTheSearchWindowIsIgnoredAndTheQuietestNearbyPointWins() throws {
        let loudness = power(seconds: 60, pauses: [14...15], dips: [21...21.4: 0.01])
        let plan = try plan(loudness, seconds: 60, target: 20, search: 2)
        #expect((21.1...21.3).contains(plan.cutSeconds[0]), "cut at \(plan.cutSeconds[0])")
    }

    @Test func cutsAreStableWhenTheTargetChangesButNotTheChunkCount() throws {
        let loudness = power(seconds: 180, pauses: [21...21.5, 44...44.6, 90...90.5])
        let a = try plan(loudness, seconds: 180, target: 24)
        let b = try plan(loudness, seconds: 180, target: 25)
        #expect(a == b)
        let c = try plan(loudness, seconds: 180, target: 30)
        #expect(c.chunks.count == 6)
        #expect(c.cutSeconds.contains { (90...90.5).contains($0) }, "the pause at 90 s is used by both: \(c.cutSeconds)")
    }

    @Test func noChunkIsLongerThanTheWrappedStageAccepts() throws {
        let plan = try plan(power(seconds: 600), seconds: 600, target: 500, maximum: 200)
        #expect(plan.chunks.count == 3)
        #expect(plan.chunks.allSatisfy { Double($0.samples.count) / 44100 <= 200 })
    }

    @Test func crossFadedChunksOverlapTheirNeighbours() throws {
        let plan = try plan(power(seconds: 30), seconds: 30, target: 10, overlap: 6)
        #expect(plan.chunks.map(\.renderedFrames) == [256, 262, 256])
        #expect(plan.chunks[1].samples.lowerBound == (plan.chunks[1].frames.lowerBound - 6) * 1764)
        #expect(plan.chunks.reduce(0) { $0 + $1.renderedFrames } - 2 * 12 == plan.totalFrames)
    }

    @Test func aShortSongIsOneChunkAndSilenceIsNoError() throws {
        let plan = try plan([Float](repeating: 0, count: 500), seconds: 5, target: 24)
        #expect(plan.chunks.count == 1)
        #expect(plan.chunks[0].samples == 0..<(5 * 44100))
        #expect(throws: StageFailure.self) { try ChunkPlan(power: [], hop: 441, sampleRate: 44100, sampleCount: 0,
                                                           settings: .init(target: 24, search: 3, maximum: nil, frameRate: 25, overlapFrames: 0)) }
    }

    @Test func realAudioIsCutInItsPauses() async throws {
        let folder = try TemporaryDirectory("chunk-plan")
        defer { folder.remove() }
        let song = try await TestMedia.phrases(seconds: 45, pauses: [13.6...14.2, 31.0...31.8], to: folder.file("song.wav"))
        let wave = try PCMWave(song)
        #expect(wave.sampleRate == 44100 && wave.channels == 2 && wave.frames == 45 * 44100)
        let plan = try ChunkPlan(power: try wave.power(hop: 441), hop: 441, sampleRate: 44100, sampleCount: wave.frames,
                                 settings: .init(target: 15, search: 2, maximum: nil, frameRate: 25, overlapFrames: 0))
        #expect(plan.chunks.count == 3)
        #expect((13.7...14.1).contains(plan.cutSeconds[0]) && (31.1...31.7).contains(plan.cutSeconds[1]), "\(plan.cutSeconds)")

        // A chunk copied out of the WAV holds exactly its samples.
        let chunk = folder.file("chunk.wav")
        try wave.copyFrames(plan.chunks[1].samples, to: chunk)
        let copied = try PCMWave(chunk)
        #expect(copied.frames == plan.chunks[1].samples.count)
        let info = try await FFmpeg().probe(chunk)
        #expect(abs((info.duration ?? 0) - Double(plan.chunks[1].frames.count) / 25) < 0.001)
    }

    // MARK: Scenes

    @Test func loudPassagesTakeTurnsAtTheSceneStills() {
        // Verse, chorus, verse, chorus, bridge-like loud passage: the median is a verse's level.
        let levels: [Double] = [-30, -31, -18, -17, -30, -29, -18, -30, -16]
        #expect(SceneChoice.byLoudness(levels: levels, stills: 2) == [0, 0, 1, 1, 0, 0, 1, 0, 1])
        #expect(SceneChoice.byLoudness(levels: levels, stills: 3) == [0, 0, 1, 1, 0, 0, 2, 0, 1])
        #expect(SceneChoice.byLoudness(levels: levels, stills: 1) == levels.map { _ in 0 })
        // An even level everywhere has no loud passage; a margin below 2 dB is not one either.
        #expect(SceneChoice.byLoudness(levels: [-20, -20, -20], stills: 2) == [0, 0, 0])
        #expect(SceneChoice.byLoudness(levels: [-20, -18.5, -20], stills: 2) == [0, 0, 0])
    }

    @Test func sectionTimesPickTheStillOfTheChunksMiddle() {
        let middles: [Double] = [5, 15, 25, 35, 45]
        #expect(SceneChoice.byTimes(starts: [0, 20, 40], middles: middles, stills: 2) == [0, 0, 1, 1, 0])
        #expect(SceneChoice.byTimes(starts: [40, 20, 0], middles: middles, stills: 3) == [0, 0, 1, 1, 2])
        // Before the first start: the first section.
        #expect(SceneChoice.byTimes(starts: [10, 30], middles: middles, stills: 2) == [0, 0, 0, 1, 1])
    }

    @Test func chunkLevelsFollowTheAudio() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let song = try await TestMedia.phrases(seconds: 30, pauses: [9.7...10.3, 19.7...20.3], loud: [10...20], to: folder.file("song.wav"))
        let wave = try PCMWave(song)
        let hop = wave.sampleRate / 100
        let power = try wave.power(hop: hop)
        let plan = try ChunkPlan(power: power, hop: hop, sampleRate: wave.sampleRate, sampleCount: wave.frames,
                                 settings: .init(target: 10, search: 2, maximum: nil, frameRate: 25, overlapFrames: 0))
        let levels = SceneChoice.levels(of: plan, power: power, hop: hop)
        #expect(levels.count == 3)
        // 12 dB louder in the middle (a little less: its pauses are silent).
        #expect(levels[1] - levels[0] > 10 && levels[1] - levels[2] > 10, "\(levels)")
        #expect(SceneChoice.byLoudness(levels: levels, stills: 2) == [0, 1, 0])
        #expect(SceneChoice.middles(of: plan).map { ($0 / 5).rounded() * 5 } == [5, 15, 25])
    }
}
