import Foundation

/// Which still each chunk of a chunked stage is rendered from, when a profile connects scene
/// stills (`scene_2`…): still 0 is the wrapped stage's own image, still k the `scene_{k+1}` input.
/// Scenes change only where chunks meet, so a cut between stills lands in a pause too.
enum SceneChoice {
    /// How much louder than the median chunk a chunk must be to count as a loud passage, in dB.
    static let loudMargin = 2.0

    /// By loudness: chunks more than `loudMargin` dB above the song's median chunk are loud (in a
    /// song's vocals, mostly the choruses). A run of loud chunks is one passage; the r-th passage
    /// shows still 1 + r mod (stills − 1), everything else still 0. One still: all 0.
    static func byLoudness(levels: [Double], stills: Int) -> [Int] {
        guard stills > 1, !levels.isEmpty else { return levels.map { _ in 0 } }
        let sorted = levels.sorted()
        let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        var choice: [Int] = []
        var passage = -1
        for (index, level) in levels.enumerated() {
            let loud = level > median + loudMargin
            if loud && (index == 0 || choice[index - 1] == 0) { passage += 1 }
            choice.append(loud ? 1 + passage % (stills - 1) : 0)
        }
        return choice
    }

    /// By times: `starts` are the seconds where sections begin; a chunk belongs to the section its
    /// middle falls in (before the first start: the first section), and section k shows still
    /// k mod stills.
    static func byTimes(starts: [Double], middles: [Double], stills: Int) -> [Int] {
        let starts = starts.sorted()
        return middles.map { middle in
            let section = max(0, starts.count(where: { $0 <= middle }) - 1)
            return section % max(1, stills)
        }
    }

    /// The mean level of each chunk's own span (overlaps left out), in dBFS.
    static func levels(of plan: ChunkPlan, power: [Float], hop: Int) -> [Double] {
        plan.chunks.map { chunk in
            let low = min(power.count, chunkStart(chunk, plan: plan) / hop)
            let high = min(power.count, max(low + 1, chunkEnd(chunk, plan: plan) / hop))
            guard high > low else { return -100 }
            let mean = power[low..<high].reduce(0.0) { $0 + Double($1) } / Double(high - low)
            return 10 * log10(max(1e-10, mean))
        }
    }

    /// The middle of each chunk's own span, in seconds.
    static func middles(of plan: ChunkPlan) -> [Double] {
        plan.chunks.map { Double($0.frames.lowerBound + $0.frames.upperBound) / 2 / Double(plan.frameRate) }
    }

    private static func chunkStart(_ chunk: ChunkPlan.Chunk, plan: ChunkPlan) -> Int {
        Int(Double(chunk.frames.lowerBound) * Double(plan.sampleRate) / Double(plan.frameRate))
    }

    private static func chunkEnd(_ chunk: ChunkPlan.Chunk, plan: ChunkPlan) -> Int {
        Int(Double(chunk.frames.upperBound) * Double(plan.sampleRate) / Double(plan.frameRate))
    }
}
