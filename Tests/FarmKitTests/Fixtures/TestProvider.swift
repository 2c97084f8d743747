import FarmTestSupport
import FarmKit
import Foundation
import Synchronization

/// Records when test stages start and end, to observe parallelism and ordering.
final class StageRecorder: Sendable {
    struct Span: Sendable { let stage: String; let start: ContinuousClock.Instant; let end: ContinuousClock.Instant }
    private let spans = Mutex<[Span]>([])
    private let runs = Mutex<[String: Int]>([:])

    func record(_ stage: String, from start: ContinuousClock.Instant) {
        let span = Span(stage: stage, start: start, end: .now)
        spans.withLock { $0.append(span) }
        runs.withLock { $0[stage, default: 0] += 1 }
    }

    func span(_ stage: String) -> Span? { spans.withLock { $0.last { $0.stage == stage } } }
    func runCount(_ stage: String) -> Int { runs.withLock { $0[stage] ?? 0 } }
    var totalRuns: Int { runs.withLock { $0.values.reduce(0, +) } }

    /// Whether the two stages' last runs overlapped in time.
    func overlapped(_ a: String, _ b: String) -> Bool {
        guard let x = span(a), let y = span(b) else { return false }
        return x.start < y.end && y.start < x.end
    }
}

/// A provider of small file stages for testing the host: `test.text`, `test.join`, `test.fail`, `test.hang`.
struct TestProvider: StageProvider {
    let name = "test"
    let summary = "stages for testing the host"
    let recorder: StageRecorder
    var defaultConcurrency = 4
    /// The implementation version of `test.text` (part of its cache keys).
    var textVersion = 1

    func stages() -> [any RenderStage] {
        [TextStage(recorder: recorder, version: textVersion), JoinStage(recorder: recorder), FailStage(recorder: recorder), HangStage()]
    }

    /// Writes `text` to a file after `delay` seconds; metadata `length`.
    struct TextStage: RenderStage {
        let recorder: StageRecorder
        let version: Int
        var id: StageID { StageID("test.text", version: version) }
        let summary = "writes a text file"
        let inputs: [FarmKit.Port] = []
        let outputs = [Port("text", .file)]
        let parameters = [
            ParamSpec("text", .string, required: true),
            ParamSpec("delay", .number, default: 0, range: 0...10),
            ParamSpec("mode", .string, default: "plain", choices: ["plain", "loud"]),
        ]

        func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
            let start = ContinuousClock.now
            try await Task.sleep(for: .seconds(request.double("delay") ?? 0))
            var text = request.string("text")!
            if request.string("mode") == "loud" { text = text.uppercased() }
            let url = context.scratchFile("text.txt")
            try Data(text.utf8).write(to: url)
            context.progress(1, "wrote \(text.count) characters")
            recorder.record(context.stageName, from: start)
            return StageResult(outputs: ["text": url], metadata: ["length": .integer(Int64(text.count)), "text": .string(text)])
        }
    }

    /// Joins two files with `separator`.
    struct JoinStage: RenderStage {
        let recorder: StageRecorder
        let id = StageID("test.join", version: 1)
        let summary = "joins two files"
        let inputs = [Port("a", .file), Port("b", .file)]
        let outputs = [Port("joined", .file)]
        let parameters = [ParamSpec("separator", .string, default: "+")]

        func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
            let start = ContinuousClock.now
            let a = try String(contentsOf: request.input("a").path, encoding: .utf8)
            let b = try String(contentsOf: request.input("b").path, encoding: .utf8)
            let url = context.scratchFile("joined.txt")
            try Data((a + request.string("separator")! + b).utf8).write(to: url)
            recorder.record(context.stageName, from: start)
            return StageResult(outputs: ["joined": url])
        }
    }

    /// Fails after `delay` seconds, logging a line first.
    struct FailStage: RenderStage {
        let recorder: StageRecorder
        let id = StageID("test.fail", version: 1)
        let summary = "always fails"
        let inputs: [FarmKit.Port] = []
        let outputs = [Port("text", .file)]
        let parameters = [ParamSpec("delay", .number, default: 0)]

        func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
            let start = ContinuousClock.now
            try await Task.sleep(for: .seconds(request.double("delay") ?? 0))
            context.log("about to fail")
            recorder.record(context.stageName, from: start)
            throw StageFailure("the test stage failed on purpose", hint: "it always does")
        }
    }

    /// Waits until cancelled, leaving a partial file in its scratch folder.
    struct HangStage: RenderStage {
        let id = StageID("test.hang", version: 1)
        let summary = "never finishes"
        let inputs: [FarmKit.Port] = []
        let outputs = [Port("text", .file)]

        func run(_ request: StageRequest, in context: StageContext) async throws -> StageResult {
            try Data("partial".utf8).write(to: context.scratchFile("partial.txt"))
            try await Task.sleep(for: .seconds(3600))
            return StageResult(outputs: [:])
        }
    }
}

/// Writes profile files into a temporary folder and loads them.
struct ProfileFixture {
    let folder: TemporaryFolder
    let recorder = StageRecorder()
    /// The implementation version of `test.text`.
    var textVersion = 1

    init() throws { folder = try TemporaryFolder() }

    var library: ProfileLibrary { ProfileLibrary(searchPath: [folder.url]) }
    var registry: ProviderRegistry { ProviderRegistry([TestProvider(recorder: recorder, textVersion: textVersion)]) }

    func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: folder.url.appendingPathComponent("\(name).json"))
    }

    func plan(_ name: String, subject: Subject = .demo, overrides: ProfileResolver.Overrides = .init()) throws -> RenderPlan {
        try ProfileResolver(registry: registry).resolve(library.load(name), subject: subject, overrides: overrides)
    }

    /// Expects `body` to throw a ProfileError and returns it.
    func error(_ body: () throws -> Void) -> ProfileError? {
        do {
            try body()
            return nil
        } catch let error as ProfileError {
            return error
        } catch {
            return nil
        }
    }
}

typealias TemporaryFolder = FarmTestSupport.TemporaryDirectory
