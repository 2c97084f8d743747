import FarmKit
import FarmTestSupport
import Foundation
import Testing

@Suite("ProcessRunner")
struct MediaProcessRunnerTests {
    @Test func capturesOutputAndStatus() async throws {
        let output = try await ProcessRunner.run("sh", ["-c", "echo out; echo err >&2; exit 3"])
        #expect(output.status == 3)
        #expect(output.standardOutput == "out\n")
        #expect(output.standardError == "err\n")
    }

    @Test func passesArgumentsWithoutAShell() async throws {
        let output = try await ProcessRunner.run("printf", ["%s|", "a b", "$HOME", "; rm -rf /"])
        #expect(output.standardOutput == "a b|$HOME|; rm -rf /|")
    }

    @Test func keepsTheStartOfStandardOutputAndTheEndOfStandardError() async throws {
        let output = try await ProcessRunner.run(
            "sh", ["-c", "seq 1 20000; seq 1 20000 >&2"], outputLimit: 100)
        #expect(output.status == 0)
        #expect(output.standardOutput.utf8.count == 100)
        #expect(output.standardOutput.hasPrefix("1\n2\n3\n"))
        #expect(output.standardError.utf8.count == 100)
        #expect(output.standardError.hasSuffix("19999\n20000\n"))
    }

    @Test func deliversStandardOutputLines() async throws {
        let lines = StageReports()
        let context = TestStageContext.make(scratch: FileManager.default.temporaryDirectory, reports: lines)
        _ = try await ProcessRunner.run("sh", ["-c", "printf 'one\\ntwo\\nthree'"]) { context.log($0) }
        #expect(lines.logLines == ["one", "two", "three"])
    }

    @Test func missingProgramIsNotInstalled() async throws {
        await #expect {
            _ = try await ProcessRunner.run("farm-no-such-tool", [])
        } throws: { error in
            guard case MediaError.notInstalled(let tool) = error else { return false }
            return tool == "farm-no-such-tool"
        }
        await #expect {
            _ = try await ProcessRunner.run("/nonexistent/bin/ffmpeg", [])
        } throws: { error in
            "\(error)" == "ffmpeg is not installed" && (error as? MediaError)?.hint == "install it: sudo apt-get install ffmpeg"
        }
    }

    @Test func timeoutKillsTheChild() async throws {
        let marker = Self.uniqueSleep()
        let start = ContinuousClock.now
        await #expect {
            _ = try await ProcessRunner.run("sleep", [marker], timeout: .milliseconds(300))
        } throws: { error in
            guard case MediaError.timedOut(let tool, let seconds) = error else { return false }
            return tool == "sleep" && seconds == 0.3
        }
        #expect(ContinuousClock.now - start < .seconds(25), "before sleep's 30 s")
        #expect(ProcessTable.pids("sleep", [marker]).isEmpty)
    }

    @Test func timeoutKillsAChildThatIgnoresSIGTERM() async throws {
        let marker = "farm-test-\(UInt32.random(in: 0...UInt32.max))"
        let start = ContinuousClock.now
        await #expect(throws: MediaError.self) {
            _ = try await ProcessRunner.run(
                "sh", ["-c", "trap '' TERM; while :; do sleep 0.1; done", marker], timeout: .milliseconds(300))
        }
        #expect(ContinuousClock.now - start < .seconds(60), "the loop never ends by itself")
        #expect(ProcessTable.pids("sh", ["-c", "trap '' TERM; while :; do sleep 0.1; done", marker]).isEmpty)
    }

    @Test func cancellationKillsTheChild() async throws {
        let marker = Self.uniqueSleep()
        let task = Task { try await ProcessRunner.run("sleep", [marker]) }
        let pid = try await ProcessTable.waitFor(timeout: .seconds(30)) { ProcessTable.pids("sleep", [marker]).first }
        let child = try #require(pid)
        let cancelled = ContinuousClock.now
        task.cancel()
        await #expect(throws: CancellationError.self) { _ = try await task.value }
        #expect(ContinuousClock.now - cancelled < .seconds(10), "well before sleep's 30 s")
        #expect(!ProcessTable.isAlive(child))
    }

    /// `sleep` with an argument no other process has, so the test can find exactly its child.
    static func uniqueSleep() -> String {
        "30.\(UInt32.random(in: 100_000...999_999))"
    }
}
