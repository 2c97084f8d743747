import FarmKit
import FarmTestSupport
import Foundation
import Synchronization
import Testing

/// Runs plans from `ProfileFixture` against a real store in a fresh FARM_HOME.
private struct Harness {
    var fixture: ProfileFixture
    let home: TemporaryDirectory
    let store: Store

    init() throws {
        fixture = try ProfileFixture()
        home = try TemporaryDirectory("farm-home")
        store = try Store(home: home.url)
    }

    func remove() {
        fixture.folder.remove()
        home.remove()
    }

    func run(
        _ profile: String, overrides: ProfileResolver.Overrides = .init(), prepared: [String: Preparation] = [:], events: EventLog = EventLog()
    ) async throws -> [String: GraphRunner.Outcome] {
        let plan = try fixture.plan(profile, overrides: overrides)
        let run = try await store.createRun(NewRun(profile: profile, subject: "demo", song: "", request: .null))
        return await GraphRunner(store: store, ffmpeg: FFmpeg(), runID: run.id) { events.append($0) }.run(plan, prepared: prepared)
    }

    /// Files left in the store's temporary folder.
    var temporaryEntries: [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: home.url.appendingPathComponent("tmp").path)) ?? []
    }
}

final class EventLog: Sendable {
    private let events = Mutex<[RenderEvent]>([])
    func append(_ event: RenderEvent) { events.withLock { $0.append(event) } }
    var statuses: [(String, StageRunStatus)] {
        events.withLock { $0.compactMap { if case .stage(let name, let status, _, _) = $0 { (name, status) } else { nil } } }
    }
}

private let parallel = """
    { "stages": {
        "a": { "use": "test.text", "with": { "text": "left", "delay": 0.4 } },
        "b": { "use": "test.text", "with": { "text": "right", "delay": 0.4 } },
        "both": { "use": "test.join", "from": { "a": "a.text", "b": "b.text" } },
        "title": { "use": "test.text", "with": { "text": "{{a.text}} has {{a.length}} letters" } } },
      "output": "both.joined" }
    """

@Suite struct GraphRunnerTests {
    @Test func independentStagesRunAtTheSameTimeAndDependentsAfter() async throws {
        let harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("p", parallel)
        let outcomes = try await harness.run("p")
        #expect(outcomes.values.allSatisfy { $0.status == .succeeded })
        let recorder = harness.fixture.recorder
        #expect(recorder.overlapped("a", "b"))
        #expect(recorder.span("both")!.start >= recorder.span("a")!.end)
        #expect(recorder.span("both")!.start >= recorder.span("b")!.end)
        let joined = try String(contentsOf: outcomes["both"]!.outputs["joined"]!.path, encoding: .utf8)
        #expect(joined == "left+right")
        let title = try String(contentsOf: outcomes["title"]!.outputs["text"]!.path, encoding: .utf8)
        #expect(title == "left has 4 letters")
        #expect(harness.temporaryEntries.isEmpty)
    }

    @Test func aProviderLimitOfOneSerialisesItsStages() async throws {
        let harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("p", parallel)
        try harness.fixture.write("serial", #"{ "extends": "p", "limits": { "test": 1 } }"#)
        _ = try await harness.run("serial")
        #expect(!harness.fixture.recorder.overlapped("a", "b"))
    }

    @Test func aRepeatedRenderIsServedFromTheCacheAndAChangeRerunsOnlyItsDependents() async throws {
        let harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("p", parallel)
        let first = try await harness.run("p")
        let recorder = harness.fixture.recorder
        #expect(recorder.totalRuns == 4)

        let second = try await harness.run("p")
        #expect(second.values.allSatisfy { $0.status == .cached })
        #expect(recorder.totalRuns == 4)
        #expect(second["both"]!.outputs["joined"]!.digest == first["both"]!.outputs["joined"]!.digest)

        let third = try await harness.run("p", overrides: .init(parameters: [try ParameterOverride(parsing: "b.text=moon")]))
        #expect(third["a"]!.status == .cached)
        #expect(third["title"]!.status == .cached)
        #expect(third["b"]!.status == .succeeded)
        #expect(third["both"]!.status == .succeeded)
        #expect(recorder.runCount("b") == 2 && recorder.runCount("both") == 2 && recorder.runCount("a") == 1)
    }

    @Test func aFailureLetsRunningStagesFinishSkipsDependentsAndKeepsTheirResults() async throws {
        let harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("f", """
            { "stages": {
                "bad": { "use": "test.fail", "with": { "delay": 0.1 } },
                "slow": { "use": "test.text", "with": { "text": "still cached", "delay": 0.5 } },
                "after": { "use": "test.join", "from": { "a": "bad.text", "b": "slow.text" } } },
              "output": "after.joined" }
            """)
        let events = EventLog()
        let outcomes = try await harness.run("f", events: events)
        #expect(outcomes["bad"]!.status == .failed)
        #expect((outcomes["bad"]!.error as? StageFailure)?.message == "the test stage failed on purpose")
        #expect(outcomes["bad"]!.logTail == ["about to fail"])
        #expect(outcomes["slow"]!.status == .succeeded)
        #expect(outcomes["after"]!.status == .skipped)
        #expect(events.statuses.contains { $0 == ("after", .skipped) })

        let again = try await harness.run("f")
        #expect(again["slow"]!.status == .cached)
        #expect(harness.fixture.recorder.runCount("slow") == 1)
    }

    @Test func cancellingInterruptsRunningStagesAndLeavesNoPartialFiles() async throws {
        let harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("h", """
            { "stages": {
                "stuck": { "use": "test.hang" },
                "quick": { "use": "test.text", "with": { "text": "done" } },
                "after": { "use": "test.join", "from": { "a": "stuck.text", "b": "quick.text" } } },
              "output": "after.joined" }
            """)
        let events = EventLog()
        let task = Task { try await harness.run("h", events: events) }
        // Cancel once "quick" is done (not after a fixed delay: a busy machine may take longer).
        _ = try await ProcessTable.waitFor(timeout: .seconds(30)) { events.statuses.contains { $0 == ("quick", .succeeded) } ? true : nil }
        task.cancel()
        let outcomes = try await task.value
        #expect(outcomes["stuck"]!.status == .interrupted)
        #expect(outcomes["quick"]!.status == .succeeded)
        #expect(outcomes["after"]!.status == .interrupted)
        #expect(harness.temporaryEntries.isEmpty, "scratch left behind: \(harness.temporaryEntries)")
        let usage = try await harness.store.usage()
        #expect(usage.artifacts == 1)
        #expect(usage.cacheEntries == 1)
    }

    @Test func cacheKeysDependOnParametersInputsAndImplementationVersion() async throws {
        var harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("p", parallel)
        let first = try await harness.run("p")
        let reordered = try await harness.run("p", overrides: .init(parameters: [try ParameterOverride(parsing: "a.delay=0.4")]))
        #expect(reordered["a"]!.cacheKey == first["a"]!.cacheKey, "an override equal to the profile value keeps the key")
        let changed = try await harness.run("p", overrides: .init(parameters: [try ParameterOverride(parsing: "a.delay=0.1")]))
        #expect(changed["a"]!.cacheKey != first["a"]!.cacheKey)
        #expect(changed["both"]!.cacheKey == first["both"]!.cacheKey, "same input bytes, same key")

        harness.fixture.textVersion = 2
        let bumped = try await harness.run("p")
        #expect(bumped["a"]!.cacheKey != first["a"]!.cacheKey, "a new implementation version makes a new key")
        #expect(bumped["a"]!.status == .succeeded)
        #expect(bumped["both"]!.status == .cached, "its output bytes did not change, so its dependent is reused")
    }

    @Test func whatAPreflightPreparedIsPartOfTheKey() async throws {
        let harness = try Harness()
        defer { harness.remove() }
        try harness.fixture.write("p", parallel)
        let plain = try await harness.run("p")
        let titled = try await harness.run("p", prepared: ["a": Preparation(facts: ["title": "One"])])
        #expect(titled["a"]!.cacheKey != plain["a"]!.cacheKey)
        #expect(titled["a"]!.status == .succeeded)
        #expect(titled["b"]!.cacheKey == plain["b"]!.cacheKey)
        let again = try await harness.run("p", prepared: ["a": Preparation(facts: ["title": "One"])])
        #expect(again["a"]!.status == .cached)
        let file = try writeFile(harness.home.file("song"), "bytes")
        let artifact = try await harness.store.importFile(at: file, kind: .audio, move: false)
        let withFile = try await harness.run("p", prepared: ["a": Preparation(artifacts: ["song": artifact], facts: ["title": "One"])])
        #expect(withFile["a"]!.cacheKey != titled["a"]!.cacheKey)
    }
}
