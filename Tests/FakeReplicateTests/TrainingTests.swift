@testable import FakeReplicate
import FarmKit
import FarmTestSupport
import Foundation
import Testing

/// Destination models, the three trainers, and running what they made.
extension FakeReplicateSuite {
    @Suite struct TrainingTests {
        static let fastFlux = "/models/replicate/fast-flux-trainer/versions/8b10794665aed907bb98a1a5324cd1d3a8bea0e9b31e65210967fb9c9e2e08ed/trainings"
        static let trainRVC = "/models/replicate/train-rvc-model/versions/cf360587a27f67500c30fc31de1e0f0f9aa26dcd7b866e6ac937a07bd104bad9/trainings"

        @Test func destinationModels() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let body: JSON = ["owner": "farm-test", "name": "bob-flux", "visibility": "private", "hardware": "gpu-t4", "description": "Bob"]
            let created = try await fake.api.post("/models", body)
            #expect(created.status == 201)
            #expect(created["latest_version"] == .null)
            #expect(created["visibility"] == "private")
            let again = try await fake.api.post("/models", body)
            #expect(again.status == 409)
            let otherOwner = try await fake.api.post("/models", ["owner": "someone", "name": "x", "visibility": "public", "hardware": "cpu"])
            #expect(otherOwner.status == 403)
            let incomplete = try await fake.api.post("/models", ["owner": "farm-test", "name": "y", "visibility": "hidden"])
            #expect(incomplete.status == 422)
            let problems = incomplete["invalid_fields"]?.arrayValue?.compactMap { $0["description"]?.stringValue } ?? []
            #expect(problems.contains("hardware is required"))
            #expect(problems.contains(#"visibility must be one of the following: "public", "private""#))
            #expect(try await fake.api.get("/models/farm-test/bob-flux")["description"] == "Bob")
            await fake.stop()
        }

        @Test func fastFluxTrainerMakesARunnableVersion() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            _ = try await fake.api.post("/models", ["owner": "farm-test", "name": "bob-flux", "visibility": "private", "hardware": "gpu-t4"])
            let images = try await fake.upload(try fake.zip("photos.zip", [("img_0.jpg", "a"), ("img_0.txt", "BOB"), ("img_1.png", "b")]), type: "application/zip")

            let invalid = try await fake.api.post(Self.fastFlux, ["destination": "farm-test/nope", "input": ["input_images": .string(images)]])
            #expect(invalid.status == 404)
            #expect(invalid.text == #"{"detail":"The specified training destination does not exist","status":404}"#)
            let badInput = try await fake.api.post(Self.fastFlux, ["destination": "farm-test/bob-flux", "input": ["input_images": .string(images), "steps": 10]])
            #expect(badInput.status == 422)
            let notTrainable = try await fake.api.post(
                "/models/zsxkib/sonic/versions/\(try await fake.latestVersion("zsxkib/sonic"))/trainings",
                ["destination": "farm-test/bob-flux", "input": [:]])
            #expect(notTrainable.status == 400)

            let created = try await fake.api.post(
                Self.fastFlux, ["destination": "farm-test/bob-flux", "input": ["input_images": .string(images), "trigger_word": "BOB", "lora_type": "subject"]])
            #expect(created.status == 201)
            let id = try #require(created["id"]?.stringValue)
            #expect(created["urls"]?["get"]?.stringValue == "\(fake.api.base.absoluteString)/predictions/\(id)")
            let training = try await fake.api.wait(id, collection: "trainings")
            #expect(training["status"] == "succeeded", "\(training.compactString)")
            #expect(training["urls"]?["get"]?.stringValue == "\(fake.api.base.absoluteString)/trainings/\(id)")
            let version = try #require(training["output"]?["version"]?.stringValue)
            #expect(version.hasPrefix("farm-test/bob-flux:") && version.count == "farm-test/bob-flux:".count + 64)
            #expect(training["output"]?["weights"]?.stringValue?.hasSuffix("/trained_model.tar") == true)
            #expect(try await fake.api.get("/models/farm-test/bob-flux")["latest_version"]?["id"]?.stringValue == String(version.split(separator: ":")[1]))

            let run = try await fake.api.post(
                "/predictions", ["version": .string(version), "input": ["prompt": "BOB singing", "megapixels": "0.25", "num_outputs": 2]],
                headers: ["Prefer": "wait"])
            #expect(run["status"] == "succeeded")
            #expect(run["output"]?.arrayValue?.count == 2)
            let byName = try await fake.api.post("/models/farm-test/bob-flux/predictions", ["input": ["prompt": "BOB", "megapixels": "0.25"]], headers: ["Prefer": "wait"])
            #expect(byName["status"] == "succeeded")
            #expect(byName["version"]?.stringValue == String(version.split(separator: ":")[1]))

            let list = try await fake.api.get("/trainings")
            #expect(list["results"]?.arrayValue?.count == 1)
            #expect(fake.server.ledger().trainings.first?.destination == "farm-test/bob-flux")
            await fake.stop()
        }

        @Test func trainRVCModelZipsTheVoice() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let dataset = try await fake.upload(
                try fake.zip("dataset_alice.zip", [("dataset/alice_3f2a/split_0.wav", "RIFF"), ("dataset/alice_3f2a/split_1.wav", "RIFF")]),
                type: "application/zip")

            // As a prediction (how Replicate's guide runs it): the output is `<slug>.zip`.
            let trainer = "replicate/train-rvc-model:cf360587a27f67500c30fc31de1e0f0f9aa26dcd7b866e6ac937a07bd104bad9"
            let predicted = try await fake.api.post(
                "/predictions", ["version": .string(trainer), "input": ["dataset_zip": .string(dataset), "epoch": 50]], headers: ["Prefer": "wait"])
            #expect(predicted["status"] == "succeeded", "\(predicted.text)")
            let zipURL = try #require(predicted["output"]?.stringValue)
            #expect(zipURL.hasSuffix("/alice_3f2a.zip"))
            let (zipFile, _) = try await fake.api.download(zipURL, as: "alice_3f2a.zip")
            let entries = try #require(Zip.entryNames(try Data(contentsOf: zipFile)))
            #expect(entries.contains("alice_3f2a.pth"))
            #expect(entries.contains("total_fea.npy"))
            #expect(entries.contains("added_IVF256_Flat_nprobe_1_alice_3f2a_v2.index"))

            // The zip works as a custom voice.
            let song = try await fake.upload(try await fake.song(seconds: 1), type: "audio/wav")
            let cover = try await fake.api.post(
                "/predictions",
                ["version": "0a9c7c558af4c0f20667c1bd1260ce32a2879944a0b9e44e1398660c077b1550",
                 "input": ["song_input": .string(song), "custom_rvc_model_download_url": .string(zipURL), "output_format": "wav"]],
                headers: ["Prefer": "wait"])
            #expect(cover["output"]?.stringValue?.hasSuffix("/song%20%28alice_3f2a%20Ver%29.wav") == true, "\(cover.text)")

            // As a training: weights are the zip, and the destination gets a version that sings with it.
            _ = try await fake.api.post("/models", ["owner": "farm-test", "name": "alice-voice", "visibility": "private", "hardware": "gpu-t4"])
            let created = try await fake.api.post(Self.trainRVC, ["destination": "farm-test/alice-voice", "input": ["dataset_zip": .string(dataset)]])
            let training = try await fake.api.wait(try #require(created["id"]?.stringValue), collection: "trainings")
            #expect(training["output"]?["weights"]?.stringValue?.hasSuffix("/alice_3f2a.zip") == true)
            let version = try #require(training["output"]?["version"]?.stringValue)
            let sung = try await fake.api.post("/predictions", ["version": .string(version), "input": ["song_input": .string(song)]], headers: ["Prefer": "wait"])
            #expect(sung["output"]?.stringValue?.hasSuffix("/song%20%28alice_3f2a%20Ver%29.mp3") == true, "\(sung.text)")

            let broken = try await fake.upload(try fake.zip("flat.zip", [("split_0.wav", "RIFF")]), type: "application/zip")
            let failed = try await fake.api.post("/predictions", ["version": .string(trainer), "input": ["dataset_zip": .string(broken)]], headers: ["Prefer": "wait"])
            #expect(failed["status"] == "failed")
            await fake.stop()
        }

        @Test func createRVCDatasetZipsClipsOfTheVideosVoice() async throws {
            let fake = try await FakeFixture.start()
            defer { Task { await fake.stop() } }
            let model = "zsxkib/create-rvc-dataset:f6593d27ca2570319dc9cbdfda6b81011819e541e9ee1333eda63edc5884445d"
            let made = try await fake.api.post(
                "/predictions",
                ["version": .string(model), "input": ["youtube_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ", "audio_name": "alice_3f2a"]],
                headers: ["Prefer": "wait"])
            #expect(made["status"] == "succeeded", "\(made.text)")
            #expect(made["logs"]?.stringValue?.contains("[youtube] Extracting URL: https://www.youtube.com/watch?v=dQw4w9WgXcQ") == true)
            let url = try #require(made["output"]?.stringValue)
            #expect(url.hasSuffix("/dataset_alice_3f2a.zip"))
            let (zip, _) = try await fake.api.download(url, as: "dataset_alice_3f2a.zip")
            let entries = try #require(Zip.entryNames(try Data(contentsOf: zip)))
            #expect(entries.count >= 3)
            #expect(entries == (0..<entries.count).map { "dataset/alice_3f2a/split_\($0).wav" })
            // Each clip is real audio, at least 5 s (the slicer's minimum), kept stereo at 44.1 kHz.
            let first = zip.deletingLastPathComponent().appendingPathComponent("split_0.wav")
            try ZipArchive.contents(of: try #require(try ZipArchive.entries(of: zip).first), in: zip).write(to: first)
            let info = try await FFmpeg().probe(first)
            #expect(info.audio?.channels == 2 && info.audio?.sampleRate == 44100)
            #expect((info.duration ?? 0) >= 5)

            // Its dataset trains a voice as it is.
            let dataset = try await fake.upload(zip, type: "application/zip")
            let trained = try await fake.api.post(
                "/predictions",
                ["version": "replicate/train-rvc-model:cf360587a27f67500c30fc31de1e0f0f9aa26dcd7b866e6ac937a07bd104bad9", "input": ["dataset_zip": .string(dataset)]],
                headers: ["Prefer": "wait"])
            #expect(trained["output"]?.stringValue?.hasSuffix("/alice_3f2a.zip") == true, "\(trained.text)")

            // The name defaults as the model's does; a link that is not a URL fails with yt-dlp's words.
            let unnamed = try await fake.api.post(
                "/predictions", ["version": .string(model), "input": ["youtube_url": "https://youtu.be/dQw4w9WgXcQ"]], headers: ["Prefer": "wait"])
            #expect(unnamed["output"]?.stringValue?.hasSuffix("/dataset_rvc_v2_voices.zip") == true)
            let bad = try await fake.api.post(
                "/predictions", ["version": .string(model), "input": ["youtube_url": "not a link"]], headers: ["Prefer": "wait"])
            #expect(bad["status"] == "failed")
            #expect(bad["error"]?.stringValue?.hasPrefix("ERROR: [generic] 'not a link' is not a valid URL.") == true, "\(bad.text)")
            let missing = try await fake.api.post("/predictions", ["version": .string(model), "input": ["audio_name": "x"]])
            #expect(missing.status == 422)
            await fake.stop()
        }

        @Test func fluxProTrainerAndFinetunedInference() async throws {
            let fake = try await FakeFixture.start { $0.latencies["black-forest-labs/flux-pro-trainer"] = .init(startup: 0, base: 300) }
            defer { Task { await fake.stop() } }
            _ = try await fake.api.post("/models", ["owner": "farm-test", "name": "alice-pro", "visibility": "private", "hardware": "cpu"])
            let images = try await fake.upload(try fake.zip("photos.zip", [("a_photo_of_TOK.png", "x"), ("TOK_smiling.jpg", "y")]), type: "application/zip")
            let trainerVersion = try await fake.latestVersion("black-forest-labs/flux-pro-trainer")
            let path = "/models/black-forest-labs/flux-pro-trainer/versions/\(trainerVersion)/trainings"
            let body: JSON = ["destination": "farm-test/alice-pro", "input": ["input_images": .string(images), "mode": "character", "finetune_type": "lora", "lora_rank": 16]]
            let created = try await fake.api.post(path, body)
            let id = try #require(created["id"]?.stringValue)
            let training = try await fake.api.wait(id, collection: "trainings")
            #expect(training["status"] == "succeeded")
            let finetune = try #require(training["output"]?.stringValue)

            let image = try await fake.api.post(
                "/models/black-forest-labs/flux-pro-finetuned/predictions",
                ["input": ["prompt": "TOK on stage", "finetune_id": .string(finetune), "aspect_ratio": "custom", "width": 256, "height": 320]],
                headers: ["Prefer": "wait"])
            #expect(image["status"] == "succeeded", "\(image.text)")
            #expect(image["output"]?.stringValue?.hasSuffix("/output.webp") == true)
            let unknown = try await fake.api.post(
                "/models/black-forest-labs/flux-pro-finetuned/predictions", ["input": ["prompt": "x", "finetune_id": "nope"]], headers: ["Prefer": "wait"])
            #expect(unknown["status"] == "failed")
            #expect(try await fake.api.post(path, ["destination": "farm-test/alice-pro", "input": ["input_images": .string(images), "lora_rank": 8]]).status == 422)

            // Cancel a training.
            let slow = try #require(try await fake.api.post(path, body)["id"]?.stringValue)
            let canceled = try await fake.api.post("/trainings/\(slow)/cancel")
            #expect(canceled["status"] == "canceled")
            #expect(try await fake.api.get("/trainings/\(slow)")["status"] == "canceled")
            await fake.stop()
        }
    }
}
