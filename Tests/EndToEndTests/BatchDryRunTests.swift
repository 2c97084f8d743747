import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// `farm render --dry-run` with several songs or a batch file checks every job as a single dry run
/// does, its song included: each bad one is named, exit 2, nothing written.
@Suite struct BatchDryRunTests {
    @Test func everySongIsCheckedAndEachBadOneNamed() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TestMedia.sineWAV(seconds: 1, to: sandbox.file("good.wav"))
        try Data("the lyrics, not the song\n".utf8).write(to: sandbox.file("lyrics.mp3"))

        let fine = try await sandbox.farm.run(["render", "--profile", "offline", "--song", "good.wav", "--song", "good.wav", "--out", ".", "--dry-run"])
        #expect(fine.status == 0, "\(fine.standardError)")
        #expect(fine.standardOutput.contains("job 1:") && fine.standardOutput.contains("job 2:"))

        let songs = try await sandbox.farm.run(
            ["render", "--profile", "offline", "--song", "good.wav", "--song", "missing.mp3", "--song", "lyrics.mp3", "--out", ".", "--dry-run"])
        #expect(songs.status == 2, "\(songs.standardError)")
        let errors = songs.standardError.split(separator: "\n").filter { $0.hasPrefix("error: ") }
        #expect(errors.count == 2, "\(songs.standardError)")
        #expect(errors.first?.hasPrefix("error: job 2 (missing.mp3): ") == true && errors.first?.contains("not found") == true, "\(errors)")
        #expect(errors.last?.hasPrefix("error: job 3 (lyrics.mp3): ") == true, "\(errors)")
        #expect(songs.standardError.contains("hint: "))
        #expect(songs.standardOutput.contains("job 1:") && !songs.standardOutput.contains("job 2:"))

        let batch = sandbox.file("jobs.txt")
        try Data("# two songs\n- good.wav\n\n- missing.mp3 --clip 0:00-0:01\n".utf8).write(to: batch)
        let lines = try await sandbox.farm.run(["render", "--profile", "offline", "--batch", batch.path, "--dry-run"])
        #expect(lines.status == 2, "\(lines.standardError)")
        #expect(lines.standardError.hasPrefix("error: job 2 (\(sandbox.file("missing.mp3").path)): "), "\(lines.standardError)")
        #expect(lines.standardError.contains("hint: "))

        #expect(sandbox.homeFiles.isEmpty, "a dry run writes nothing: \(sandbox.homeFiles)")
        #expect(sandbox.systemTemporaryFiles.isEmpty)
    }
}
