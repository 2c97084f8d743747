import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// What farm shows on a terminal: it runs under a pseudo-terminal of the test's own (no shell, no
/// `script`), and its live table must show each stage waiting, running with its elapsed time, then
/// done, cached or failed, and a link's download with bytes and percent.
@Suite(.serialized) struct TerminalProgressTests {
    @Test func aTerminalShowsTheDownloadAndEachStageWaitingRunningDoneThenCached() async throws {
        let songs = try await SongServer.start()
        defer { songs.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        let link = songs.link("tone.wav")
        let first = try await sandbox.farm.runInTerminal(["render", "--profile", "offline", "--song", link, "--out", "out.mp4"])
        #expect(first.status == 0, "\(first.transcript)")
        let screen = first.transcript
        #expect(screen.contains("\u{1B}[2K"), "the live table redraws its lines")
        #expect(screen.contains(/song: downloading \S+ \S+ of \S+ \S+ \(100%\)/), "\(screen)")
        #expect(screen.contains(/· +performance +offline\.face\S* +waiting/), "\(screen)")
        #expect(screen.contains(/performance +offline\.face\S* +running \d+\.\d+s/), "\(screen)")
        #expect(screen.contains(/✓ +performance +offline\.face\S* +done \d+\.\d+s/), "\(screen)")
        #expect(!screen.contains("performance: succeeded"), "no plain lines on a terminal")
        #expect(screen.hasSuffix(sandbox.file("out.mp4").path + "\r\n"), "the path comes last")

        let second = try await sandbox.farm.runInTerminal(["render", "--profile", "offline", "--song", link, "--out", "again.mp4"])
        #expect(second.status == 0, "\(second.transcript)")
        for stage in ["song", "portrait", "cover", "vocals", "performance", "video"] {
            #expect(second.transcript.contains(try Regex("↺ +\(stage) +\\S+ +cached")), "\(stage): \(second.transcript)")
        }
        #expect(!second.transcript.contains("downloading"), "the link is not fetched again")
    }

    @Test func aTerminalShowsAFailedStage() async throws {
        var sandbox = try PluginEndToEndTests.PluginSandbox()
        defer { sandbox.remove() }
        let (folder, pids) = try PluginEndToEndTests.misbehavingPlugin(stages: ["crash"], in: sandbox)
        sandbox.farm.environment["FARM_PLUGIN_PATH"] = folder.path
        try sandbox.writeProfile("boom", #"{"subject": "demo", "stages": {"boom": {"use": "misbehave.crash"}}, "output": "boom.out"}"#)
        let result = try await sandbox.farm.runInTerminal(["render", "--profile", "boom", "--out", "boom.txt"])
        #expect(result.status == 1, "\(result.transcript)")
        #expect(result.transcript.contains(/✗ +boom +misbehave\.crash@1 +failed/), "\(result.transcript)")
        #expect(result.transcript.contains("error: stage boom failed: plugin \"misbehave\" exited (exit status 3)"))
        try await PluginEndToEndTests.expectNoneAlive(pids)
    }
}
