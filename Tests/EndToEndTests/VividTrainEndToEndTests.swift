import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// `farm train --profile train-vivid` against the fake Replicate server, then renders with the subject.
@Suite(.serialized) struct VividTrainEndToEndTests {
    static let train = ["train", "--profile", "train-vivid", "--subject", "carol", "--trigger", "CAROLTOK",
                        "--voice", "talk.wav", "--voice", "sing.wav", "--photos", "photos", "--json"]

    @Test func trainVividThenRenderVividWithTheSubject() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)

        let trained = try await sandbox.farm.run(Self.train)
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        #expect(try trained.stageStatuses() == ["dataset": "succeeded", "voice": "succeeded", "publish": "succeeded", "photos": "succeeded", "image": "succeeded"])

        let ledger = vivid.server.ledger()
        // The voice: one train-rvc-model prediction with the profile's settings and the dataset zip.
        let rvc = try #require(ledger.predictions(of: "replicate/train-rvc-model").first)
        #expect(ledger.predictions(of: "replicate/train-rvc-model").count == 1)
        #expect(rvc.input["epoch"] == 80 && rvc.input["sample_rate"] == "48k" && rvc.input["version"] == "v2")
        #expect(rvc.input["f0method"] == "rmvpe_gpu" && rvc.input["batch_size"] == "7")
        // The image: the destination model made once, one fast-flux-trainer training into it.
        #expect(ledger.requests("POST /v1/models") == 1)
        #expect(ledger.trainings.count == 1)
        let flux = try #require(ledger.trainings.first)
        #expect(flux.model == "replicate/fast-flux-trainer")
        #expect(flux.destination == "farm-test/carol-flux")
        #expect(flux.input["trigger_word"] == "CAROLTOK" && flux.input["lora_type"] == "subject")

        let subject = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/carol.json"), encoding: .utf8), source: "carol.json")
        let slug = try #require(subject["slug"]?.stringValue)
        #expect(subject["image_model"]?.stringValue?.hasPrefix("farm-test/carol-flux:") == true)
        let voiceURL = try #require(subject["voice_model"]?.stringValue)
        #expect(voiceURL.hasSuffix("/\(slug).zip"))
        #expect(subject["voice_model_expires"]?.stringValue != nil)
        #expect(subject["training"]?["voice"]?["epoch"] == 80)
        #expect(subject["training"]?["image"]?["training"]?.stringValue == flux.id)

        // The uploaded dataset is the dataset/<slug>/split_<i>.wav zip.
        let zips = try zipArtifacts(in: sandbox.farm.home)
        let dataset = try #require(zips.first { $0.value.contains { $0.hasPrefix("dataset/") } })
        #expect(dataset.value == (0..<dataset.value.count).map { "dataset/\(slug)/split_\($0).wav" })
        #expect(ledger.files.contains { $0.sha256 == dataset.key })
        let voiceDigest = try #require(subject["voice_zip_sha256"]?.stringValue)
        #expect(zips[voiceDigest]?.contains("\(slug).pth") == true)

        // Rendering with the subject: both RVC calls use the recorded voice URL, the still the new LoRA.
        let song = try await TestMedia.mp3(seconds: 3, to: sandbox.file("song.mp3"))
        let render = try await sandbox.farm.run(["render", "--profile", "vivid", "--subject", "carol", "--song", song.path, "--out", "carol.mp4"])
        #expect(render.status == 0, "stderr: \(render.standardError)")
        let covers = vivid.server.ledger().predictions(of: "zsxkib/realistic-voice-cloning")
        #expect(covers.count == 2)
        #expect(covers.allSatisfy { $0.input["custom_rvc_model_download_url"]?.stringValue == voiceURL })
        let version = try #require(subject["image_model"]?.stringValue?.split(separator: ":").last)
        #expect(vivid.server.ledger().predictions.contains { $0.model == "farm-test/carol-flux" && $0.version == String(version) })
    }

    @Test func aTrainingKilledWhileRunningResumesWithoutPayingTwice() async throws {
        // Trainers take 5 + 120…600 s at full scale: a few seconds here, long enough to be killed mid-way.
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.02 }
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)

        let killed = try await sandbox.farm.run(Self.train, killWhen: { $0.contains("training ") && $0.contains(" started") })
        #expect(killed.status != 0)
        let runID = try #require(try killed.jsonLines().first?["run"]?.stringValue)
        #expect(vivid.server.ledger().trainings.count == 1)

        let resumed = try await sandbox.farm.run(["runs", "resume", runID, "--json"])
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        let ledger = vivid.server.ledger()
        #expect(ledger.trainings.count == 1, "the training was started again")
        #expect(ledger.predictions(of: "replicate/train-rvc-model").count == 1)
        #expect(ledger.requests("POST /v1/models") == 1)
        #expect(FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/carol.json").path))
    }

    @Test func ctrlCLeavesTheTrainingsRunningForResumeOrCancelsThem() async throws {
        let vivid = try await VividSandbox.start { $0.latencyScale = 0.03 }
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)
        let started: @Sendable (String) -> Bool = { $0.contains("training ") && $0.contains(" started") }

        // No terminal: Ctrl-C leaves both remote jobs running, and resume re-attaches to them.
        let left = try await sandbox.farm.run(Self.train, interruptWhen: started)
        #expect(left.status == 130, "stderr: \(left.standardError)")
        let runID = try #require(try left.jsonLines().first?["run"]?.stringValue)
        #expect(left.standardError.contains("running on Replicate: farm runs resume \(runID) re-attaches to it"), "\(left.standardError)")
        var ledger = vivid.server.ledger()
        #expect(ledger.trainings.count == 1 && ledger.trainings[0].status != "canceled")
        #expect(ledger.requests("POST /v1/trainings/{id}/cancel") == 0 && ledger.requests("POST /v1/predictions/{id}/cancel") == 0)
        let resumed = try await sandbox.farm.run(["runs", "resume", runID, "--json"])
        #expect(resumed.status == 0, "stderr: \(resumed.standardError)")
        ledger = vivid.server.ledger()
        #expect(ledger.trainings.count == 1, "the training was started again")
        #expect(ledger.predictions(of: "replicate/train-rvc-model").count == 1)
        #expect(FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/carol.json").path))

        // --on-interrupt cancel: the trainings endpoint cancels it, and nothing is recorded.
        let dave = Self.train.map { $0 == "carol" ? "dave" : $0 == "CAROLTOK" ? "DAVETOK" : $0 } + ["--on-interrupt", "cancel"]
        let cancelled = try await sandbox.farm.run(dave, interruptWhen: started)
        #expect(cancelled.status == 130, "stderr: \(cancelled.standardError)")
        #expect(cancelled.standardError.contains("cancelled the remote work of"), "\(cancelled.standardError)")
        ledger = vivid.server.ledger()
        let training = try #require(ledger.trainings.last)
        #expect(ledger.trainings.count == 2 && training.destination == "farm-test/dave-flux")
        #expect(ledger.requests("POST /v1/trainings/{id}/cancel") == 1)
        #expect(training.status == "canceled")
        #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/dave.json").path))

        let bad = try await sandbox.farm.run(dave.map { $0 == "cancel" ? "later" : $0 })
        #expect(bad.status == 2 && bad.standardError.contains("--on-interrupt"), "\(bad.standardError)")
    }

    @Test func aYouTubeLinkBecomesADatasetOnReplicateWithTrainVividYouTube() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainingMedia.photoFolder(count: 12, to: sandbox.file("photos"))
        let video = "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
        let base = ["train", "--profile", "train-vivid-youtube", "--subject", "erin", "--photos", "photos", "--json"]

        let trained = try await sandbox.farm.run(base + ["--voice", video])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        #expect(try trained.stageStatuses()["dataset"] == "succeeded")
        let ledger = vivid.server.ledger()
        let made = try #require(ledger.predictions(of: "zsxkib/create-rvc-dataset").first)
        #expect(ledger.predictions(of: "zsxkib/create-rvc-dataset").count == 1)
        let subject = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/erin.json"), encoding: .utf8), source: "erin.json")
        let slug = try #require(subject["slug"]?.stringValue)
        #expect(made.input["youtube_url"]?.stringValue == video && made.input["audio_name"]?.stringValue == slug)
        // The remote dataset is what the voice was trained on; the voice is named after the slug.
        let zips = try zipArtifacts(in: sandbox.farm.home)
        let dataset = try #require(zips.first { $0.value.contains { $0.hasPrefix("dataset/") } })
        #expect(dataset.value == (0..<dataset.value.count).map { "dataset/\(slug)/split_\($0).wav" })
        #expect(ledger.files.contains { $0.sha256 == dataset.key })
        #expect(subject["voice_model"]?.stringValue?.hasSuffix("/\(slug).zip") == true)

        // It takes exactly one YouTube link, refused before anything is paid for.
        try await TrainingMedia.voiceWAV(seconds: 70, to: sandbox.file("talk.wav"))
        for (voice, error) in [([video, video], "2 voice sources given"), (["talk.wav"], "not a YouTube link"),
                               (["https://example.com/talk.mp3"], "not a YouTube link: https://example.com/talk.mp3")] {
            let refused = try await sandbox.farm.run(base.filter { $0 != "--json" } + ["--force"] + voice.flatMap { ["--voice", $0] })
            #expect(refused.status == 2, "\(voice): \(refused.standardError)")
            #expect(refused.standardError.contains(error) && refused.standardError.contains("hint: "), "\(voice): \(refused.standardError)")
        }
        #expect(vivid.server.ledger().predictions.count == ledger.predictions.count)
    }

    @Test func aTrainingThatFailsOnReplicateShowsItsErrorAndLogsAndChangesNoSubject() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)
        let alice = sandbox.farm.home.appendingPathComponent("subjects/alice.json")
        let before = try Data(contentsOf: alice)
        vivid.server.inject(.init(failures: [.init(model: "replicate/fast-flux-trainer", error: "CUDA out of memory while training", count: 1)]))
        let replacing = Self.train.filter { $0 != "--json" }.map { $0 == "carol" ? "alice" : $0 } + ["--force"]
        let failed = try await sandbox.farm.run(replacing)
        #expect(failed.status == 1, "stderr: \(failed.standardError)")
        #expect(failed.standardError.contains("error: stage image failed: replicate/fast-flux-trainer failed (training "), "\(failed.standardError)")
        #expect(failed.standardError.contains("CUDA out of memory while training"))
        #expect(failed.standardError.contains("last lines of its log:"))
        #expect(failed.standardError.contains("last log lines:\n  Running prediction..."), "the trainer's own log lines are shown")
        #expect(failed.standardError.contains("hint: "))
        #expect(try Data(contentsOf: alice) == before, "the subject is unchanged")
        #expect(!failed.standardError.contains(VividSandbox.token) && !failed.standardOutput.contains(VividSandbox.token))

        // Fixed (here: the fault is spent), the same command trains only what failed.
        let again = try await sandbox.farm.run(replacing + ["--json"])
        #expect(again.status == 0, "stderr: \(again.standardError)")
        #expect(vivid.server.ledger().predictions(of: "replicate/train-rvc-model").count == 1, "the voice was not paid for twice")
        #expect(try Data(contentsOf: alice) != before)
    }

    @Test func aDestinationModelOfAnotherOwnerIsRefused() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)
        // A name under another owner: Replicate answers POST /v1/models with 403.
        let other = try await sandbox.farm.run(Self.train.filter { $0 != "--json" } + ["--set", "image.destination=someone-else/carol-flux"])
        #expect(other.status == 2, "stderr: \(other.standardError)")
        #expect(other.standardError.contains("the destination model name someone-else/carol-flux belongs to another owner"), "\(other.standardError)")
        #expect(other.standardError.contains("hint: choose another name with --set image.destination=NAME"))
        // Another owner's existing public model: the training is refused with 404, nothing is started.
        let taken = try await sandbox.farm.run(Self.train.filter { $0 != "--json" } + ["--set", "image.destination=zsxkib/sonic"])
        #expect(taken.status == 2, "stderr: \(taken.standardError)")
        #expect(taken.standardError.contains("Replicate refused the destination model zsxkib/sonic"), "\(taken.standardError)")
        #expect(taken.standardError.contains("--set image.destination=NAME"))
        let ledger = vivid.server.ledger()
        #expect(ledger.trainings.isEmpty)
        #expect(ledger.requests("POST /v1/models") == 1)
        #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/carol.json").path))
    }

    @Test func theVoiceModelIsPublishedToAnS3BucketOrLater() async throws {
        guard await MotoS3Server.isInstalled else {
            Issue.record("moto's S3 server is not installed: run scripts/setup (pip install 'moto[server]')")
            return
        }
        let moto = try await MotoS3Server()
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop(); await moto.stop() } }
        try await moto.createBucket("voices")
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)
        let secret = "s3cr3tKeyQ8wZpLm7Rt"
        var withBucket = sandbox.farm
        withBucket.environment.merge(["FARM_S3_BUCKET": "voices", "FARM_S3_ENDPOINT": moto.endpoint.absoluteString, "FARM_S3_REGION": "us-east-1",
                                      "AWS_ACCESS_KEY_ID": "AKIAFARMTEST", "AWS_SECRET_ACCESS_KEY": secret]) { _, new in new }

        // A bucket that refuses the upload: the publish stage fails, the rest is kept, no subject.
        var refusing = withBucket
        refusing.environment["FARM_S3_BUCKET"] = "no-such-bucket"
        let refused = try await refusing.run(Self.train)
        #expect(refused.status == 1)
        #expect(try refused.stageStatuses()["publish"] == "failed")
        #expect(refused.standardOutput.contains("the bucket no-such-bucket refused the upload"))
        #expect(!refused.standardError.contains(secret) && !refused.standardOutput.contains(secret))
        #expect(!FileManager.default.fileExists(atPath: sandbox.farm.home.appendingPathComponent("subjects/carol.json").path))

        // With a bucket: the zip is a public object <prefix><slug>.zip and the subject records its URL.
        let published = try await withBucket.run(Self.train)
        #expect(published.status == 0, "stderr: \(published.standardError)")
        #expect(try published.stageStatuses()["voice"] == "cached")
        #expect(vivid.server.ledger().predictions(of: "replicate/train-rvc-model").count == 1)
        let subject = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/carol.json"), encoding: .utf8), source: "carol.json")
        let slug = try #require(subject["slug"]?.stringValue)
        let url = try #require(subject["voice_model"]?.stringValue)
        #expect(url == moto.endpoint.absoluteString + "/voices/farm/voices/\(slug).zip")
        #expect(subject["voice_model_expires"] == nil)
        let served = try await HTTPClient().send(HTTPRequest(url: URL(string: url)!))
        #expect(served.status == 200)
        let digest = try #require(subject["voice_zip_sha256"]?.stringValue)
        #expect(SHA256.hex(served.body) == digest)

        // A render checks the URL and sends it to both RVC calls.
        let song = try await TestMedia.mp3(seconds: 3, to: sandbox.file("song.mp3"))
        _ = try await withBucket.run(["render", "--profile", "vivid", "--subject", "carol", "--song", song.path, "--out", "carol.mp4"])
        let covers = vivid.server.ledger().predictions(of: "zsxkib/realistic-voice-cloning")
        #expect(!covers.isEmpty && covers.allSatisfy { $0.input["custom_rvc_model_download_url"]?.stringValue == url })

        // Trained without a bucket, published later with farm subjects publish.
        let later = try await sandbox.farm.run(Self.train.map { $0 == "carol" ? "dave" : $0 == "CAROLTOK" ? "DAVETOK" : $0 })
        #expect(later.status == 0, "stderr: \(later.standardError)")
        #expect(later.standardError.contains("farm subjects publish dave"))
        let unpublished = try await sandbox.farm.run(["subjects", "publish", "dave"])
        #expect(unpublished.status == 2 && unpublished.standardError.contains("no bucket is configured"))
        let publish = try await withBucket.run(["subjects", "publish", "dave"])
        #expect(publish.status == 0, "stderr: \(publish.standardError)")
        let dave = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/dave.json"), encoding: .utf8), source: "dave.json")
        let daveSlug = try #require(dave["slug"]?.stringValue)
        #expect(dave["voice_model"]?.stringValue == moto.endpoint.absoluteString + "/voices/farm/voices/\(daveSlug).zip")
        #expect(dave["voice_model_expires"] == nil)
        #expect(!publish.standardOutput.contains(secret) && !publish.standardError.contains(secret))
    }

    @Test func fluxProTrainerGivesAFinetuneThatVividProRenders() async throws {
        let vivid = try await VividSandbox.start()
        defer { Task { await vivid.stop() } }
        let sandbox = vivid.sandbox
        try await TrainEndToEndTests.inputs(in: sandbox)
        let trained = try await sandbox.farm.run(
            Self.train.filter { $0 != "--json" } + ["--set", "image.model=black-forest-labs/flux-pro-trainer", "--voice-url", vivid.voiceURL.absoluteString])
        #expect(trained.status == 0, "stderr: \(trained.standardError)")
        #expect(trained.standardOutput.contains("render with: farm render --profile vivid-pro --subject carol --song FILE"))
        let training = try #require(vivid.server.ledger().trainings.first)
        #expect(training.model == "black-forest-labs/flux-pro-trainer" && training.input["mode"] == "character")
        let subject = try JSON.parse(String(contentsOf: sandbox.farm.home.appendingPathComponent("subjects/carol.json"), encoding: .utf8), source: "carol.json")
        #expect(subject["voice_model"]?.stringValue == vivid.voiceURL.absoluteString)
        let song = try await TestMedia.mp3(seconds: 3, to: sandbox.file("song.mp3"))
        let render = try await sandbox.farm.run(["render", "--profile", "vivid-pro", "--subject", "carol", "--song", song.path, "--out", "carol.mp4"])
        #expect(render.status == 0, "stderr: \(render.standardError)")
        #expect(vivid.server.ledger().predictions(of: "black-forest-labs/flux-pro-finetuned").first?.input["finetune_id"] == subject["image_model"])
    }
}
