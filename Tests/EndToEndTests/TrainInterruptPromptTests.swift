import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Ctrl-C on a terminal while `farm train --profile train-vivid` has trainings running on Replicate:
/// farm asks whether to cancel them there or leave them running, and does what the user answers.
/// farm runs under a pseudo-terminal of the test's own (its standard input, output and error, and
/// its controlling terminal); the test presses Ctrl-C (the terminal's ^C, so the line discipline
/// sends SIGINT) and types the answer, against the fake Replicate server on 127.0.0.1.
@Suite(.serialized) struct TrainInterruptPromptTests {
    /// No `--json` and no `--on-interrupt`: the only case where farm asks.
    static let train = VividTrainEndToEndTests.train.filter { $0 != "--json" }
    static let question = "cancel or leave? [c/L] "

    /// Both trainers take 1 + 1000 s at full scale: about 30 s here, long enough to be interrupted
    /// and answered while they run on a heavily loaded machine, short enough to wait out on resume.
    static func start() async throws -> VividSandbox {
        try await VividSandbox.start {
            $0.latencyScale = 0.03
            $0.latencies["replicate/train-rvc-model"] = FakeReplicate.Latency(startup: 1, base: 1000)
            $0.latencies["replicate/fast-flux-trainer"] = FakeReplicate.Latency(startup: 1, base: 1000)
        }
    }

    /// Waits until the voice training (a train-rvc-model prediction) and the image training both
    /// exist on the fake, so Ctrl-C comes while both run there.
    static func untilBothTrainingsRun(on server: FakeReplicateServer, timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let ledger = server.ledger()
            if !ledger.trainings.isEmpty, !ledger.predictions(of: "replicate/train-rvc-model").isEmpty { return }
            guard ContinuousClock.now < deadline else {
                Issue.record("the trainings did not start on the fake within \(timeout)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The question as farm asks it, naming both remote stages and how to resume.
    static func expectQuestion(in transcript: String, runID: String) {
        #expect(transcript.contains(/interrupted while (voice, image|image, voice) run on Replicate \(Ctrl-C again quits at once, leaving it running\)\./),
                "\(transcript)")
        #expect(transcript.contains("[c] cancel it there (what it used so far is still paid for)"))
        #expect(transcript.contains("[L] leave it running and collect it later with farm runs resume \(runID)"), "\(transcript)")
        #expect(transcript.contains(question))
    }

    static func runID(in transcript: String) throws -> String {
        try #require(transcript.firstMatch(of: /farm: profile train-vivid · subject carol · run (\S+)/)?.output.1).description
    }

    @Test func answeringLeaveLeavesTheTrainingsRunningAndResumeReattachesToThem() async throws {
        let vivid = try await Self.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)

        let left = try await sandbox.farm.runInTerminal(Self.train, timeout: .seconds(240)) { terminal in
            try await Self.untilBothTrainingsRun(on: vivid.server)
            try terminal.typeInterrupt()
            try await terminal.waitFor(Self.question)
            try terminal.type("leave\r")
        }
        let screen = left.transcript
        #expect(left.status == 130, "\(screen)")
        let runID = try Self.runID(in: screen)
        Self.expectQuestion(in: screen, runID: runID)
        #expect(screen.contains("^C"), "the terminal echoed the Ctrl-C")
        #expect(screen.contains("leave\r\n"), "the terminal echoed the answer")
        #expect(screen.contains(/note: left the remote work of (voice, image|image, voice) running on Replicate: farm runs resume \S+ re-attaches to it and pays nothing twice/),
                "\(screen)")
        #expect(!screen.contains(VividSandbox.token))

        // Both are still running on the fake after farm has exited; nothing was cancelled.
        var ledger = vivid.server.ledger()
        #expect(ledger.trainings.count == 1)
        #expect(["starting", "processing"].contains(ledger.trainings.first?.status ?? ""), "\(ledger.trainings)")
        let voice = ledger.predictions(of: "replicate/train-rvc-model")
        #expect(voice.count == 1 && ["starting", "processing"].contains(voice.first?.status ?? ""), "\(voice)")
        #expect(ledger.requests("POST /v1/trainings/{id}/cancel") == 0 && ledger.requests("POST /v1/predictions/{id}/cancel") == 0)
        #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/carol.json").path))

        // farm runs resume, on the terminal too, re-attaches to both: nothing is started a second time.
        let resumed = try await sandbox.farm.runInTerminal(["runs", "resume", runID], timeout: .seconds(240))
        #expect(resumed.status == 0, "\(resumed.transcript)")
        #expect(resumed.transcript.contains("note: resuming run \(runID) (interrupted)"), "\(resumed.transcript)")
        #expect(resumed.transcript.contains("render with: farm render --profile vivid --subject carol --song FILE"), "\(resumed.transcript)")
        #expect(!resumed.transcript.contains(Self.question), "nothing was asked")
        #expect(!resumed.transcript.contains(VividSandbox.token))
        ledger = vivid.server.ledger()
        #expect(ledger.trainings.count == 1, "the image training was started again")
        #expect(ledger.trainings.first?.status == "succeeded")
        #expect(ledger.predictions(of: "replicate/train-rvc-model").count == 1, "the voice training was started again")
        #expect(ledger.requests("POST /v1/models") == 1)
        let subject = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/carol.json"), encoding: .utf8), source: "carol.json")
        #expect(subject["training"]?["image"]?["training"]?.stringValue == ledger.trainings.first?.id)
    }

    @Test func answeringCancelCancelsTheTrainingsOnReplicate() async throws {
        let vivid = try await Self.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)

        let cancelled = try await sandbox.farm.runInTerminal(Self.train, timeout: .seconds(240)) { terminal in
            try await Self.untilBothTrainingsRun(on: vivid.server)
            try terminal.typeInterrupt()
            try await terminal.waitFor(Self.question)
            try terminal.type("cancel\r")
        }
        let screen = cancelled.transcript
        #expect(cancelled.status == 130, "\(screen)")
        Self.expectQuestion(in: screen, runID: try Self.runID(in: screen))
        #expect(screen.contains(/note: cancelled the remote work of (voice, image|image, voice) on Replicate/), "\(screen)")
        #expect(!screen.contains("re-attaches to it"))
        #expect(!screen.contains(VividSandbox.token))

        let ledger = vivid.server.ledger()
        #expect(ledger.trainings.count == 1 && ledger.trainings.first?.status == "canceled", "\(ledger.trainings)")
        #expect(ledger.requests("POST /v1/trainings/{id}/cancel") == 1)
        let voice = ledger.predictions(of: "replicate/train-rvc-model")
        #expect(voice.count == 1 && voice.first?.status == "canceled", "\(voice)")
        #expect(ledger.requests("POST /v1/predictions/{id}/cancel") == 1)
        #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/carol.json").path))
    }
}
