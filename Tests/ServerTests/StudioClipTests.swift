import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Rendering part of a song through the studio: `start`/`end`/`clip` in the API, and `farm render
/// --server` passing `--start`/`--end`/`--clip`.
@Suite(.serialized) struct StudioClipTests {
    @Test func theAPIRendersAClipAndRefusesBadTimesNamingTheField() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 5, to: studio.root.file("song.mp3"))
        try await studio.serve { server in
            let id = try await studio.submitOfflineRender(server, song: song, JSONObject([("clip", "0:01-3")]))
            let entry = try await studio.get(server, "/api/renders/\(id)").json()
            #expect(entry["start"]?.doubleValue == 1 && entry["end"]?.doubleValue == 3)
            let finished = try #require(try await studio.events(server, id).last)
            #expect(finished["status"] == "succeeded", "\(JSON.object(finished).compactString)")
            let run = try #require(finished["run"]?.stringValue)
            #expect(try await Self.videoSeconds(studio, server, run: run).map { abs($0 - 2) < 0.15 } == true)

            // Numbers work as well as text, and start alone runs to the end.
            let numbers = try await studio.submitOfflineRender(server, song: song, JSONObject([("start", 3.5)]))
            let tail = try #require(try await studio.events(server, numbers).last)
            #expect(tail["status"] == "succeeded")
            let tailRun = try #require(tail["run"]?.stringValue)
            let seconds = try #require(try await Self.videoSeconds(studio, server, run: tailRun))
            #expect(abs(seconds - 1.5) < 0.15, "\(seconds)")

            let upload = try await studio.upload(server, song: song)
            let bad: [(JSONObject, String)] = [
                (JSONObject([("start", "soon")]), #"start "soon" is not a time"#),
                (JSONObject([("end", "1:75")]), #"end "1:75" is not a time"#),
                (JSONObject([("clip", "0:03-0:01")]), "must come after its start"),
                (JSONObject([("clip", "1-2"), ("start", "1")]), "clip cannot be combined with start or end"),
                (JSONObject([("clip", "-")]), "is not a range START-END"),
                (JSONObject([("start", true)]), "start must be a time"),
                (JSONObject([("refresh", "yes")]), "refresh must be true or false"),
            ]
            for (fields, message) in bad {
                var request = JSONObject([("profile", "offline"), ("upload", .string(upload))])
                for (key, value) in fields.dictionary { request[key] = value }
                let answer = try await studio.post(server, "/api/renders", .json(.object(request)))
                #expect(answer.status == 400, "\(JSON.object(fields).compactString)")
                #expect(answer.errorMessage?.contains(message) == true, "\(answer.errorMessage ?? "")")
                #expect(answer.hint?.isEmpty == false)
                #expect(answer.errorMessage?.contains("--") == false)
            }
            // Nothing was queued by the refused requests.
            #expect(try await studio.get(server, "/api/renders").json().arrayValue?.count == 2)
        }
    }

    @Test func renderOnTheServerPassesTheClip() async throws {
        let studio = try Studio()
        defer { studio.remove() }
        let song = try await TestMedia.mp3(seconds: 5, to: studio.root.file("song.mp3"))
        try await studio.serve { server in
            let result = try await studio.farm.run(["render", "--server", server.url.absoluteString, "--profile", "offline",
                                                    "--song", song.path, "--clip", "1-3.5", "--out", "clip.mp4", "--json"])
            #expect(result.status == 0, "\(result.standardError)")
            let info = try await FFmpeg().probe(studio.farm.workingDirectory.appendingPathComponent("clip.mp4"))
            #expect(abs((info.duration ?? 0) - 2.5) < 0.15, "\(info.duration ?? 0)")

            let ends = try await studio.farm.run(["render", "--server", server.url.absoluteString, "--profile", "offline",
                                                  "--song", song.path, "--start", "0:02", "--end", "4", "--refresh", "--out", "ends.mp4"])
            #expect(ends.status == 0, "\(ends.standardError)")
            let endsInfo = try await FFmpeg().probe(studio.farm.workingDirectory.appendingPathComponent("ends.mp4"))
            #expect(abs((endsInfo.duration ?? 0) - 2) < 0.15, "\(endsInfo.duration ?? 0)")
            let renders = try #require(try await studio.get(server, "/api/renders").json().arrayValue)
            #expect(renders.first?["start"]?.doubleValue == 2 && renders.first?["end"]?.doubleValue == 4)

            // A bad time is refused before anything reaches the server.
            let bad = try await studio.farm.run(["render", "--server", server.url.absoluteString, "--profile", "offline",
                                                 "--song", song.path, "--clip", "3-1"])
            #expect(bad.status == 2)
            #expect(bad.standardError.contains("must come after its start") && bad.standardError.contains("hint: "))
            #expect(try await studio.get(server, "/api/renders").json().arrayValue?.count == 2)
        }
    }

    /// The duration of run `run`'s video, downloaded from the studio.
    static func videoSeconds(_ studio: Studio, _ server: FarmServe.Running, run: String) async throws -> Double? {
        let video = try await studio.get(server, "/api/runs/\(run)/video")
        let file = studio.root.file("\(run).mp4")
        try video.body.write(to: file)
        return try await FFmpeg().probe(file).duration
    }
}
