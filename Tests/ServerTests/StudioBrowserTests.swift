import FarmKit
import FarmTestSupport
import Foundation
import Subprocess
import Testing

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// The real page in headless Chromium (Debian's chromium and chromedriver, selenium from PyPI;
/// scripts/setup installs them) against `farm serve` with the offline profile.
@Suite(.serialized) struct StudioBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/studio_browser.py")

    @Test func renderWatchPlayAndCancelInTheBrowser() async throws {
        for tool in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing: run scripts/setup")
        }
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 5, to: studio.root.file("song.mp3"))
        let longSong = try await TestMedia.mp3(seconds: 40, to: studio.root.file("long-song.mp3"))
        let songSeconds = try #require(try await FFmpeg().probe(song).duration)
        let screenshot = studio.root.file("studio.png")

        let (output, renders) = try await studio.serve { server in
            let result = try await Subprocess.run(
                .name("python3"), arguments: [Self.script.path, server.url.absoluteString, song.path, longSong.path, screenshot.path],
                output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
            #expect(result.terminationStatus.isSuccess, "browser script failed: \(result.standardError)")
            return (result.standardOutput, try await studio.get(server, "/api/renders").json())
        }
        // The clip typed into the page reached the render.
        #expect(renders.arrayValue?.first?["start"]?.doubleValue == 5 && renders.arrayValue?.first?["end"]?.doubleValue == 30)
        let report = try #require(try JSON.parse(output, source: "browser report").objectValue)
        #expect(report["state"] == "succeeded", "\(output)")
        // Every stage was seen waiting or running before it succeeded.
        let stages = try #require(report["stages"]?.objectValue?.dictionary)
        #expect(Set(stages.keys) == ["song", "portrait", "cover", "vocals", "performance", "sound", "video"])
        for (name, history) in stages {
            let states = history.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(states.last == "succeeded", "\(name): \(states)")
            #expect(states.count >= 2, "\(name) changed state on the page: \(states)")
        }
        // The graph: an edge from each stage to each stage that reads it, and every node's name,
        // what it reads and its state as text.
        let expectedEdges = Set(StudioHistoryTests.offlineGraph.flatMap { stage, reads in reads.map { [$0, stage] } })
        #expect(Self.edges(report["edges"]) == expectedEdges)
        #expect(expectedEdges.contains(["vocals", "performance"]) && expectedEdges.contains(["cover", "sound"])
                && expectedEdges.contains(["sound", "video"]))
        let text = try #require(report["stage_text"]?.objectValue?.dictionary)
        for (stage, reads) in StudioHistoryTests.offlineGraph {
            let label = text["stage-\(stage)"]?.stringValue ?? ""
            #expect(label.hasPrefix(stage) && label.contains("succeeded"), "\(stage): \(label)")
            #expect(label.contains(reads.isEmpty ? "reads no other stage" : "reads \(reads.joined(separator: " and "))"), "\(stage): \(label)")
        }
        #expect(text["stage-performance"]?.stringValue?.contains("1/1 chunks") == true, "\(text)")
        #expect(report["media"]?.arrayValue?.count ?? 0 >= 3, "still, cover and vocals shown: \(output)")
        let duration = try #require(report["duration"]?.doubleValue)
        #expect(abs(duration - songSeconds) < 0.1, "video \(duration) s, song \(songSeconds) s")
        #expect(report["played"]?.doubleValue ?? 0 > 0)
        #expect(report["cancelled_state"] == "interrupted")
        #expect(report["runs_listed"]?.doubleValue ?? 0 >= 2)
        // A past run opened from the list: its graph and states from the store.
        let past = try #require(report["past_run"]?.objectValue)
        #expect(past["stages"]?.objectValue?.dictionary.mapValues(\.stringValue) == stages.mapValues { _ in "succeeded" })
        #expect(Self.edges(past["edges"]) == expectedEdges)
        #expect(past["stage_text"]?["stage-performance"]?.stringValue?.contains("1/1 chunks") == true)
        #expect(past["video"]?.stringValue?.hasSuffix("/video") == true)
        let errors = report["console_errors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(!errors.contains { $0.contains("Uncaught") }, "\(errors)")

        if let keep = ProcessInfo.processInfo.environment["FARM_STUDIO_SCREENSHOT"] {
            try? FileManager.default.removeItem(atPath: keep)
            try FileManager.default.copyItem(at: screenshot, to: URL(fileURLWithPath: keep))
        }
    }

    /// Edges reported as [from, to] pairs.
    static func edges(_ value: JSON?) -> Set<[String]> {
        Set((value?.arrayValue ?? []).map { $0.arrayValue?.compactMap(\.stringValue) ?? [] })
    }
}
