import Foundation

/// Where a chunked stage cuts its audio: into `ceil(length / target)` chunks as even as the audio
/// allows, each cut moved to the quietest point near its even position, on a video frame boundary.
///
/// Cut `k` of `n` starts at the frame `k/n` of the way through and may move up to `search`
/// seconds (at most a quarter of a chunk) either way. Every frame boundary in that window is
/// scored by the loudness around it (mean power over ±`smoothing` seconds, in dB) plus a penalty
/// that grows to 3 dB at the window's edge: a pause anywhere in the window beats a word at the
/// even position, and of two equally quiet points the nearer wins. The plan depends only on the
/// audio and the parameters, so a re-render cuts in the same places and reuses its chunks.
public struct ChunkPlan: Sendable, Equatable {
    /// One chunk: the video frames it stands for and the audio it is rendered from.
    public struct Chunk: Sendable, Equatable {
        /// Video frames `[start, end)` of the joined result this chunk stands for.
        public let frames: Range<Int>
        /// Audio sample frames rendered: the chunk's own span, plus the overlap on each side
        /// that a cross-fade blends (none for cut joins).
        public let samples: Range<Int>
        /// Video frames the render should have (the span of `samples`).
        public let renderedFrames: Int
    }

    public let chunks: [Chunk]
    /// Loudness (dBFS, smoothed) at each cut between chunks, for logs.
    public let cutLevels: [Double]
    public let frameRate: Int
    public let sampleRate: Int

    /// The tunable parts of a plan.
    public struct Settings: Sendable {
        /// About how long a chunk may be, in seconds.
        public var target: Double
        /// How far a cut may move from its even position to find a quiet point, in seconds.
        public var search: Double
        /// No chunk (with its overlaps) may be longer, in seconds.
        public var maximum: Double?
        public var frameRate: Int
        /// Frames each side of a cut shares with its neighbour (half of a cross-fade); 0 for cuts.
        public var overlapFrames: Int
        /// Loudness is averaged over ±this many seconds around a candidate cut.
        public var smoothing = 0.1

        public init(target: Double, search: Double, maximum: Double?, frameRate: Int, overlapFrames: Int) {
            self.target = target
            self.search = search
            self.maximum = maximum
            self.frameRate = frameRate
            self.overlapFrames = overlapFrames
        }
    }

    /// Plans the chunks of `sampleCount` sample frames at `sampleRate`, given the mean power of
    /// every `hop` sample frames (`PCMWave.power`). Throws a `StageFailure` when the audio is empty.
    public init(power: [Float], hop: Int, sampleRate: Int, sampleCount: Int, settings: Settings) throws {
        frameRate = settings.frameRate
        self.sampleRate = sampleRate
        let fps = Double(settings.frameRate)
        let totalFrames = Int((Double(sampleCount) / Double(sampleRate) * fps).rounded())
        guard totalFrames > 0 else { throw StageFailure("the audio is too short to split: \(sampleCount) samples") }

        func sample(_ frame: Int) -> Int {
            min(sampleCount, max(0, Int((Double(frame) * Double(sampleRate) / fps).rounded())))
        }
        // Prefix sums of power, for the mean over any window in constant time.
        var prefix = [Double](repeating: 0, count: power.count + 1)
        for (index, value) in power.enumerated() { prefix[index + 1] = prefix[index] + Double(value) }
        let reach = max(1, Int((settings.smoothing * Double(sampleRate) / Double(hop)).rounded()))
        func level(atFrame frame: Int) -> Double {
            guard !power.isEmpty else { return -100 }
            let center = sample(frame) / hop
            let low = max(0, center - reach), high = min(power.count, center + reach)
            guard high > low else { return -100 }
            return 10 * log10(max(1e-10, (prefix[high] - prefix[low]) / Double(high - low)))
        }

        let duration = Double(totalFrames) / fps
        var count = max(1, Int((duration / settings.target).rounded(.up)))
        while true {
            let chunkFrames = Double(totalFrames) / Double(count)
            let window = Int(min(settings.search * fps, chunkFrames / 4).rounded(.down))
            var cuts = [0]
            var levels: [Double] = []
            for index in 1..<max(1, count) {
                let even = Int((Double(index) * chunkFrames).rounded())
                var best = even, bestScore = Double.infinity
                let lower = max(cuts.last! + 1, even - window)
                for frame in lower...max(lower, min(totalFrames - 1, even + window)) {
                    let score = level(atFrame: frame) + 3 * Double(abs(frame - even)) / Double(max(1, window))
                    if score < bestScore {
                        (best, bestScore) = (frame, score)
                    }
                }
                cuts.append(best)
                levels.append(level(atFrame: best))
            }
            cuts.append(totalFrames)
            let chunks = (0..<count).map { index -> Chunk in
                let frames = cuts[index]..<cuts[index + 1]
                let first = max(0, frames.lowerBound - (index > 0 ? settings.overlapFrames : 0))
                let last = min(totalFrames, frames.upperBound + (index < count - 1 ? settings.overlapFrames : 0))
                let samples = sample(first)..<(last == totalFrames ? sampleCount : sample(last))
                return Chunk(frames: frames, samples: samples, renderedFrames: last - first)
            }
            let longest = chunks.map { Double($0.samples.count) / Double(sampleRate) }.max() ?? 0
            if let maximum = settings.maximum, longest > maximum, count < totalFrames {
                count += 1
                continue
            }
            self.chunks = chunks
            cutLevels = levels
            return
        }
    }

    /// The seconds at which the chunks after the first begin.
    public var cutSeconds: [Double] {
        chunks.dropFirst().map { Double($0.frames.lowerBound) / Double(frameRate) }
    }

    /// Frames of the joined video.
    public var totalFrames: Int { chunks.last?.frames.upperBound ?? 0 }
}
