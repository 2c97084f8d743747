@testable import FarmKit
import Foundation
import Testing

/// `farm render --batch FILE`: one render per line.
@Suite struct BatchFileTests {
    let folder = URL(fileURLWithPath: "/jobs", isDirectory: true)
    let defaults = RenderRequest(profile: "vivid", settings: ["portrait.seed=3"])

    func parse(_ text: String) throws -> [RenderRequest] {
        try BatchFile.parse(text, file: "jobs.txt", folder: folder, defaults: defaults)
    }

    @Test func linesBecomeRequestsWithPathsFromTheFilesFolderAndLinksAsTheyAre() throws {
        let jobs = try parse("""
            # subject song options
            alice  songs/one.mp3

            bob\t"two words.wav" --set portrait.seed=9 --out bob.mp4 --profile offline
            -      https://example.com/a%20song.mp3 --clip 0:30-1:15
            carol  /abs/three.wav --clip 45-
            """)
        #expect(jobs.map(\.subject) == ["alice", "bob", nil, "carol"])
        #expect(jobs.map(\.song) == ["/jobs/songs/one.mp3", "/jobs/two words.wav", "https://example.com/a%20song.mp3", "/abs/three.wav"])
        #expect(jobs[1].settings == ["portrait.seed=3", "portrait.seed=9"])
        #expect(jobs[1].output == "/jobs/bob.mp4" && jobs[1].profile == "offline")
        #expect(jobs[0].profile == "vivid" && jobs[0].clip == SongClip())
        #expect(jobs[2].clip == SongClip(start: 30, end: 75))
        #expect(jobs[3].clip == SongClip(start: 45, end: nil))
    }

    @Test func mistakesNameTheLineAndWhatIsWrong() {
        let cases: [(String, String)] = [
            ("alice\n", "jobs.txt:1: expected a subject and a song"),
            ("alice a.wav --set\n", "jobs.txt:1: --set needs a value"),
            ("\nalice a.wav --speed 2\n", "jobs.txt:2: unknown option --speed"),
            ("alice \"a.wav\n", "jobs.txt:1: a quote is not closed"),
            ("alice a.wav --clip 2:00-1:00\n", "jobs.txt:1: "),
        ]
        for (text, expected) in cases {
            do {
                _ = try parse(text)
                Issue.record("accepted: \(text)")
            } catch let error as UsageError {
                #expect(error.message.hasPrefix(expected), "\(error.message)")
                #expect(error.hint?.contains("SUBJECT SONG") == true)
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
