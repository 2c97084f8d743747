import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// The contents of every zip artifact in a FARM_HOME, by digest.
func zipArtifacts(in home: URL) throws -> [String: [String]] {
    let root = home.appendingPathComponent("artifacts")
    var zips: [String: [String]] = [:]
    for path in FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? [] {
        let file = root.appendingPathComponent(path)
        if let entries = try? ZipArchive.entries(of: file) { zips[file.lastPathComponent] = entries.map(\.name) }
    }
    return zips
}

@Suite(.serialized) struct TrainEndToEndTests {
    /// Two recordings (100 s of voice with pauses) and 12 photos, one with a caption and one on its side.
    static func inputs(in sandbox: Sandbox) async throws {
        try await TrainingMedia.voiceWAV(seconds: 70, to: sandbox.file("talk.wav"))
        try await TrainingMedia.voiceWAV(seconds: 30, frequency: 180, on: 4, to: sandbox.file("sing.wav"))
        let photos = try await TrainingMedia.photoFolder(count: 12, to: sandbox.file("photos"))
        try "a photo of ALICETOK smiling".write(to: photos.appendingPathComponent("photo_0.txt"), atomically: true, encoding: .utf8)
        try TrainingMedia.settingExifOrientation(6, of: photos.appendingPathComponent("photo_1.jpg"))
    }

    @Test func trainOfflineWritesTheSubjectAndOfflineRendersWithIt() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await Self.inputs(in: sandbox)
        let train = ["train", "--profile", "train-offline", "--subject", "alice", "--trigger", "ALICETOK",
                     "--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos"]
        let first = try await sandbox.farm.run(train)
        #expect(first.status == 0, "stderr: \(first.standardError)")
        #expect(first.standardOutput.contains("render with: farm render --profile offline --subject alice --song FILE"))

        let file = sandbox.farm.home.appendingPathComponent("subjects/alice.json")
        let subject = try JSON.parse(String(contentsOf: file, encoding: .utf8), source: "alice.json")
        #expect(subject["name"] == "alice")
        #expect(subject["trigger"] == "ALICETOK")
        #expect(subject["image_model"]?.stringValue?.hasPrefix("offline/") == true)
        let slug = try #require(subject["slug"]?.stringValue)
        #expect(slug.hasPrefix("alice-") && slug.count == "alice-".count + 8)
        #expect(subject["training"]?["profile"] == "train-offline")
        #expect(subject["training"]?["voice"]?["epoch"] == 80)
        #expect(subject["training"]?["image"]?["photos"] == 12)

        let zips = try zipArtifacts(in: sandbox.farm.home)
        // The dataset: dataset/<slug>/split_<i>.wav only, numbered from 0, clips of 5–15 s.
        let dataset = try #require(zips.values.first { $0.contains { $0.hasPrefix("dataset/") } })
        #expect(dataset.count >= 6)
        #expect(dataset == (0..<dataset.count).map { "dataset/\(slug)/split_\($0).wav" })
        // The voice model: the digest the subject records, a flat zip with a .pth and an .index.
        let voiceDigest = try #require(subject["voice_zip_sha256"]?.stringValue)
        let voice = try #require(zips[voiceDigest])
        #expect(Set(voice) == ["\(slug).pth", "added_IVF1_Flat_nprobe_1_\(slug)_v2.index", "total_fea.npy"])
        // The photos: upright, with the caption kept.
        let images = try #require(zips.values.first { $0.contains("img_0.jpg") })
        #expect(images.filter { $0.hasSuffix(".jpg") }.count == 12)
        #expect(images.contains("img_0.txt"))

        let song = try await TestMedia.mp3(seconds: 4, to: sandbox.file("song.mp3"))
        let render = try await sandbox.farm.run(["render", "--profile", "offline", "--subject", "alice", "--song", song.path, "--out", "alice.mp4"])
        #expect(render.status == 0, "stderr: \(render.standardError)")
        #expect(FileManager.default.fileExists(atPath: sandbox.file("alice.mp4").path))

        // Again with --force: everything comes from the cache.
        let again = try await sandbox.farm.run(train + ["--force", "--json"])
        #expect(again.status == 0, "stderr: \(again.standardError)")
        #expect(try again.stageStatuses() == ["dataset": "cached", "voice": "cached", "photos": "cached", "image": "cached"])
    }

    @Test func aSubjectExportedAndImportedElsewhereKeepsItsVoiceZip() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await Self.inputs(in: sandbox)
        let trained = try await sandbox.farm.run(
            ["train", "--profile", "train-offline", "--subject", "alice", "--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos"])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        let exported = try await sandbox.farm.run(["subjects", "export", "alice", "--out", "alice.subject.zip"])
        #expect(exported.status == 0, "stderr: \(exported.standardError)")

        let other = try Sandbox()
        defer { other.remove() }
        try FileManager.default.copyItem(at: sandbox.file("alice.subject.zip"), to: other.file("alice.subject.zip"))
        let imported = try await other.farm.run(["subjects", "import", "alice.subject.zip"])
        #expect(imported.status == 0, "stderr: \(imported.standardError)")
        let original = try String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/alice.json"), encoding: .utf8)
        #expect(try String(contentsOf: other.farm.home.appendingPathComponent("subjects/alice.json"), encoding: .utf8) == original)
        let digest = try #require(try JSON.parse(original, source: "alice.json")["voice_zip_sha256"]?.stringValue)
        #expect(try zipArtifacts(in: other.farm.home)[digest] != nil)
        // Importing twice needs --force.
        let again = try await other.farm.run(["subjects", "import", "alice.subject.zip"])
        #expect(again.status == 2 && again.standardError.contains("already exists"))
    }

    @Test func photoOnItsSideIsTurnedUpright() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await Self.inputs(in: sandbox)
        let result = try await sandbox.farm.run(
            ["train", "--profile", "train-offline", "--subject", "alice", "--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos"])
        #expect(result.status == 0, "stderr: \(result.standardError)")
        let zips = try zipArtifacts(in: sandbox.farm.home)
        let digest = try #require(zips.first { $0.value.contains("img_1.jpg") }?.key)
        let zip = sandbox.farm.home.appendingPathComponent("artifacts/\(digest.prefix(2))/\(digest)")
        let entries = try ZipArchive.entries(of: zip)
        for (name, size) in [("img_0.jpg", (640, 480)), ("img_1.jpg", (480, 640))] {
            let entry = try #require(entries.first { $0.name == name })
            let out = sandbox.file(name)
            try ZipArchive.contents(of: entry, in: zip).write(to: out)
            let video = try #require(try await FFmpeg().probe(out).video)
            #expect(video.width == size.0 && video.height == size.1, "\(name)")
        }
    }

    @Test func voiceFromALinkAndAPageIsFetchedOnceAndTrains() async throws {
        let served = try TemporaryDirectory("farm-voices")
        defer { served.remove() }
        try await TrainingMedia.voiceWAV(seconds: 70, to: served.file("talk.wav"))
        try await TrainingMedia.voiceWAV(seconds: 30, frequency: 180, on: 4, to: served.file("sing.wav"))
        try Data(#"<!DOCTYPE html><html><head><title>Carol sings</title></head><body><audio controls src="sing.wav"></audio></body></html>"#.utf8)
            .write(to: served.file("page.html"))
        let server = try await TestHTTPServer.start(files: served.url)
        defer { server.stop() }
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await TrainingMedia.photoFolder(count: 12, to: sandbox.file("photos"))
        let talk = server.url("/files/talk.wav").absoluteString, page = server.url("/files/page.html").absoluteString
        let base = ["train", "--profile", "train-offline", "--photos", "photos", "--voice", talk, "--voice", page, "--json"]

        let trained = try await sandbox.farm.run(base + ["--subject", "carol"])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        let events = try trained.jsonLines().compactMap(\.objectValue)
        #expect(events.contains { $0["event"] == "download" && $0["stage"] == "dataset" }, "download progress is reported")
        let runID = try #require(try trained.jsonLines().first { $0["event"] == "started" }?["run"]?.stringValue)
        let show = try await sandbox.farm.run(["runs", "show", runID, "--json"])
        let stages = try #require(try JSON.parse(show.standardOutput, source: "runs show")["stages"]?.arrayValue)
        let dataset = try #require(stages.first { $0["stage"] == "dataset" })
        #expect(dataset["metadata"]?["recordings"] == 2)
        #expect((dataset["metadata"]?["voice_seconds"]?.doubleValue ?? 0) > 60)
        let subject = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/carol.json"), encoding: .utf8), source: "carol.json")
        let slug = try #require(subject["slug"]?.stringValue)
        let zips = try zipArtifacts(in: sandbox.farm.home)
        let clips = try #require(zips.values.first { $0.contains { $0.hasPrefix("dataset/") } })
        #expect(clips == (0..<clips.count).map { "dataset/\(slug)/split_\($0).wav" })

        // A link that answers 404: a bad-input error naming the link, nothing recorded.
        let gone = server.url("/files/missing.wav").absoluteString
        let missing = try await sandbox.farm.run(["train", "--profile", "train-offline", "--photos", "photos", "--subject", "eve", "--voice", gone])
        #expect(missing.status == 2, "stderr: \(missing.standardError)")
        #expect(missing.standardError.contains("voice recording link answered HTTP 404 (not found): \(gone)"), "\(missing.standardError)")
        #expect(missing.standardError.contains("hint: "))
        #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/eve.json").path))

        // The links are kept: with the server gone, another training uses the copies.
        server.stop()
        let again = try await sandbox.farm.run(base + ["--subject", "dana"])
        #expect(again.status == 0, "stderr: \(again.standardError)")
        #expect(try again.stageStatuses()["dataset"] == "succeeded")
    }

    @Test func badTrainingInputsStopWithAClearErrorAndRecordNothing() async throws {
        let sandbox = try Sandbox()
        defer { sandbox.remove() }
        try await Self.inputs(in: sandbox)
        try await TrainingMedia.voiceWAV(seconds: 20, to: sandbox.file("short.wav"))
        try await TestMedia.sineWAV(seconds: 40, to: sandbox.file("music.wav"))
        try await TestMedia.sineWAV(seconds: 20, to: sandbox.file("tone.wav"))
        try await TestMedia.colorVideo(seconds: 1, to: sandbox.file("clip.mp4"))
        try await FFmpeg().run(["-f", "lavfi", "-i", "anullsrc=r=44100:cl=mono", "-t", "30", sandbox.file("silence.wav").path])
        try await TrainingMedia.photoFolder(count: 4, to: sandbox.file("few"))
        let broken = try await TrainingMedia.photoFolder(count: 10, to: sandbox.file("broken"))
        try Data("not a picture".utf8).write(to: broken.appendingPathComponent("photo_3.jpg"))

        let base = ["train", "--profile", "train-offline", "--subject", "bob"]
        let cases: [(arguments: [String], error: String)] = [
            (["--voice", "short.wav", "--photos", "photos"], "too little voice: 15 s found"),
            (["--voice", "silence.wav", "--voice", "talk.wav", "--photos", "photos"], "no voice detected in silence.wav: it is silence"),
            (["--voice", "music.wav", "--voice", "talk.wav", "--photos", "photos"], "no voice detected in music.wav: it has no pauses"),
            (["--voice", "missing.wav", "--photos", "photos"], "voice recording not found"),
            (["--voice", "clip.mp4", "--photos", "photos"], "voice recording has no audio track"),
            (["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "few"], "only 4 photo(s)"),
            (["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "broken"], "photo photo_3.jpg cannot be read as an image"),
            (["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos", "--trigger", ""], "the trigger word is empty"),
            (["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos", "--trigger", "two words"], "must be one word"),
            (["--voice", "talk.wav", "--photos", "photos", "--voice-url", "https://example.com/model"], "is not a public http(s) URL of a .zip"),
            (["--photos", "photos"], "required parameter is missing"),
            (["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos", "--set", "photos.max_megapixels=0.2"], "photo photo_0.jpg is huge (640×480)"),
            (["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos", "--set", "photos.min_side=500"], "photo photo_0.jpg is too small (640×480"),
            (["--voice", "ftp://example.com/talk.wav", "--photos", "photos"], "unsupported link scheme \"ftp:\""),
        ]
        for (arguments, error) in cases {
            let result = try await sandbox.farm.run(base + arguments)
            #expect(result.status == 2, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains(error), "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("hint: "), "\(arguments)")
            #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/bob.json").path))
        }

        // A name taken: refused without --force (no terminal to ask on); a common word: a warning.
        let made = try await sandbox.farm.run(base + ["--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos", "--trigger", "man"])
        #expect(made.status == 0, "stderr: \(made.standardError)")
        #expect(made.standardError.contains("warning: the trigger word \"man\" is a common English word"))
        let taken = try await sandbox.farm.run(base + ["--voice", "talk.wav", "--photos", "photos"])
        #expect(taken.status == 2)
        #expect(taken.standardError.contains("subject \"bob\" already exists"))
        #expect(taken.standardError.contains("--force"))
    }
}
