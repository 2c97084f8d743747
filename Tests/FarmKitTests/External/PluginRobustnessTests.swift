import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// A plugin that crashes, hangs, writes garbage, answers the wrong run, returns a path outside its
/// folder or a file it did not write: each gives a clear error naming the plugin, and leaves no
/// process behind.
@Suite(.serialized) struct PluginRobustnessTests {
    @Test func oneProcessServesSeveralRunsAndShutdownEndsIt() async throws {
        let plugin = try MisbehavingPlugin(stages: ["ok"])
        defer { Task { await plugin.remove() } }
        let reports = StageReports()
        let first = try await plugin.run("ok", reports: reports)
        let second = try await plugin.run("ok")
        let firstText = try String(contentsOf: try #require(first.outputs["out"]), encoding: .utf8)
        let secondText = try String(contentsOf: try #require(second.outputs["out"]), encoding: .utf8)
        #expect(firstText.hasPrefix("hi from pid"))
        #expect(firstText == secondText, "both runs were served by the same process")
        #expect(first.metadata["pid"] != nil)
        #expect(reports.fractions == [0.5])
        #expect(reports.logLines.contains { $0.contains("ok: run run-1 attempt 1") })
        #expect(await plugin.provider.host.launches == 1)
        let pid = try #require(await plugin.provider.host.processID)
        #expect(ProcessTable.isAlive(pid))

        await plugin.provider.shutdown()
        #expect(await plugin.provider.host.processID == nil)
        try await plugin.expectNothingSurvives()
    }

    @Test func runsOverlapOnOneProcessUpToItsConcurrency() async throws {
        /// Each `nap` run sleeps a second and says when it started and ended (the plugin's clock).
        func naps(concurrency: Int) async throws -> (first: StageResult, second: StageResult, launches: Int) {
            let plugin = try MisbehavingPlugin(stages: ["nap"], concurrency: concurrency)
            defer { Task { await plugin.remove() } }
            try await plugin.provider.host.start()
            async let first = plugin.run("nap")
            async let second = plugin.run("nap")
            let results = try await (first, second)
            return (results.0, results.1, await plugin.provider.host.launches)
        }
        func interval(_ result: StageResult) throws -> ClosedRange<Double> {
            let started = try #require(result.metadata["started"]?.doubleValue)
            let ended = try #require(result.metadata["ended"]?.doubleValue)
            return started...ended
        }
        func text(_ result: StageResult) throws -> String {
            try String(contentsOf: try #require(result.outputs["out"]), encoding: .utf8)
        }

        let together = try await naps(concurrency: 2)
        #expect(together.launches == 1)
        #expect(try interval(together.first).overlaps(try interval(together.second)), "two runs at once on one process")
        #expect(try Set([text(together.first), text(together.second)]) == ["nap run-1", "nap run-2"], "each run gets its own result")
        #expect(together.first.outputs["out"] != together.second.outputs["out"])

        let queued = try await naps(concurrency: 1)
        #expect(queued.launches == 1)
        let (one, two) = (try interval(queued.first), try interval(queued.second))
        #expect(!one.overlaps(two), "with concurrency 1 the second run waits for the first: \(one), \(two)")
    }

    /// 50 progress messages 0.5 s apart: 25 s in all, two and a half times the timeout, with room
    /// for a heavily loaded machine (parallel suites) between messages.
    @Test func progressRestartsTheTimeout() async throws {
        let plugin = try MisbehavingPlugin(stages: ["steady"], timeout: 10)
        defer { Task { await plugin.remove() } }
        let reports = StageReports()
        let clock = ContinuousClock()
        let start = clock.now
        let result = try await plugin.run("steady", reports: reports)
        #expect(clock.now - start > .seconds(20), "the run lasted longer than twice its 10 s timeout")
        #expect(try String(contentsOf: try #require(result.outputs["out"]), encoding: .utf8) == "steady")
        #expect(reports.fractions.count == 50)
    }

    @Test func aResultMustNameEveryDeclaredOutputAndNoOther() async throws {
        let plugin = try MisbehavingPlugin(stages: ["no-output", "extra-output"])
        defer { Task { await plugin.remove() } }
        let missing = try await plugin.failure("no-output")
        #expect(missing.message == "plugin \"misbehave\", stage \"no-output\": the result has no output \"out\"")
        let extra = try await plugin.failure("extra-output")
        #expect(extra.message == "plugin \"misbehave\", stage \"extra-output\": the result names output \"bonus\", which plugin.json does not declare")
        #expect(extra.hint == "declared outputs: out")
        #expect(await plugin.provider.host.launches == 1, "a wrong result fails the run, not the process")
        #expect(await plugin.provider.host.processID != nil)
    }

    @Test func aCrashFailsTheRunWithItsExitStatusAndTheNextRunStartsAFreshProcess() async throws {
        let plugin = try MisbehavingPlugin(stages: ["crash", "ok"])
        defer { Task { await plugin.remove() } }
        let reports = StageReports()
        let error = try await plugin.failure("crash", reports: reports)
        #expect(error.message == "plugin \"misbehave\" exited (exit status 3) while running stage \"crash\"")
        #expect(error.hint?.contains("farm plugins check") == true)
        #expect(reports.logLines.contains("misbehave: about to crash"))
        try await plugin.expectNothingSurvives()

        _ = try await plugin.run("ok")
        #expect(await plugin.provider.host.launches == 2)
    }

    @Test func aHangingRunTimesOutAndTheProcessIsStopped() async throws {
        let plugin = try MisbehavingPlugin(stages: ["hang"], timeout: 0.5)
        defer { Task { await plugin.remove() } }
        let clock = ContinuousClock()
        let start = clock.now
        let error = try await plugin.failure("hang")
        #expect(error.message == "plugin \"misbehave\" sent nothing about stage \"hang\" for 0.5 s and was stopped")
        #expect(error.hint?.contains("timeout_seconds") == true)
        #expect(clock.now - start < .seconds(30), "the plugin hangs forever otherwise")
        try await plugin.expectNothingSurvives()
    }

    @Test func aPluginThatIgnoresCancelAndSIGTERMIsKilled() async throws {
        let plugin = try MisbehavingPlugin(stages: ["hang"], ignoreTerm: true, timeout: 0.5)
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("hang")
        #expect(error.message.contains("sent nothing about stage \"hang\""))
        try await plugin.expectNothingSurvives()
    }

    @Test(arguments: [
        ("garbage", "plugin \"misbehave\" broke the protocol: not a JSON object"),
        ("unknown-type", "plugin \"misbehave\" broke the protocol: unknown message type \"bogus\""),
        ("wrong-id", "plugin \"misbehave\" broke the protocol: answered run id \"nope\", which farm did not ask for or which already ended"),
        ("long-line", "plugin \"misbehave\" broke the protocol: wrote a line longer than 1 MiB: \"{"),
    ])
    func protocolViolationsStopThePlugin(stage: String, expected: String) async throws {
        let plugin = try MisbehavingPlugin(stages: [stage])
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure(stage)
        #expect(error.message.hasPrefix(expected), "\(error.message)")
        #expect(error.hint?.contains("standard output is for protocol lines only") == true)
        try await plugin.expectNothingSurvives()
    }

    @Test func garbageQuotesTheLine() async throws {
        let plugin = try MisbehavingPlugin(stages: ["garbage"])
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("garbage")
        #expect(error.message.hasSuffix(": \"this is not JSON\""), "\(error.message)")
    }

    @Test func anOutputOutsideTheOutputFolderIsRefused() async throws {
        let plugin = try MisbehavingPlugin(stages: ["outside"])
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("outside")
        #expect(error.message.hasPrefix("plugin \"misbehave\", stage \"outside\": output \"out\" is outside the run's output folder: "), "\(error.message)")
        #expect(await plugin.provider.host.processID != nil, "a wrong result fails the run, not the process")
    }

    @Test func successWithoutTheNamedFileIsRefused() async throws {
        let plugin = try MisbehavingPlugin(stages: ["missing"])
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("missing")
        #expect(error.message.hasPrefix("plugin \"misbehave\", stage \"missing\": reported success, but output \"out\" does not exist: "), "\(error.message)")
    }

    @Test func anErrorAnswerKeepsItsHintAndBadInputMeansExitCode2() async throws {
        let plugin = try MisbehavingPlugin(stages: ["bad-input"])
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("bad-input")
        #expect(error.message == "plugin \"misbehave\", stage \"bad-input\": the text is too short")
        #expect(error.hint == "use more words")
        #expect(error.exitCode == ExitStatus.badInput)
    }

    @Test func aRetryableErrorIsTriedAgain() async throws {
        let plugin = try MisbehavingPlugin(stages: ["flaky"])
        defer { Task { await plugin.remove() } }
        let reports = StageReports()
        let result = try await plugin.run("flaky", reports: reports)
        #expect(try String(contentsOf: try #require(result.outputs["out"]), encoding: .utf8) == "second time lucky")
        #expect(reports.logLines.contains { $0.contains("trying again (2 of 2)") })
        #expect(reports.logLines.contains { $0.contains("flaky: run run-2 attempt 2") })
    }

    @Test func cancellingARunSendsCancelAndTheAnsweringPluginLivesOn() async throws {
        let plugin = try MisbehavingPlugin(stages: ["slow", "ok"])
        defer { Task { await plugin.remove() } }
        let reports = StageReports()
        let run = Task { try await plugin.run("slow", reports: reports) }
        _ = try await ProcessTable.waitFor { reports.fractions.count >= 3 ? true : nil }
        let clock = ContinuousClock()
        let start = clock.now
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        #expect(clock.now - start < .seconds(5))
        // The plugin's answer to `cancel` arrives after the run has already ended for farm.
        let answered = try await ProcessTable.waitFor(timeout: .seconds(20)) {
            reports.logLines.contains("misbehave: cancelled, stopping") ? true : nil
        }
        #expect(answered == true, "the plugin logged no answer to cancel: \(reports.logLines)")
        _ = try await plugin.run("ok")
        #expect(await plugin.provider.host.launches == 1, "the plugin answered cancel, so its process was kept")
    }

    @Test func cancellingARunThePluginIgnoresKillsItsWholeProcessGroup() async throws {
        let plugin = try MisbehavingPlugin(stages: ["child"])
        defer { Task { await plugin.remove() } }
        let reports = StageReports()
        let run = Task { try await plugin.run("child", reports: reports) }
        _ = try await ProcessTable.waitFor { reports.logLines.contains { $0.contains("started helper") } ? true : nil }
        #expect(plugin.recordedPIDs.count == 2, "the plugin and its helper")
        run.cancel()
        await #expect(throws: CancellationError.self) { try await run.value }
        try await plugin.expectNothingSurvives()
    }

    @Test(arguments: [
        ("none", "plugin \"misbehave\" did not send its hello within 4 s of starting"),
        ("garbage", "plugin \"misbehave\" broke the protocol: not a JSON object"),
        ("crash", "plugin \"misbehave\" exited before its hello (exit status 3)"),
        ("wrong-version", "plugin \"misbehave\": plugin.json says version 1.0.0 but its hello says 9.9.9"),
        ("wrong-protocol", "plugin \"misbehave\": its hello chose protocol 7, but farm speaks 1"),
        ("wrong-stages", "plugin \"misbehave\": the stages do not match plugin.json: its hello does not list ok; its hello lists extra, which plugin.json does not declare"),
        ("early", "plugin \"misbehave\" broke the protocol: sent a message before its hello: \"{"),
        ("twice", "plugin \"misbehave\" broke the protocol: sent a second hello: \"{"),
    ])
    func handshakeProblemsFailTheRunAndStopThePlugin(hello: String, expected: String) async throws {
        // Only "none" waits for the start timeout; a loaded machine may take a while to start Python.
        let plugin = try MisbehavingPlugin(stages: ["ok"], hello: hello, startTimeout: hello == "none" ? 4 : 30)
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("ok")
        #expect(error.message.hasPrefix(expected), "\(error.message)")
        if hello == "crash" { #expect(error.hint?.contains("misbehave: cannot load my model") == true, "\(error.hint ?? "")") }
        try await plugin.expectNothingSurvives()
    }

    @Test func aMissingProgramIsAClearError() async throws {
        let plugin = try MisbehavingPlugin(stages: ["ok"], command: ["no-such-program-for-farm"])
        defer { Task { await plugin.remove() } }
        let error = try await plugin.failure("ok")
        #expect(error.message == "plugin \"misbehave\" could not be started: no-such-program-for-farm: program not found")
        #expect(error.exitCode == ExitStatus.badInput)
        let relative = try MisbehavingPlugin(stages: ["ok"], command: ["./missing.sh"])
        defer { Task { await relative.remove() } }
        let second = try await relative.failure("ok")
        #expect(second.message.hasPrefix("plugin \"misbehave\" could not be started: ./missing.sh: "), "\(second.message)")
    }
}
