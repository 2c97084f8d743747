import FarmKit
import Foundation
import Synchronization

/// Builds `StageContext`s for tests and records what stages report.
public enum TestStageContext {
    /// A context whose scratch folder is `scratch`, with the demo subject, an in-memory journal and
    /// the progress and log lines collected in `reports`.
    public static func make(
        scratch: URL, stageName: String = "test", ffmpeg: FFmpeg = FFmpeg(), reports: StageReports = StageReports()
    ) -> StageContext {
        StageContext(
            stageName: stageName, scratchDirectory: scratch, subject: .demo, ffmpeg: ffmpeg,
            journal: MemoryJournal(), reporter: { reports.append($0) })
    }
}

/// Everything a stage reported through its context, in order.
public final class StageReports: Sendable {
    private let storage = Mutex<[StageProgress]>([])

    public init() {}

    func append(_ report: StageProgress) {
        storage.withLock { $0.append(report) }
    }

    public var all: [StageProgress] { storage.withLock { $0 } }

    /// The reported fractions, in order (reports without a fraction are left out).
    public var fractions: [Double] {
        all.compactMap { if case .progress(let fraction?, _) = $0 { fraction } else { nil } }
    }

    public var logLines: [String] {
        all.compactMap { if case .log(let line) = $0 { line } else { nil } }
    }
}
